"""The shared argument checks: whole numbers and kernels with a centre tap."""

import numpy as np
import pytest

from keras_gen.validation import check_int, check_kernel_size


@pytest.mark.parametrize("value", [3, 3.0, np.int64(3)])
def test_check_int_accepts_whole_numbers(value):
    result = check_int("units", value)
    assert result == 3 and type(result) is int


@pytest.mark.parametrize(
    ("value", "minimum", "message"),
    [
        (0, 1, "units must be a positive integer, got 0"),
        (-1, 0, "units must be a non-negative integer"),
        (2, 3, "units must be an integer >= 3"),
        (2.5, 1, "positive integer, got 2.5"),
        (None, 1, "positive integer, got None"),
        ("four", 1, "positive integer, got 'four'"),
    ],
)
def test_check_int_refuses(value, minimum, message):
    with pytest.raises(ValueError, match=message):
        check_int("units", value, minimum)


def test_check_kernel_size():
    assert check_kernel_size(3) == (3, 3)
    assert check_kernel_size((1, 5)) == (1, 5)
    assert check_kernel_size(np.int32(7), square=True) == 7
    for bad in (2, 0, (3, 4), (3, 3, 3), "3", None, 3.5):
        with pytest.raises(ValueError, match="kernel_size must be an odd positive integer"):
            check_kernel_size(bad)
    with pytest.raises(ValueError, match="width must be one odd positive integer n"):
        check_kernel_size((3, 5), "width", square=True)
