"""The Keras training contract: ``sample_weight``, ``fit``'s positional arguments, list and
``tf.data`` inputs, and sub-layer losses added to the objective of every model."""

import keras
import numpy as np
import pytest
from helpers import random_binary_images
from keras import ops
from small_models import SMALL_MODELS, make_model

TF_ONLY = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.data runs on TensorFlow")
# the models of small_models.py, whose shapes the other tests build and compile too
SHAPE = SMALL_MODELS["pixelcnn"][1]["image_shape"]


def _pixelcnn():
    model = make_model("pixelcnn")
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    return model


def _twins(make):
    a, b = make(), make()
    b.set_weights(a.get_weights())
    return a, b


def _assert_same_weights(a, b):
    for u, v in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)


def test_zero_weights_train_and_evaluate_as_the_other_images_alone(rng):
    """Keras's reduction, mean(w · nll): weights 2 on half the batch and 0 on the rest train as that half alone."""
    x = random_binary_images(rng, 8, SHAPE)
    weights = np.array([2.0] * 4 + [0.0] * 4, "float32")
    weighted, alone = _twins(_pixelcnn)
    log_w = weighted.fit(x, sample_weight=weights, batch_size=8, epochs=3, shuffle=False, verbose=0).history
    log_a = alone.fit(x[:4], batch_size=4, epochs=3, shuffle=False, verbose=0).history
    _assert_same_weights(weighted, alone)
    np.testing.assert_allclose(log_w["nll"], log_a["nll"], rtol=1e-5)  # a weighted mean over the images
    logs = weighted.evaluate(x, sample_weight=weights, batch_size=8, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["nll"], -weighted.log_prob(x[:4]).mean(), rtol=1e-5)


def test_weighted_elbo_and_the_free_bits_floor(rng):
    """The floor holds for the weighted average KL: zero weights drop images, scaled weights scale the objective."""
    x = random_binary_images(rng, 4, (8, 8, 1))
    weights = ops.convert_to_tensor([2.0, 2.0, 0.0, 0.0])
    for free_nats in (0.0, 0.01, 50.0):
        model = make_model("vae_mlp", free_nats=free_nats)
        terms = model.loss_terms(x, model(x))
        first_half = {name: value[:2] for name, value in terms.items()}
        weighted = float(model.training_objective(terms, weights))
        np.testing.assert_allclose(weighted, float(model.training_objective(first_half)), rtol=1e-6)
        np.testing.assert_allclose(float(model.training_objective(terms, 3 * weights)), 3 * weighted, rtol=1e-6)
        np.testing.assert_allclose(
            float(model.training_objective(terms, ops.ones(4))), float(model.training_objective(terms)), rtol=1e-6
        )


def test_evaluate_weighs_the_logged_terms_of_a_latent_model(rng):
    x = random_binary_images(rng, 6, (8, 8, 1))
    model = make_model("vae_mlp")
    model.compile(optimizer="adam")
    weights = np.array([1.0, 3.0, 0.0, 0.0, 0.0, 0.0], "float32")
    logs = model.evaluate(x, sample_weight=weights, batch_size=6, verbose=0, return_dict=True)
    kl = model.elbo_terms(x[:2])["kl"]  # closed form: the same in evaluate
    np.testing.assert_allclose(logs["kl"], (kl[0] + 3 * kl[1]) / 4, rtol=1e-5)
    np.testing.assert_allclose(logs["nll"], logs["reconstruction"] + logs["kl"], rtol=1e-5)


def test_sample_weight_must_weigh_images_and_class_weight_is_refused(rng):
    x = random_binary_images(rng, 4, SHAPE)
    model = _pixelcnn()
    with pytest.raises(ValueError, match="one weight per image"):
        model.fit(x, sample_weight=np.ones_like(x), verbose=0)
    with pytest.raises(ValueError, match="class_weight.*sample_weight"):
        model.fit(x, class_weight={0: 1.0}, verbose=0)


@pytest.mark.parametrize("key", ["vae_mlp", "pixelcnn"])
def test_fit_and_evaluate_keep_keras_positional_arguments(key, rng):
    model = make_model(key)
    model.compile(optimizer="adam")
    x = random_binary_images(rng, 8, model.image_shape)
    history = model.fit(x, None, 32, 1, 0).history  # x, y, batch_size, epochs, verbose
    assert len(history["nll"]) == 1
    history = model.fit(x, None, 4, 2, 0, None, 0.0, (x[:4],)).history  # ..., callbacks, split, validation
    assert len(history["nll"]) == 2 and len(history["val_nll"]) == 2
    logs = model.evaluate(x, None, 4, 0, None, None, None, True)  # ..., verbose, sample_weight, steps, callbacks
    assert set(logs) >= {"loss", "nll"}


def test_a_conditional_model_takes_its_condition_positionally(rng):
    model = make_model("gated_pixelcnn_labels")
    model.compile(optimizer="sgd")
    x, labels = random_binary_images(rng, 8, model.image_shape), rng.integers(0, 3, 8).astype("int32")
    assert len(model.fit(x, labels, 4, 2, 0).history["nll"]) == 2

    class Batches(keras.utils.PyDataset):  # (images, labels, sample_weight), of which the second half weighs 0
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return x[4 * index : 4 * index + 4], labels[4 * index : 4 * index + 4], np.full(4, 1.0 - index, "float32")

    logs = model.evaluate(Batches(), verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["nll"], -model.log_prob(x[:4], label=labels[:4]).mean(), rtol=1e-5)


