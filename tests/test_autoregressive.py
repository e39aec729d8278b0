"""The autoregressive base: heads, exact log-likelihood, compiled sampling and completion, conditions."""

import keras
import numpy as np
import pytest
from cached_sampling import assert_cached_equals_reference
from causality import assert_causal, input_jacobian
from helpers import random_binary_images, reference_sample
from scipy.special import log_softmax, softmax

from keras_gen import ops as kg_ops
from keras_gen.evaluation import input_gradient, receptive_field
from keras_gen.layers import MaskedConv2D
from keras_gen.models import AutoregressiveModel, PixelCNN
from keras_gen.models.conditions import Condition


@keras.saving.register_keras_serializable(package="keras_gen_tests")
class LabelledPixelCNN(AutoregressiveModel):
    """A tiny class-conditional model: a mask-A convolution plus a learned vector per label."""

    def __init__(self, image_shape=(5, 5, 1), num_labels=3, **kwargs):
        super().__init__(image_shape, **kwargs)
        self.num_labels = num_labels
        self.conv = MaskedConv2D(4, 3, "A", activation="relu")
        self.embed = keras.layers.Embedding(num_labels, 4)
        self.out = MaskedConv2D(self.head.num_outputs(image_shape[2]), 1, "B")
        self.create_weights()

    def condition_specs(self):
        return {"label": Condition.label(self.num_labels)}

    def call(self, inputs, training=False):
        image, conditions = self.split_inputs(inputs)
        h = self.conv(self.scale_image(image)) + self.embed(conditions["label"])[:, None, None, :]
        return self.head.outputs_to_params(self.out(h), self.image_shape[2])

    def get_config(self):
        return {**super().get_config(), "num_labels": self.num_labels}


def test_categorical_ops_match_numpy_and_tfp(rng):
    logits = rng.normal(size=(4, 3, 256)).astype("float32")
    x = rng.integers(0, 256, size=(4, 3))
    expected = np.take_along_axis(log_softmax(logits, -1), x[..., None], -1)[..., 0]
    got = keras.ops.convert_to_numpy(kg_ops.categorical_log_prob(logits, x))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    tfp = pytest.importorskip("tensorflow_probability")
    np.testing.assert_allclose(got, tfp.distributions.Categorical(logits=logits).log_prob(x).numpy(), atol=1e-5)
    u = rng.random((4, 3)).astype("float32")
    expected = (np.cumsum(softmax(logits, -1), -1) < u[..., None]).sum(-1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(kg_ops.categorical_sample(logits, u)), expected)


def test_unknown_head_is_a_clear_error():
    with pytest.raises(ValueError, match="output must be one of .*bernoulli.*categorical"):
        PixelCNN(image_shape=(4, 4, 1), filters=4, num_layers=1, output="gaussian")


CONFIGS = {
    # the sampler's window is 3 of 6 rows and 5 of 7 columns: rows_above = columns_around = 5 // 2 + 0
    "grey": dict(image_shape=(6, 7, 1), filters=8, num_layers=0, output="bernoulli"),
    "colour": dict(image_shape=(5, 4, 3), filters=12, num_layers=1, output="categorical"),
    "whole_pixel": dict(image_shape=(4, 5, 3), filters=8, num_layers=1, output="test_whole_pixel_bernoulli"),
}


@pytest.fixture(scope="module")
def models(whole_pixel_head):
    return {name: PixelCNN(input_kernel_size=5, **config) for name, config in CONFIGS.items()}


def some_images(model, rng, n):
    shape = (n,) + model.image_shape
    return (
        random_binary_images(rng, n, model.image_shape) if model.data_type == "binary" else rng.integers(0, 256, shape)
    )


@pytest.mark.parametrize("name", CONFIGS)
def test_log_prob_is_the_sum_of_the_heads_terms(models, rng, name):
    model = models[name]
    x = some_images(model, rng, 4)
    params = keras.ops.convert_to_numpy(model(x))
    if model.data_type == "binary":
        expected = (x * params - np.logaddexp(0, params)).sum(axis=(1, 2, 3))
    else:
        expected = np.take_along_axis(log_softmax(params, -1), x[..., None], -1).sum(axis=(1, 2, 3, 4))
    np.testing.assert_allclose(model.log_prob(x, batch_size=4), expected, rtol=1e-5)


