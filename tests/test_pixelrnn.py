"""PixelRNN and MultiScalePixelRNN: normalised by brute force, causal, sampling, saving, errors."""

import itertools

import keras
import numpy as np
import pytest
from cached_sampling import assert_cached_equals_reference, assert_cached_params_equal_the_network, randomise_biases
from causality import assert_causal
from helpers import random_binary_images
from random_weights import randomise

from keras_gen.models import MultiScalePixelRNN, PixelRNN


def all_binary_images(height, width):
    """Every binary image of the given size, shape (2^(H·W), H, W, 1)."""
    pixels = np.array(list(itertools.product((0.0, 1.0), repeat=height * width)), "float32")
    return pixels.reshape(-1, height, width, 1)


@pytest.mark.parametrize("layer_type", ["row_lstm", "diagonal_bilstm"])
def test_probabilities_of_all_images_sum_to_one_and_sampling_follows_them(rng, layer_type):
    """Brute force over all 2^6 binary 2×3 images: a proper distribution, and samples drawn from it."""
    model = PixelRNN((2, 3, 1), layer_type=layer_type, num_layers=2, units=4, skip=True)
    randomise(model, rng, scale=1.0)
    images = all_binary_images(2, 3)
    probabilities = np.exp(model.log_prob(images))
    np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=1e-5)
    samples = model.sample(6000, seed=3, batch_size=6000)
    codes = samples.reshape(len(samples), -1) @ (2 ** np.arange(6)[::-1])
    frequencies = np.bincount(codes.astype(int), minlength=64) / len(samples)
    # each frequency is within 4.5 standard errors of its probability
    standard_errors = np.sqrt(probabilities * (1 - probabilities) / len(samples))
    assert np.all(np.abs(frequencies - probabilities) <= 4.5 * standard_errors + 1e-3)


@pytest.mark.parametrize("layer_type, residual, skip", [("row_lstm", False, True), ("diagonal_bilstm", False, False)])
def test_variants_without_residual_or_with_skip_connections_are_causal(rng, layer_type, residual, skip):
    model = PixelRNN((3, 4, 1), layer_type=layer_type, num_layers=2, units=4, residual=residual, skip=skip)
    randomise(model, rng)
    assert_causal(model, random_binary_images(rng, 4, (3, 4, 1)))


def small_multiscale(rng, layer_type="diagonal_bilstm"):
    model = MultiScalePixelRNN((4, 4, 1), factor=2, layer_type=layer_type, num_layers=1, units=4)
    randomise(model, rng, scale=0.5)
    return model


def test_conditional_network_is_causal_in_the_image_and_uses_the_small_image(rng):
    model = MultiScalePixelRNN((2, 4, 1), factor=2, layer_type="row_lstm", num_layers=1, units=4)
    randomise(model, rng, scale=0.5)
    conditional = model.conditional_model
    x = random_binary_images(rng, 4, (2, 4, 1))
    small = random_binary_images(rng, 4, (1, 2, 1))
    assert_causal(conditional, x, {"small_image": small})
    other = conditional.log_prob(x, small_image=1.0 - small)
    assert np.all(np.abs(conditional.log_prob(x, small_image=small) - other) > 1e-4)


def test_conditional_network_is_a_distribution_over_the_other_pixels_for_every_small_image(rng):
    """Brute force: for each small image s, p(x | s) sums to 1 over the large images whose subsampled pixels
    are s (those pixels are given, not modelled)."""
    model = MultiScalePixelRNN((2, 4, 1), factor=2, layer_type="row_lstm", num_layers=1, units=4)
    randomise(model, rng, scale=1.0)
    conditional = model.conditional_model
    assert conditional.given_subpixels()[..., 0].tolist() == [[True, False, True, False], [False] * 4]
    images = all_binary_images(2, 4)
    for small in all_binary_images(1, 2):
        consistent = images[np.all(images[:, ::2, ::2] == small, axis=(1, 2, 3))]
        smalls = np.repeat(small[None], len(consistent), axis=0)
        probabilities = np.exp(conditional.log_prob(consistent, small_image=smalls))
        np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=1e-5)


@pytest.mark.parametrize("layer_type", ["row_lstm", "diagonal_bilstm"])
def test_multiscale_probabilities_of_all_images_sum_to_one(rng, layer_type):
    """The two stages make one exact distribution: brute force over all 2^8 binary 2×4 images."""
    model = MultiScalePixelRNN((2, 4, 1), factor=2, layer_type=layer_type, num_layers=1, units=4)
    randomise(model, rng, scale=1.0)
    np.testing.assert_allclose(np.exp(model.log_prob(all_binary_images(2, 4))).sum(), 1.0, rtol=1e-5)


