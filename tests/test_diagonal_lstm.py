"""DiagonalLSTM / DiagonalBiLSTM: equal to a raster-order NumPy recurrence; causal; see (almost) the whole past."""

import keras
import numpy as np
import pytest
from causality import assert_causal, input_jacobian
from helpers import random_binary_images
from random_weights import randomise

from keras_gen.layers import DiagonalBiLSTM, DiagonalLSTM
from keras_gen.layers import diagonal_lstm as diagonal_lstm_module
from keras_gen.models import PixelRNN


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def diagonal_lstm_reference(x, is_kernel, is_bias, ss_kernel, right_to_left=False):
    """The Diagonal LSTM written in image coordinates, pixel by pixel, without any skewing.

    State (i, j) reads the state above, (i-1, j), through tap 0 of the 2×1 kernel and
    the state beside it, (i, j-1) (or (i, j+1) from the right), through tap 1; its
    cell carries on from the same neighbour beside it. States outside the image are 0.
    """
    batch, height, width, _ = x.shape
    units = ss_kernel.shape[1]
    h = np.zeros((batch, height + 1, width + 2, units))  # one zero row on top, a zero column each side
    c = np.zeros_like(h)
    columns = range(width - 1, -1, -1) if right_to_left else range(width)
    step = 1 if right_to_left else -1  # where the neighbour beside sits
    for i in range(height):
        for j in columns:
            pre = x[:, i, j] @ is_kernel[0, 0] + is_bias
            pre = pre + h[:, i, j + 1] @ ss_kernel[0] + h[:, i + 1, j + 1 + step] @ ss_kernel[1]
            o, f, gate_i, g = np.split(pre, 4, axis=-1)
            c[:, i + 1, j + 1] = sigmoid(f) * c[:, i + 1, j + 1 + step] + sigmoid(gate_i) * np.tanh(g)
            h[:, i + 1, j + 1] = sigmoid(o) * np.tanh(c[:, i + 1, j + 1])
    return h[:, 1:, 1:-1]


def weights_of(lstm):
    return [
        keras.ops.convert_to_numpy(w).astype("float64")
        for w in (lstm.input_to_state.kernel, lstm.input_to_state.bias, lstm.state_to_state)
    ]


def run_with_random_weights(layer, shape, rng):
    """A random input of ``shape``, and the layer's output on it after randomising its weights."""
    x = rng.normal(size=shape).astype("float32")
    layer.build(x.shape)
    randomise(layer, rng, scale=0.5)
    return x.astype("float64"), keras.ops.convert_to_numpy(layer(x))


def test_diagonal_lstm_equals_the_raster_order_reference(rng):
    layer = DiagonalLSTM(4)
    x64, got = run_with_random_weights(layer, (2, 4, 6, 3), rng)
    np.testing.assert_allclose(got, diagonal_lstm_reference(x64, *weights_of(layer)), atol=2e-5)


def test_diagonal_bilstm_adds_the_mirrored_direction_one_row_down(rng):
    layer = DiagonalBiLSTM(3)
    x64, got = run_with_random_weights(layer, (2, 5, 4, 2), rng)
    left = diagonal_lstm_reference(x64, *weights_of(layer.left_to_right))
    right = diagonal_lstm_reference(x64, *weights_of(layer.right_to_left), right_to_left=True)
    want = left.copy()
    want[:, 1:] += right[:, :-1]
    np.testing.assert_allclose(got, want, atol=2e-5)


def earlier_pixels(height, width):
    """``earlier[i, j, p, q]``: pixel (p, q) comes before pixel (i, j) in raster order."""
    raster = np.arange(height * width).reshape(height, width)
    return raster[None, None, :, :] < raster[:, :, None, None]


