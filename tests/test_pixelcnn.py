"""PixelCNN: causality by gradients for every head, grey and colour; saving; errors."""

import keras
import numpy as np
import pytest
from cached_sampling import assert_cached_equals_reference, randomise_biases
from causality import assert_causal, input_jacobian
from helpers import random_binary_images

from keras_gen.models import PixelCNN


@pytest.mark.parametrize(
    "image_shape, output, input_kernel_size, kernel_size, residual",
    [
        ((5, 5, 1), "bernoulli", 7, 3, True),
        ((5, 4, 1), "bernoulli", 3, 5, False),
        ((4, 5, 3), "bernoulli", 5, 3, True),
        ((4, 4, 1), "categorical", 5, (3, 5), True),
        ((4, 4, 3), "categorical", 3, 3, False),
        ((4, 5, 3), "categorical", 7, 5, True),
        ((4, 5, 3), "logistic_mixture", 5, 3, True),  # a whole pixel per step: no colour groups
    ],
)
def test_pixelcnn_is_causal(rng, image_shape, output, input_kernel_size, kernel_size, residual):
    model = PixelCNN(
        image_shape=image_shape,
        filters=24,
        num_layers=2,
        kernel_size=kernel_size,
        input_kernel_size=input_kernel_size,
        output=output,
        residual=residual,
    )
    randomise_biases(model, rng, scale=0.1)
    x = (
        random_binary_images(rng, 8, image_shape, p=0.5)
        if output == "bernoulli"
        else rng.integers(0, 256, (8,) + image_shape)
    )
    assert_causal(model, x)


def test_receptive_field_is_the_window_the_sampler_assumes():
    model = PixelCNN(image_shape=(12, 13, 1), filters=8, num_layers=3, kernel_size=3, input_kernel_size=5)
    assert model.rows_above == model.columns_around == 2 + 3
    # positive weights: no ReLU is ever off, so every structural dependence shows
    for weight in model.weights:
        weight.assign(np.full(weight.shape, 0.1, "float32"))
    jacobian = input_jacobian(model, np.ones((1, 12, 13, 1), "float32"))[11, 6, 0, :, :, 0]
    rows, columns = np.nonzero(jacobian)
    assert rows.min() == 11 - model.rows_above and rows.max() == 11
    assert columns.min() == 6 - model.columns_around and columns.max() == 6 + model.columns_around
    assert not jacobian[11, 6:].any()


def test_save_and_load_round_trip(tmp_path, rng):
    model = PixelCNN(image_shape=(4, 5, 3), filters=24, num_layers=2, kernel_size=5, output="categorical")
    x = rng.integers(0, 256, (8, 4, 5, 3))
    path = str(tmp_path / "pixelcnn.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, PixelCNN) and loaded.head.name == "categorical" and loaded.rows_above == 3 + 2 * 2
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(loaded(x)))
    np.testing.assert_array_equal(model.sample(2, seed=1), loaded.sample(2, seed=1))


def test_clear_errors(rng):
    with pytest.raises(ValueError, match="odd"):
        PixelCNN(image_shape=(4, 4, 1), filters=4, num_layers=1, kernel_size=4)
    with pytest.raises(ValueError, match="input_kernel_size must be an odd"):
        PixelCNN(image_shape=(4, 4, 1), filters=4, num_layers=1, input_kernel_size=6)
    with pytest.raises(ValueError, match="multiple of 6 for 3 colour group"):
        PixelCNN(image_shape=(4, 4, 3), filters=9, num_layers=1, output="categorical")
    with pytest.raises(ValueError, match="multiple of 3 for 3 colour group"):
        PixelCNN(image_shape=(4, 4, 3), filters=8, num_layers=1, residual=False)
    with pytest.raises(ValueError, match="image_shape"):
        PixelCNN(image_shape=(4, 4), filters=4, num_layers=1)
    model = PixelCNN(image_shape=(5, 5, 1), filters=24, num_layers=2)
    with pytest.raises(ValueError, match=r"shape \(batch, 5, 5, 1\)"):
        model.log_prob(random_binary_images(rng, 2, (5, 4, 1)))
    with pytest.raises(ValueError, match="rank 3"):
        model.log_prob(np.zeros((5, 5, 1), "float32"))
    with pytest.raises(ValueError, match="binary data"):
        model.fit(np.full((2, 5, 5, 1), 0.5, "float32"), epochs=1, verbose=0)


@pytest.mark.parametrize(
    "image_shape, output, input_kernel_size, kernel_size, residual",
    [
        ((6, 7, 1), "bernoulli", 5, 3, True),
        ((5, 6, 1), "bernoulli", 3, (3, 5), False),
        ((4, 5, 3), "bernoulli", 3, 3, True),
        ((4, 5, 3), "categorical", 5, 3, True),
        ((5, 4, 1), "categorical", 1, (5, 3), False),
        ((4, 5, 3), "logistic_mixture", 3, 3, True),
    ],
)
def test_cached_sampler_equals_the_reference(rng, image_shape, output, input_kernel_size, kernel_size, residual):
    """Grey and colour (R → G → B masks), both heads, both kinds of block, a 1×1 first layer, sample and complete."""
    model = PixelCNN(
        image_shape=image_shape,
        filters=12,
        num_layers=2,
        kernel_size=kernel_size,
        input_kernel_size=input_kernel_size,
        output=output,
        residual=residual,
    )
    randomise_biases(model, rng)
    assert_cached_equals_reference(model, known_rows=(0, 2, image_shape[0]))