@pytest.mark.parametrize("name", CONFIGS)
def test_compiled_sampler_equals_the_pixel_by_pixel_definition(models, name):
    model = models[name]
    samples = model.sample(4, seed=7, batch_size=4)
    expected = reference_sample(model, model.sampling_noise(4, 7))
    np.testing.assert_array_equal(samples, expected)
    assert samples.dtype == ("float32" if model.data_type == "binary" else "uint8")
    completed = model.complete(samples, known_rows=2, seed=8, batch_size=4)
    expected = reference_sample(model, model.sampling_noise(4, 8), samples, first_row=2)
    np.testing.assert_array_equal(completed, expected)


@pytest.mark.parametrize("name", CONFIGS)
def test_cached_sampler_equals_the_reference(models, name):
    """Per-channel and whole-pixel heads: the cached sampler draws the reference's images."""
    assert_cached_equals_reference(models[name], n=4, seed=7, known_rows=(0, 2), batch_size=4)


@pytest.fixture
def zero_output_weights(models):
    """Set a model's last layer to zero weights and the given bias; restore it after the test."""
    saved = {name: model.output_conv.get_weights() for name, model in models.items()}

    def set_bias(model, bias):
        model.output_conv.set_weights(
            [np.zeros(model.output_conv.kernel.shape, "float32"), np.asarray(bias, "float32")]
        )

    yield set_bias
    for name, model in models.items():
        model.output_conv.set_weights(saved[name])


def test_sampling_a_known_bernoulli(models, zero_output_weights):
    """Zero output weights make every pixel an independent Bernoulli(sigmoid(bias))."""
    model = models["grey"]
    zero_output_weights(model, [0.0])
    samples = model.sample(400, seed=0, batch_size=4)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    assert abs(samples.mean() - 0.5) < 4 * 0.5 / np.sqrt(samples.size)
    zero_output_weights(model, [np.log(0.2 / 0.8)])
    samples = model.sample(400, seed=1, batch_size=4)
    assert abs(samples.mean() - 0.2) < 4 * 0.4 / np.sqrt(samples.size)
    # pixels are independent under this model: neighbours do not correlate
    assert abs(np.corrcoef(samples[:, :, :-1].ravel(), samples[:, :, 1:].ravel())[0, 1]) < 0.05


def test_sampling_a_known_categorical(models, zero_output_weights):
    """Zero output weights and bias log p give the histogram p for every colour."""
    model = models["colour"]
    p = np.full(256, 1e-9)
    p[[0, 17, 128, 255]] = [0.1, 0.2, 0.3, 0.4]
    p /= p.sum()
    zero_output_weights(model, np.tile(np.log(p), 3))
    samples = model.sample(200, seed=0, batch_size=4)
    assert samples.dtype == np.uint8
    counts = np.bincount(samples.ravel(), minlength=256)
    assert set(np.flatnonzero(counts)) <= {0, 17, 128, 255}
    frequencies = counts[[0, 17, 128, 255]] / samples.size
    np.testing.assert_allclose(frequencies, [0.1, 0.2, 0.3, 0.4], atol=0.03)


def test_complete_keeps_the_known_rows_and_is_seeded(models, rng):
    model = models["grey"]
    x = random_binary_images(rng, 4, model.image_shape)
    for rows in (0, 3, 6):
        completed = model.complete(x, rows, seed=3, batch_size=4)
        np.testing.assert_array_equal(completed[:, :rows], x[:, :rows])
        np.testing.assert_array_equal(completed, model.complete(x, rows, seed=3, batch_size=2))
    assert not np.array_equal(model.complete(x, 2, seed=3, batch_size=4), model.complete(x, 2, seed=4, batch_size=4))
    keras.utils.set_random_seed(5)
    first = model.sample(4, batch_size=4)
    keras.utils.set_random_seed(5)
    np.testing.assert_array_equal(first, model.sample(4, batch_size=4))


def test_sampling_errors(models, rng):
    model = models["grey"]
    x = random_binary_images(rng, 2, model.image_shape)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        model.sample(0)
    with pytest.raises(ValueError, match="known_rows must be an integer in 0..6"):
        model.complete(x, 7)
    with pytest.raises(ValueError, match=r"shape \(batch, 6, 7, 1\)"):
        model.complete(x[:, :3], 2)
    with pytest.raises(ValueError, match="takes the conditions"):
        model.sample(2, label=np.zeros(2))