def test_multiscale_log_prob_is_the_sum_of_the_two_stages(rng):
    model = small_multiscale(rng, "row_lstm")
    x = random_binary_images(rng, 6, (4, 4, 1))
    small = x[:, ::2, ::2]
    expected = model.small_model.log_prob(small) + model.conditional_model.log_prob(x, small_image=small)
    np.testing.assert_allclose(model.log_prob(x), expected, rtol=1e-5)
    model.compile(optimizer="adam")
    logs = model.evaluate(x, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["small_nll"], -model.small_model.log_prob(small).mean(), rtol=1e-4)
    conditional = model.conditional_model.log_prob(x, small_image=small)
    np.testing.assert_allclose(logs["conditional_nll"], -conditional.mean(), rtol=1e-4)
    np.testing.assert_allclose(logs["nll"], -expected.mean(), rtol=1e-4)


def test_multiscale_sampling_and_completion(rng):
    model = small_multiscale(rng)
    small, images = model.sample_stages(5, seed=7)
    assert images.shape == (5, 4, 4, 1) and small.shape == (5, 2, 2, 1)
    assert set(np.unique(images)) <= {0.0, 1.0}
    np.testing.assert_array_equal(model.sample(5, seed=7), images)
    np.testing.assert_array_equal(images[:, ::2, ::2], small)  # the large images keep their small image
    x = random_binary_images(rng, 5, (4, 4, 1))
    small, completed = model.complete_stages(x, 1, seed=2)
    np.testing.assert_array_equal(model.complete(x, 1, seed=2), completed)
    np.testing.assert_array_equal(completed[:, :1], x[:, :1])
    np.testing.assert_array_equal(small[:, :1], x[:, :1, ::2])  # small row 0 comes from the known row 0
    np.testing.assert_array_equal(completed[:, ::2, ::2], small)


def test_pixelrnn_sample_and_complete_are_seeded_and_keep_the_known_rows(rng):
    model = PixelRNN((5, 4, 1), layer_type="row_lstm", num_layers=1, units=4)
    first = model.sample(6, seed=11)
    np.testing.assert_array_equal(model.sample(6, seed=11), first)
    assert set(np.unique(first)) <= {0.0, 1.0} and not np.array_equal(model.sample(6, seed=12), first)
    x = random_binary_images(rng, 6, (5, 4, 1))
    completed = model.complete(x, 3, seed=1)
    np.testing.assert_array_equal(completed[:, :3], x[:, :3])


@pytest.mark.parametrize("layer_type", ["row_lstm", "diagonal_bilstm"])
@pytest.mark.parametrize(
    "image_shape, output, kernel_size, input_kernel_size, residual, skip",
    [
        ((4, 5, 1), "bernoulli", 3, 7, True, False),
        ((5, 4, 1), "bernoulli", 5, 3, False, True),
        ((4, 4, 1), "categorical", 3, 1, True, True),
        ((3, 4, 3), "bernoulli", 3, 5, True, False),
        ((4, 3, 3), "categorical", 5, 3, False, True),
    ],
)
def test_cached_sampler_equals_the_reference(
    rng, layer_type, image_shape, output, kernel_size, input_kernel_size, residual, skip
):
    """Grey and colour (R → G → B unit groups), both heads, k = 3 and 5 (Row LSTM), a 1×1 first layer, residual
    and skip: the Row LSTM's rows, and the Diagonal BiLSTM's left-to-right states per pixel with its right-to-left
    ones once per finished row, give the reference's images and parameters."""
    model = PixelRNN(
        image_shape,
        layer_type=layer_type,
        num_layers=2,
        units=6 if image_shape[2] == 3 else 4,
        kernel_size=kernel_size if layer_type == "row_lstm" else 3,  # the Diagonal BiLSTM has no row kernel to size
        input_kernel_size=input_kernel_size,
        output=output,
        residual=residual,
        skip=skip,
    )
    randomise(model, rng, scale=0.5)  # large enough kernels that every state (h, c) sways the draws
    randomise_biases(model, rng)
    assert_cached_equals_reference(model, n=4, known_rows=(0, 2, image_shape[0]))
    images = (
        random_binary_images(rng, 2, image_shape) if output == "bernoulli" else rng.integers(0, 256, (2,) + image_shape)
    )
    assert_cached_params_equal_the_network(model, images)


