"""skew / unskew: the paper's shapes, the offsets pixel by pixel, and that they are inverse."""

import numpy as np
import pytest
from keras import ops

from keras_gen.ops import skew, unskew


def skew_reference(x):
    """Row i shifted right by i, written as a loop over rows."""
    batch, height, width, channels = x.shape
    out = np.zeros((batch, height, width + height - 1, channels), x.dtype)
    for i in range(height):
        out[:, i, i : i + width] = x[:, i]
    return out


@pytest.mark.parametrize("height,width", [(5, 5), (28, 28), (3, 7), (6, 2), (1, 4)])
def test_skew_matches_the_row_offsets(rng, height, width):
    x = rng.normal(size=(2, height, width, 3)).astype("float32")
    skewed = ops.convert_to_numpy(skew(x))
    np.testing.assert_array_equal(skewed, skew_reference(x))


def test_skewed_shape_is_n_by_2n_minus_1_for_square_images(rng):
    x = rng.normal(size=(4, 8, 8, 2)).astype("float32")
    assert tuple(skew(x).shape) == (4, 8, 15, 2)


def test_each_diagonal_becomes_a_column():
    n = 4
    x = np.zeros((1, n, n, 1), "float32")
    for i in range(n):
        for j in range(n):
            x[0, i, j, 0] = i + j  # label every pixel with the index of its diagonal
    skewed = ops.convert_to_numpy(skew(x))[0, :, :, 0]
    # pixel (i, j) sits in column i + j, so column k holds the pixels with i + j = k
    for k in range(2 * n - 1):
        rows = [i for i in range(n) if 0 <= k - i < n]
        np.testing.assert_array_equal(skewed[rows, k], k)


@pytest.mark.parametrize("height,width", [(5, 5), (3, 7), (6, 2)])
def test_unskew_inverts_skew(rng, height, width):
    x = rng.normal(size=(3, height, width, 2)).astype("float32")
    restored = ops.convert_to_numpy(unskew(skew(x), width=width))
    np.testing.assert_array_equal(restored, x)


def test_unskew_reads_the_shifted_positions(rng):
    skewed = rng.normal(size=(1, 4, 7, 1)).astype("float32")
    out = ops.convert_to_numpy(unskew(skewed))
    for i in range(4):
        np.testing.assert_array_equal(out[0, i], skewed[0, i, i : i + 4])


def test_bad_shapes_raise_clear_errors():
    with pytest.raises(ValueError, match=r"\(batch, height, width, channels\)"):
        skew(np.zeros((4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="W \\+ H - 1 = 7"):
        unskew(np.zeros((1, 4, 6, 1), "float32"))