def test_fit_logs_nll_and_bits_per_dim(models, rng, zero_output_weights):
    grey = models["grey"]
    grey.compile(optimizer="adam")
    x = random_binary_images(rng, 8, grey.image_shape)
    history = grey.fit(x, epochs=2, batch_size=4, verbose=0)
    assert len(history.history["nll"]) == 2 and "bits_per_dim" not in history.history
    colour = models["colour"]
    colour.compile(optimizer="adam")
    images = rng.integers(0, 256, (8,) + colour.image_shape)
    history = colour.fit(images, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["bits_per_dim"][0])
    with pytest.raises(ValueError, match="0..255"):
        colour.fit(images + 300, epochs=1, verbose=0)
    # known distributions: with zero output weights and biases every sub-pixel is a fair coin or
    # uniform over 0..255, so -log p(x) is H·W·C·log 2 or H·W·C·log 256 nats: 8 bits/dim
    zero_output_weights(grey, [0.0])
    logs = grey.evaluate(x, batch_size=4, verbose=0, return_dict=True)
    assert logs["nll"] == pytest.approx(np.prod(grey.image_shape) * np.log(2), rel=1e-5)
    zero_output_weights(colour, np.zeros(3 * 256))
    logs = colour.evaluate(images, batch_size=4, verbose=0, return_dict=True)
    assert logs["nll"] == pytest.approx(np.prod(colour.image_shape) * np.log(256), rel=1e-5)
    assert logs["bits_per_dim"] == pytest.approx(8.0, rel=1e-5)


def test_conditional_model_trains_samples_and_stays_causal(rng, tmp_path):
    model = LabelledPixelCNN()
    x = random_binary_images(rng, 12, (5, 5, 1))
    labels = rng.integers(0, 3, 12)
    model.compile(optimizer="adam")
    history = model.fit({"image": x, "label": labels}, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["nll"][0])
    with pytest.raises(ValueError, match="binary data"):
        model.fit({"image": x + 0.5, "label": labels}, epochs=1, verbose=0)
    log_p = model.log_prob(x, label=labels)
    assert log_p.shape == (12,)
    with pytest.raises(ValueError, match="one entry per image"):
        model.log_prob(x, label=labels[:3])
    samples = model.sample(3, seed=1, label=np.array([0, 1, 2]))
    expected = reference_sample(model, model.sampling_noise(3, 1), conditions={"label": np.array([0, 1, 2])})
    np.testing.assert_array_equal(samples, expected)
    # no cached sampler here: cached=True (the default) falls back to the reference sampler
    assert not model.has_cached_sampler
    np.testing.assert_array_equal(model.sample(3, seed=1, label=np.array([0, 1, 2]), cached=False), samples)
    assert_causal(model, x[:2], {"label": labels[:2]})
    path = str(tmp_path / "labelled.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.log_prob(x, label=labels), log_p, rtol=1e-6)


def test_receptive_field_by_training_equals_autodiff(models, rng):
    model = models["colour"]
    x = rng.integers(0, 256, (1,) + model.image_shape).astype("float32")
    jacobian = input_jacobian(model, x)
    for pixel, channel in (((2, 1), 1), ((4, 3), 2), ((0, 0), 0)):
        field = receptive_field(lambda images: keras.ops.sum(model(images), axis=-1), x, pixel, channel)
        np.testing.assert_allclose(field[0], jacobian[pixel + (channel,)], rtol=1e-4, atol=1e-9)
    weights_before = [w.copy() for w in model.get_weights()]
    receptive_field(model, x, (1, 1))  # passing the model itself must not train it
    for before, after in zip(weights_before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    quadratic = input_gradient(lambda images: images**2, x[0], np.ones_like(x))
    np.testing.assert_allclose(quadratic, 2 * x[0], rtol=1e-6)
    # a batch: each image has its own gradient (here the outputs at two different pixels)
    pair = np.concatenate([x, x[:, ::-1]])
    fields = receptive_field(lambda images: keras.ops.sum(model(images), axis=(-2, -1)), pair, (3, 2))
    np.testing.assert_allclose(fields[0], receptive_field(model, x[0], (3, 2)), rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(fields[1], receptive_field(model, x[:, ::-1], (3, 2))[0], rtol=1e-4, atol=1e-9)