def test_row_lstm_cached_sampler_with_a_small_image_equals_the_reference(rng):
    """The conditional network of the multi-scale PixelRNN: the condition's terms are cached once per image."""
    model = PixelRNN(
        (4, 4, 3), layer_type="row_lstm", num_layers=2, units=6, output="categorical", small_image_shape=(2, 2, 3)
    )
    randomise(model, rng, scale=0.5)
    randomise_biases(model, rng)
    small = rng.integers(0, 256, (3, 2, 2, 3))
    assert_cached_equals_reference(model, known_rows=(0, 2, 4), small_image=small)
    assert_cached_params_equal_the_network(model, rng.integers(0, 256, (3, 4, 4, 3)), small_image=small)
    multiscale = small_multiscale(rng, "row_lstm")
    assert multiscale.small_model.has_cached_sampler and multiscale.conditional_model.has_cached_sampler
    np.testing.assert_array_equal(multiscale.sample(3, seed=5), multiscale.sample(3, seed=5, cached=False))
    x = random_binary_images(rng, 3, (4, 4, 1))
    np.testing.assert_array_equal(multiscale.complete(x, 1, seed=2), multiscale.complete(x, 1, seed=2, cached=False))


def test_diagonal_bilstm_cached_sampler_with_a_small_image_equals_the_reference(rng):
    model = PixelRNN(
        (4, 4, 1), layer_type="diagonal_bilstm", num_layers=2, units=4, small_image_shape=(2, 2, 1), skip=True
    )
    randomise(model, rng, scale=0.5)
    randomise_biases(model, rng)
    small = random_binary_images(rng, 3, (2, 2, 1))
    assert_cached_equals_reference(model, known_rows=(0, 2, 4), small_image=small)
    assert_cached_params_equal_the_network(model, random_binary_images(rng, 3, (4, 4, 1)), small_image=small)


def test_save_and_load_round_trip(tmp_path, rng):
    model = PixelRNN((4, 4, 3), layer_type="diagonal_bilstm", num_layers=2, units=6, output="categorical", skip=True)
    randomise(model, rng)
    x = rng.integers(0, 256, (3, 4, 4, 3))
    model.save(tmp_path / "pixelrnn.keras")
    loaded = keras.saving.load_model(tmp_path / "pixelrnn.keras")
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.log_prob(x), model.log_prob(x))
    np.testing.assert_array_equal(loaded.sample(2, seed=4), model.sample(2, seed=4))


def test_multiscale_save_and_load_round_trip(tmp_path, rng):
    model = small_multiscale(rng, "row_lstm")
    x = random_binary_images(rng, 3, (4, 4, 1))
    model.save(tmp_path / "multiscale.keras")
    loaded = keras.saving.load_model(tmp_path / "multiscale.keras")
    np.testing.assert_array_equal(loaded.log_prob(x), model.log_prob(x))


def test_bad_arguments_and_data_raise_clear_errors(rng):
    with pytest.raises(ValueError, match="layer_type must be one of"):
        PixelRNN((4, 4, 1), layer_type="grid_lstm")
    with pytest.raises(ValueError, match="multiple of 3"):
        PixelRNN((4, 4, 3), units=4, output="categorical")
    with pytest.raises(ValueError, match="num_layers must be a positive integer"):
        PixelRNN((4, 4, 1), num_layers=0)
    with pytest.raises(ValueError, match="divide"):
        PixelRNN((4, 4, 1), small_image_shape=(3, 3, 1))
    with pytest.raises(ValueError, match="factor must be"):
        MultiScalePixelRNN((6, 6, 1), factor=4)
    model = PixelRNN((4, 4, 1), layer_type="row_lstm", num_layers=1, units=4)
    with pytest.raises(ValueError, match=r"shape \(batch, 4, 4, 1\)"):
        model.log_prob(np.zeros((2, 5, 4, 1), "float32"))
    with pytest.raises(ValueError, match="binary data"):
        model.log_prob(np.full((2, 4, 4, 1), 0.5, "float32"))


def test_skip_connections_are_learned_one_by_one_convolutions(rng):
    """skip=True: the output layers read sum_k skip_k(block_k output), a mask-B 1x1 convolution per block."""
    plain = PixelRNN((3, 4, 1), layer_type="row_lstm", num_layers=2, units=4)
    model = PixelRNN((3, 4, 1), layer_type="row_lstm", num_layers=2, units=4, skip=True)
    assert model.count_params() - plain.count_params() == 2 * (8 * 8 + 8)  # two 1x1 convolutions, 8 -> 8 maps
    randomise(model, rng, scale=0.5)
    x = random_binary_images(rng, 2, (3, 4, 1))
    h = model.input_conv(model.scale_image(x))
    expected = 0.0
    for block, skip in zip(model.blocks, model.skip_convs, strict=True):
        h = block(h)
        expected = expected + keras.ops.convert_to_numpy(skip(h))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.hidden_features(x)), expected, rtol=1e-5, atol=1e-6)