def diagonal_bilstm_reach(height, width, radius):
    """What one Diagonal BiLSTM layer behind a mask-A convolution of the given radius can see.

    Every pixel before (i, j) in raster order, but one: the last pixel of the row
    above, (i-1, W-1). Row i-1 of any feature map holds only pixels before its own
    position (the mirrored direction's states there are causal themselves before
    the shift), so that pixel first appears in row i, in the mask-A features at
    columns ≥ W-1-radius, which the left-to-right direction reads only from
    (i, j) with j ≥ W-1-radius.
    """
    reach = earlier_pixels(height, width)
    for i in range(1, height):
        reach[i, : width - 1 - radius, i - 1, width - 1] = False
    return reach


def test_diagonal_bilstm_output_depends_on_the_whole_past_but_one_pixel(rng):
    """Receptive field of one layer, exactly: the whole past except (i-1, W-1) far to the left of it."""
    height, width = 5, 6
    model = PixelRNN((height, width, 1), layer_type="diagonal_bilstm", num_layers=1, units=4, input_kernel_size=3)
    randomise(model, rng)
    jacobian = input_jacobian(model, random_binary_images(rng, 4, (height, width, 1)))[:, :, 0, :, :, 0]
    np.testing.assert_array_equal(jacobian > 0, diagonal_bilstm_reach(height, width, radius=1))
    # from the end of a row the layer sees everything before it, the last pixel of the row above included
    assert (jacobian[height - 1, width - 1] > 0).sum() == height * width - 1


def test_deeper_colour_diagonal_bilstm_is_causal(rng):
    model = PixelRNN((3, 4, 3), layer_type="diagonal_bilstm", num_layers=2, units=6, output="categorical")
    randomise(model, rng)
    assert_causal(model, rng.integers(0, 256, (4, 3, 4, 3)))


def test_the_right_to_left_direction_alone_is_causal_and_reaches_the_upper_right(rng):
    height, width = 4, 5
    model = PixelRNN((height, width, 1), layer_type="diagonal_bilstm", num_layers=2, units=4, input_kernel_size=3)
    randomise(model, rng)
    for block in model.blocks:  # silence the left-to-right direction: its states become exactly 0
        for weight in block.lstm.left_to_right.weights:
            weight.assign(np.zeros(weight.shape, "float32"))
    jacobian = input_jacobian(model, random_binary_images(rng, 4, (height, width, 1)))[:, :, 0, :, :, 0]
    assert not (jacobian[~earlier_pixels(height, width)] > 0).any()  # nothing at or after (i, j)
    assert jacobian[height - 1, 0, 0, width - 1] > 0  # only the mirrored direction can see this far


def test_causality_check_catches_a_missing_shift(rng, monkeypatch):
    """Without the one-row shift the mirrored direction sees the rest of the current row."""
    monkeypatch.setattr(diagonal_lstm_module, "down_shift", lambda x: x)
    model = PixelRNN((3, 4, 1), layer_type="diagonal_bilstm", num_layers=1, units=4)
    randomise(model, rng)
    with pytest.raises(AssertionError, match="depends on inputs at or after it"):
        assert_causal(model, random_binary_images(rng, 2, (3, 4, 1)))


def test_config_round_trip_gives_the_same_outputs(rng):
    x = rng.normal(size=(2, 4, 5, 3)).astype("float32")
    condition = rng.normal(size=(2, 4, 5, 2)).astype("float32")
    layer = DiagonalBiLSTM(6, color_channels=3, condition_channels=2)
    out = keras.ops.convert_to_numpy(layer(x, condition=condition))
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    clone.set_weights(layer.get_weights())
    assert clone.get_config() == layer.get_config()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(x, condition=condition)), out)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="divisible by 3"):
        DiagonalBiLSTM(4, color_channels=3)
    with pytest.raises(ValueError, match=r"\(batch, height, width, channels\)"):
        DiagonalLSTM(4)(np.zeros((2, 5, 3), "float32"))
    with pytest.raises(ValueError, match="condition map of shape"):
        DiagonalBiLSTM(4, condition_channels=2)(np.zeros((1, 3, 3, 2), "float32"))