@pytest.mark.parametrize("key", ["vae_mlp", "pixelcnn", "gated_pixelcnn_labels"])
def test_lists_and_tuples_of_inputs_get_a_clear_error(key, rng):
    model = make_model(key)
    model.compile(optimizer="adam")
    x = random_binary_images(rng, 4, model.image_shape)
    with pytest.raises(ValueError, match=r"x must be an array of images of shape \(batch, .*got a list of 1"):
        model.fit([x], verbose=0)
    with pytest.raises(ValueError, match="got a tuple of 2"):
        model.evaluate((x, x), verbose=0)
    if key == "vae_mlp":
        with pytest.raises(ValueError, match="got a dict of 1"):
            model.fit({"image": x}, verbose=0)
    with pytest.raises(ValueError, match="takes no targets|unconditional|not both"):
        model.fit({"image": x} if key.startswith("gated") else x, x, verbose=0)


@TF_ONLY
def test_a_tf_dataset_trains_as_its_arrays(rng):
    import tensorflow as tf

    x = random_binary_images(rng, 8, SHAPE)
    weights = np.array([2.0] * 4 + [0.0] * 4, "float32")
    by_dataset, by_arrays = _twins(_pixelcnn)
    dataset = tf.data.Dataset.from_tensor_slices((x, weights)).batch(8).map(lambda images, w: (images, None, w))
    log_d = by_dataset.fit(dataset, epochs=2, verbose=0, validation_data=tf.data.Dataset.from_tensors(x)).history
    log_a = by_arrays.fit(x, sample_weight=weights, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    _assert_same_weights(by_dataset, by_arrays)
    np.testing.assert_allclose(log_d["nll"], log_a["nll"], rtol=1e-5)
    assert len(log_d["val_nll"]) == 2
    with pytest.raises(ValueError, match=r"batch it with \.batch\(n\)"):
        by_dataset.fit(tf.data.Dataset.from_tensor_slices(x), verbose=0)
    with pytest.raises(ValueError, match=r"shape \(batch, 5, 5, 1\)"):
        by_dataset.evaluate(tf.data.Dataset.from_tensors(x[:, :3]), verbose=0)


@TF_ONLY
def test_labelled_tf_dataset_trains_a_conditional_model_as_its_input_dict(rng):
    import tensorflow as tf

    def make():
        model = make_model("gated_pixelcnn_labels")
        model.compile(optimizer="sgd")
        return model

    x, labels = random_binary_images(rng, 8, SHAPE), rng.integers(0, 3, 8).astype("int32")
    by_dataset, by_dict = _twins(make)
    by_dataset.fit(tf.data.Dataset.from_tensor_slices((x, labels)).batch(4), epochs=2, verbose=0)
    by_dict.fit({"image": x, "label": labels}, batch_size=4, epochs=2, shuffle=False, verbose=0)
    _assert_same_weights(by_dataset, by_dict)
    with pytest.raises(ValueError, match="unconditional"):
        _pixelcnn().fit(tf.data.Dataset.from_tensor_slices((x, labels)).batch(4), verbose=0)


@pytest.mark.parametrize("key", ["vae_mlp", "pixelcnn"])
def test_sub_layer_regularisers_join_the_objective(key, rng):
    """Activity and weight regularisers of sub-layers add their scalars to the loss; nll stays the model's own."""
    model = make_model(key)
    x = random_binary_images(rng, 8, model.image_shape)
    if key == "vae_mlp":
        model.encoder.layers[-1].activity_regularizer = keras.regularizers.L2(5.0)
        kernel = model.decoder.layers[0].kernel
        kernel.regularizer = keras.regularizers.L2(0.5)
    else:
        model.get_layer("output_conv").activity_regularizer = keras.regularizers.L2(5.0)
    model.compile(optimizer="adam")
    history = model.fit(x, batch_size=4, epochs=2, verbose=0).history
    assert all(loss > nll for loss, nll in zip(history["loss"], history["nll"], strict=True))
    logs = model.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    assert logs["loss"] > logs["nll"]
    if key == "vae_mlp":  # the encoder is deterministic, so the penalties are known (Keras divides by the batch size)
        codes, weights = (ops.convert_to_numpy(t) for t in (model.encoder(x), kernel.value))
        expected = 5.0 * np.sum(codes**2) / len(x) + 0.5 * np.sum(weights**2)
        np.testing.assert_allclose(logs["loss"] - logs["nll"], expected, rtol=1e-3)


class _AddsLoss:
    """Mixed into a model: its ``call`` adds a constant scalar with ``add_loss``."""

    def call(self, x, training=False):
        self.add_loss(ops.convert_to_tensor(0.25))
        return super().call(x, training=training)


@pytest.mark.parametrize("key", ["vae_mlp", "pixelvae"])
def test_an_add_loss_scalar_adds_to_a_latent_models_loss(key, rng):
    cls, kwargs = SMALL_MODELS[key]
    model = type(f"Penalised{cls.__name__}", (_AddsLoss, cls), {})(**kwargs)
    model.compile(optimizer="adam")
    x = random_binary_images(rng, 8, model.image_shape)
    history = model.fit(x, batch_size=4, epochs=2, verbose=0).history
    np.testing.assert_allclose(np.subtract(history["loss"], history["nll"]), 0.25, rtol=1e-3)
    assert np.isfinite(history["kl"]).all() and min(history["kl"]) >= 0


def test_loss_terms_needs_the_call_that_made_y_pred():
    model = make_model("vae_mlp")
    model._call_kl.clear()
    with pytest.raises(ValueError, match=r"y_pred = model\(x\)"):
        model.loss_terms(np.zeros((1,) + model.image_shape, "float32"), np.zeros((1,) + model.image_shape, "float32"))
