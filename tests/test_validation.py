"""The shared argument checks: whole numbers and kernels with a centre tap, applied by every layer and model."""

import keras
import numpy as np
import pytest

from keras_gen import layers, models
from keras_gen.validation import check_bool, check_float, check_int, check_int_pair, check_kernel_size, check_known_rows


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


def test_check_int_odd():
    assert check_int("kernel_size", 5.0, 3, odd=True) == 5
    for bad in (1, 4, 4.0, 5.5):
        with pytest.raises(ValueError, match="kernel_size must be an odd integer >= 3"):
            check_int("kernel_size", bad, 3, odd=True)
    with pytest.raises(ValueError, match="n must be an odd positive integer"):
        check_int("n", 2, odd=True)


def test_check_bool_int_pair_and_known_rows():
    assert check_bool("skip", np.bool_(True)) is True
    for bad in ("no", 0, 1, None):
        with pytest.raises(ValueError, match="skip must be True or False"):
            check_bool("skip", bad)
    assert check_int_pair("kernel_size", (2, 3.0)) == (2, 3)
    for bad in (3, (2,), (2, 2.5), (0, 3), "ab"):
        with pytest.raises(ValueError, match="kernel_size must be a pair"):
            check_int_pair("kernel_size", bad)
    assert check_known_rows(np.int64(2), 4) == 2
    for bad in (-1, 5, 1.5, None):
        with pytest.raises(ValueError, match="known_rows must be an integer in 0..4"):
            check_known_rows(bad, 4)


def test_check_float():
    assert check_float("free_nats", np.float32(2.5), minimum=0.0) == 2.5
    assert isinstance(check_float("free_nats", 3), float)
    for bad in ("1", None, True, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="free_nats must be a"):
            check_float("free_nats", bad)
    with pytest.raises(ValueError, match="of at least 0"):
        check_float("free_nats", -1.0, minimum=0.0)


# every integer (and flag) argument goes through the shared checks: nothing is truncated silently
NOT_WHOLE = [
    (models.PixelCNN, dict(image_shape=(4, 4, 1), filters=8.7, num_layers=1), "filters"),
    (models.PixelCNN, dict(image_shape=(4, 4, 1), filters=4, num_layers=1, residual="no"), "residual"),
    (models.PixelRNN, dict(image_shape=(4, 4, 1), units=4.5, num_layers=1), "units"),
    (models.PixelRNN, dict(image_shape=(4, 4, 1), units=4, num_layers=1, kernel_size=3.5), "kernel_size"),
    (models.PixelRNN, dict(image_shape=(4, 4, 1), units=4, num_layers=1, skip="yes"), "skip"),
    (models.MultiScalePixelRNN, dict(image_shape=(4, 4, 1), factor=2.5, units=4), "factor"),
    (models.MultiScalePixelRNN, dict(image_shape=(4, 4, 1), factor=2, units=4.2, num_layers=1), "units"),
    (models.VAE, dict(image_shape=(4, 4, 1), hidden_units=(8.5,)), "hidden_units"),
    (models.PixelVAE, dict(image_shape=(8, 8, 1), map_channels=2.5), "map_channels"),
    (models.DRAW, dict(image_shape=(4, 4, 1), T=2, attention="yes"), "attention"),
    (layers.MaskedConv2D, dict(filters=4, kernel_size=3, mask_type="C"), "mask_type"),
    (layers.MaskedConv2D, dict(filters=4.5, kernel_size=3), "filters"),
    (layers.MaskedConv2D, dict(filters=4, kernel_size=3, color_channels=1.5), "color_channels"),
    (layers.ShiftedConv2D, dict(filters=4.5), "filters"),
    (layers.ShiftedConv2D, dict(filters=4, strides=1.5), "strides"),
    (layers.ShiftedConv2D, dict(filters=4, kernel_size=(2, 2.5)), "kernel_size"),
    (layers.ShiftedConv2DTranspose, dict(filters=4, kernel_size=(2, 3), strides=0), "strides"),
    (layers.GatedResNetBlock, dict(filters=3.3), "filters"),
    (layers.RowLSTM, dict(units=4, kernel_size=1), "kernel_size"),
    (layers.RowLSTM, dict(units=4, kernel_size=4.0), "kernel_size"),
    (layers.RowLSTM, dict(units=4, color_channels=1.5), "color_channels"),
    (layers.DiagonalLSTM, dict(units=4, condition_channels=2.5), "condition_channels"),
    (layers.ResidualLSTMBlock, dict(layer_type="row_lstm", units=4.5), "units"),
    (layers.ResidualLSTMBlock, dict(layer_type="row_lstm", units=4, residual="no"), "residual"),
]


@pytest.mark.parametrize(("cls", "kwargs", "argument"), NOT_WHOLE, ids=[f"{c.__name__}-{a}" for c, _, a in NOT_WHOLE])
def test_bad_arguments_raise_instead_of_truncating(cls, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        cls(**kwargs)


def test_pixelcnn_filters_are_not_truncated():
    with pytest.raises(ValueError, match="filters must be a positive integer, got 8.7"):
        models.PixelCNN(filters=8.7)
    assert models.PixelCNN(image_shape=(4, 4, 1), filters=8.0, num_layers=1).filters == 8


def test_gaussian_sample_shapes_honour_num_samples():
    layer = layers.GaussianSample(seed=0)
    mean = keras.KerasTensor((None, 3))
    assert layer.compute_output_shape([(None, 3), (None, 3)]) == (None, 3)
    assert layer.compute_output_shape([(None, 3), (None, 3)], num_samples=5) == (None, 5, 3)
    assert layer([mean, mean]).shape == (None, 3)
    assert layer([mean, mean], num_samples=5).shape == (None, 5, 3)
    eager = layer([np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")], num_samples=5)
    assert tuple(eager.shape) == (2, 5, 3)
    with pytest.raises(ValueError, match="num_samples must be a positive integer"):
        layer([np.zeros((2, 3), "float32")] * 2, num_samples=2.5)
