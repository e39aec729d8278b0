"""RowLSTM: equal to a step-by-step NumPy transcription of eq. (3); causal; its triangular reach."""

import keras
import numpy as np
import pytest
from causality import assert_causal, input_jacobian
from helpers import random_binary_images
from random_weights import randomise

from keras_gen.layers import RowLSTM
from keras_gen.models import PixelRNN


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def row_lstm_reference(x, is_kernel, is_bias, ss_kernel):
    """Eq. (3) of the paper, one row and one pixel at a time, in float64.

    ``is_kernel`` (1, k, C, 4h) is the k×1 input-to-state kernel along the row, of which
    mask B keeps the taps at and left of the centre; ``ss_kernel`` (k, h, 4h) is the
    unmasked state-to-state kernel; the gates are laid out as [o, f, i, g].
    """
    batch, height, width, _ = x.shape
    k, units = ss_kernel.shape[0], ss_kernel.shape[1]
    half = k // 2
    h_prev = np.zeros((batch, width, units))
    c_prev = np.zeros((batch, width, units))
    out = np.zeros((batch, height, width, units))
    for i in range(height):
        h_row, c_row = np.zeros_like(h_prev), np.zeros_like(c_prev)
        for j in range(width):
            pre = np.tile(is_bias, (batch, 1)).astype("float64")
            for t in range(half + 1):  # mask B: taps j - half .. j of row i
                col = j + t - half
                if 0 <= col < width:
                    pre += x[:, i, col] @ is_kernel[0, t]
            for t in range(k):  # taps j - half .. j + half of row i - 1
                col = j + t - half
                if 0 <= col < width:
                    pre += h_prev[:, col] @ ss_kernel[t]
            o, f, gate_i, g = np.split(pre, 4, axis=-1)
            c_row[:, j] = sigmoid(f) * c_prev[:, j] + sigmoid(gate_i) * np.tanh(g)
            h_row[:, j] = sigmoid(o) * np.tanh(c_row[:, j])
        out[:, i] = h_row
        h_prev, c_prev = h_row, c_row
    return out


@pytest.mark.parametrize("kernel_size", [3, 5])
def test_row_lstm_equals_the_step_by_step_reference(rng, kernel_size):
    x = rng.normal(size=(2, 4, 6, 3)).astype("float32")
    layer = RowLSTM(4, kernel_size=kernel_size)
    layer.build(x.shape)
    randomise(layer, rng, scale=0.5)
    got = keras.ops.convert_to_numpy(layer(x))
    want = row_lstm_reference(
        x.astype("float64"),
        keras.ops.convert_to_numpy(layer.input_to_state.kernel),
        keras.ops.convert_to_numpy(layer.input_to_state.bias),
        keras.ops.convert_to_numpy(layer.state_to_state),
    )
    np.testing.assert_allclose(got, want, atol=2e-5)


def row_lstm_reach(height, width):
    """Which pixels a depth-1 PixelRNN with a 3×3 mask-A input and a k = 3 Row LSTM can see.

    Brute force over the connections: the mask-A features F(i, j) read the three pixels
    above and the one to the left; the state h(i, j) reads F(i, j-1..j) (mask B) and
    h(i-1, j-1..j+1); the residual block adds F(i, j) to h(i, j).
    """
    features = np.zeros((height, width, height, width), bool)
    for i in range(height):
        for j in range(width):
            for p, q in [(i - 1, j - 1), (i - 1, j), (i - 1, j + 1), (i, j - 1)]:
                if 0 <= p < height and 0 <= q < width:
                    features[i, j, p, q] = True
    state = np.zeros_like(features)
    for i in range(height):
        for j in range(width):
            for q in (j - 1, j):
                if q >= 0:
                    state[i, j] |= features[i, q]
            for q in (j - 1, j, j + 1):
                if i > 0 and 0 <= q < width:
                    state[i, j] |= state[i - 1, q]
    return features | state


def test_depth_one_row_lstm_sees_a_triangle_and_misses_the_far_corners(rng):
    height, width = 6, 9
    model = PixelRNN((height, width, 1), layer_type="row_lstm", num_layers=1, units=4, input_kernel_size=3)
    randomise(model, rng)
    jacobian = input_jacobian(model, random_binary_images(rng, 2, (height, width, 1)))[:, :, 0, :, :, 0]
    reach = row_lstm_reach(height, width)
    np.testing.assert_array_equal(jacobian > 0, reach)
    # the bottom-left output cannot see the top-right corner, nor the bottom-right one the top-left
    assert jacobian[height - 1, 0, 0, width - 1] == 0 and jacobian[height - 1, width - 1, 0, 0] == 0


@pytest.mark.parametrize("num_layers", [1, 2])
def test_row_lstm_pixelrnn_is_causal_grey(rng, num_layers):
    model = PixelRNN((5, 5, 1), layer_type="row_lstm", num_layers=num_layers, units=4)
    randomise(model, rng)
    assert_causal(model, random_binary_images(rng, 2, (5, 5, 1)))


def test_row_lstm_pixelrnn_is_causal_colour(rng):
    model = PixelRNN((4, 4, 3), layer_type="row_lstm", num_layers=2, units=6, output="categorical")
    randomise(model, rng)
    assert_causal(model, rng.integers(0, 256, (2, 4, 4, 3)))


def test_config_round_trip_gives_the_same_outputs(rng):
    x = rng.normal(size=(2, 4, 5, 3)).astype("float32")
    layer = RowLSTM(6, kernel_size=5, color_channels=3)
    out = keras.ops.convert_to_numpy(layer(x))
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    clone.set_weights(layer.get_weights())
    assert clone.get_config() == layer.get_config()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(x)), out)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="kernel_size must be an odd integer >= 3, got 4"):
        RowLSTM(4, kernel_size=4)
    with pytest.raises(ValueError, match="divisible by 3"):
        RowLSTM(4, color_channels=3)
    with pytest.raises(ValueError, match=r"\(batch, height, width, channels\)"):
        RowLSTM(4)(np.zeros((2, 5, 3), "float32"))
