"""MaskedConv2D: the masks against hand-written ones, the convolution against NumPy, errors, saving."""

import keras
import numpy as np
import pytest

from keras_gen.layers import MaskedConv2D
from keras_gen.layers.masked_conv import conv_mask


def grey_mask(kernel_size, mask_type):
    return conv_mask(kernel_size, mask_type, 1, 1)[:, :, 0, 0]


def test_grey_masks_3x3():
    np.testing.assert_array_equal(grey_mask(3, "A"), [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(grey_mask(3, "B"), [[1, 1, 1], [1, 1, 0], [0, 0, 0]])


def test_grey_mask_5x5_and_rectangular():
    np.testing.assert_array_equal(
        grey_mask(5, "A"),
        [[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]],
    )
    np.testing.assert_array_equal(grey_mask((1, 3), "B"), [[1, 1, 0]])
    np.testing.assert_array_equal(grey_mask((3, 1), "A"), [[1], [0], [0]])
    np.testing.assert_array_equal(grey_mask(1, "A"), [[0]])
    np.testing.assert_array_equal(grey_mask(1, "B"), [[1]])


def test_colour_masks_at_the_centre_tap():
    # rows: input groups R, G, B; columns: output groups R, G, B
    np.testing.assert_array_equal(conv_mask(3, "A", 3, 3, 3)[1, 1], [[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(conv_mask(3, "B", 3, 3, 3)[1, 1], [[1, 1, 1], [0, 1, 1], [0, 0, 1]])
    # groups are contiguous blocks: 6 inputs (R R G G B B) to 3 outputs with mask B
    np.testing.assert_array_equal(
        conv_mask(1, "B", 6, 3, 3)[0, 0], [[1, 1, 1], [1, 1, 1], [0, 1, 1], [0, 1, 1], [0, 0, 1], [0, 0, 1]]
    )
    # off the centre every colour sees every colour: the pixel is already generated
    mask = conv_mask(3, "A", 3, 6, 3)
    assert mask[0].all() and mask[1, 0].all() and not mask[1, 2].any() and not mask[2].any()


def numpy_same_conv(x, kernel, bias):
    """A direct transcription of a stride-1 'same' cross-correlation."""
    kh, kw = kernel.shape[:2]
    padded = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    out = np.zeros(x.shape[:3] + (kernel.shape[-1],))
    for a in range(kh):
        for b in range(kw):
            window = padded[:, a : a + x.shape[1], b : b + x.shape[2]]
            out += np.einsum("nhwc,cf->nhwf", window, kernel[a, b])
    return out + bias


@pytest.mark.parametrize("kernel_size, mask_type, color", [(3, "A", 1), (5, "B", 3), ((1, 3), "B", 3), (1, "A", 3)])
def test_layer_is_a_convolution_with_the_masked_kernel(rng, kernel_size, mask_type, color):
    layer = MaskedConv2D(6, kernel_size, mask_type, color, bias_initializer="random_normal")
    x = rng.normal(size=(2, 5, 6, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(layer(x))
    kernel = keras.ops.convert_to_numpy(layer.kernel) * layer.mask
    expected = numpy_same_conv(x, kernel, keras.ops.convert_to_numpy(layer.bias))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    assert layer.compute_output_shape((2, 5, 6, 3)) == (2, 5, 6, 6)


def test_clear_errors():
    with pytest.raises(ValueError, match="odd"):
        MaskedConv2D(4, 4)
    with pytest.raises(ValueError, match="odd"):
        MaskedConv2D(4, (3, 2))
    with pytest.raises(ValueError, match="divisible by color_channels"):
        MaskedConv2D(8, 3, "A", color_channels=3)
    with pytest.raises(ValueError, match="mask_type"):
        MaskedConv2D(3, 3, "C")
    with pytest.raises(ValueError, match="input channels"):
        MaskedConv2D(3, 3, "B", color_channels=3)(np.zeros((1, 4, 4, 4), "float32"))


def test_save_and_load_round_trip(tmp_path, rng):
    inputs = keras.Input((6, 6, 3))
    h = MaskedConv2D(6, 5, "A", 3, activation="relu")(inputs)
    model = keras.Model(inputs, MaskedConv2D(3, 1, "B", 3)(h))
    path = str(tmp_path / "masked.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = rng.normal(size=(2, 6, 6, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert loaded.layers[1].get_config()["mask_type"] == "A"


@pytest.mark.parametrize("kernel_size, mask_type, color, use_bias", [(3, "A", 1, True), (5, "B", 3, False)])
def test_a_conv2d_with_the_previous_weight_layout(kernel_size, mask_type, color, use_bias):
    # the shipped checkpoints hold the kernel, then the bias, of these shapes (the layer's layout before it became a
    # Conv2D subclass); test_pretrained reproduces their check_nll through it
    layer = MaskedConv2D(6, kernel_size, mask_type, color, use_bias=use_bias)
    layer(np.zeros((1, 4, 4, 3), "float32"))
    assert isinstance(layer, keras.layers.Conv2D)
    k = layer.kernel_size[0]
    expected = [("kernel", (k, k, 3, 6))] + ([("bias", (6,))] if use_bias else [])
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == expected
    assert layer.mask.shape == (k, k, 3, 6)


@pytest.mark.parametrize("kernel_size, mask_type, color", [(5, "A", 3), ((3, 5), "B", 1), (1, "B", 3)])
def test_at_pixel_is_the_convolution_at_that_pixel(rng, kernel_size, mask_type, color):
    # what the cached samplers compute: the output at (row, column) from the padded rows above and the row itself
    layer = MaskedConv2D(6, kernel_size, mask_type, color, activation="tanh", bias_initializer="random_normal")
    x = rng.normal(size=(2, 5, 6, 3)).astype("float32")
    full = keras.ops.convert_to_numpy(layer(x))
    kh, kw = layer.kernel_size
    padded = np.pad(x, ((0, 0), (kh // 2, 0), (kw // 2, kw // 2), (0, 0)))
    for row in range(5):
        for column in range(6):
            pixel = layer.at_pixel(padded[:, row + kh // 2], column, padded, row)
            np.testing.assert_allclose(keras.ops.convert_to_numpy(pixel)[:, 0, 0], full[:, row, column], atol=1e-6)


def test_keeps_conv2d_features_and_refuses_other_strides():
    layer = MaskedConv2D(4, 3, "A", kernel_regularizer="l2", kernel_constraint="non_neg")
    layer(np.ones((1, 4, 4, 1), "float32"))
    assert len(layer.losses) == 1  # the regulariser of the (unmasked) kernel
    config = layer.get_config()
    assert (config["mask_type"], config["padding"], config["kernel_regularizer"] is not None) == ("A", "same", True)
    assert MaskedConv2D.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="strides must be"):
        MaskedConv2D(4, 3, strides=2)
    with pytest.raises(ValueError, match="dilation_rate must be"):
        MaskedConv2D(4, 3, dilation_rate=2)
