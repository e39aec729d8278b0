"""Every public layer and model meets the Keras contract (tests/contract.py) on the current backend:
config round trip, symbolic shapes equal to eager shapes, weights saved and loaded give identical outputs,
and for layers one training step that moves every trainable weight.

``ShiftedRows`` is no layer (no config, weights or shapes of its own): its contract, that the network
evaluated row by row through it gives the network's parameters at every pixel, is checked on PixelCNN++
(test_pixelcnn_plus_plus.py, ``assert_cached_params_equal_the_network``)."""

import inspect

import keras
import numpy as np
import pytest
from contract import check_contract
from small_models import SMALL_MODELS, call_inputs, make_model, model_inputs

from keras_gen import layers, models
from keras_gen.layers.masked_conv import PixelMaskedConv2D

rng = np.random.default_rng(0)


def normal(*shape):
    return rng.normal(size=shape).astype("float32")


def sample_with_fresh_seed(layer, inputs, num_samples=None):
    """GaussianSample draws noise: a fresh seed generator per call makes its output repeatable."""
    return layer(inputs, num_samples=num_samples, seed_generator=keras.random.SeedGenerator(7))


# name: (constructor, inputs, call or None for layer(inputs))
LAYERS = {
    "AttentionWindow": (lambda: layers.AttentionWindow(2, (6, 6, 1)), normal(2, 4), None),
    "AttentiveRead": (
        lambda: layers.AttentiveRead(2, (6, 6, 1)),
        [normal(2, 6, 6, 1), normal(2, 6, 6, 1), normal(2, 4)],
        None,
    ),
    "AttentiveWrite": (lambda: layers.AttentiveWrite(2, (6, 6, 1)), normal(2, 4), None),
    "FullRead": (lambda: layers.FullRead(), [normal(2, 6, 6, 1), normal(2, 6, 6, 1), normal(2, 4)], None),
    "FullWrite": (lambda: layers.FullWrite((6, 6, 1)), normal(2, 4), None),
    "MaskedConv2D": (lambda: layers.MaskedConv2D(6, 3, "A", color_channels=3), normal(2, 5, 5, 3), None),
    # not exported, but the gated PixelCNN's horizontal stack is built of it (and saved with it)
    "PixelMaskedConv2D": (
        lambda: PixelMaskedConv2D(12, (1, 2), mask_type="A", color_channels=3, out_halves=2),
        normal(2, 4, 6, 3),
        None,
    ),
    "GatedResNetBlock": (
        lambda: layers.GatedResNetBlock(4, "down_right"),
        [normal(2, 4, 4, 4), normal(2, 4, 4, 3)],
        None,
    ),
    "GaussianSample": (lambda: layers.GaussianSample(seed=1), [normal(2, 3), normal(2, 3)], sample_with_fresh_seed),
    "GaussianSample-num_samples": (
        lambda: layers.GaussianSample(seed=1),
        [normal(2, 3), normal(2, 3)],
        lambda layer, inputs: sample_with_fresh_seed(layer, inputs, num_samples=5),
    ),
    "GatedPixelCNNBlock": (
        lambda: layers.GatedPixelCNNBlock(4, 3, "A"),
        [normal(2, 5, 5, 1), normal(2, 5, 5, 1)],
        None,
    ),
    "GatedPixelCNNBlock-condition": (
        lambda: layers.GatedPixelCNNBlock(4, 3, "B"),
        [normal(2, 5, 5, 4), normal(2, 5, 5, 4), normal(2, 3)],
        None,
    ),
    "GatedPixelCNNBlock-colour": (
        lambda: layers.GatedPixelCNNBlock(6, 3, "A", color_channels=3),
        [normal(2, 5, 5, 3), normal(2, 5, 5, 3), normal(2, 3)],
        None,
    ),
    "DiagonalBiLSTM": (lambda: layers.DiagonalBiLSTM(4), normal(2, 4, 3, 2), None),
    "DiagonalLSTM": (lambda: layers.DiagonalLSTM(6, color_channels=3), normal(2, 3, 4, 3), None),
    "ResidualLSTMBlock": (lambda: layers.ResidualLSTMBlock("row_lstm", 4), normal(2, 4, 4, 8), None),
    "RowLSTM": (lambda: layers.RowLSTM(4), normal(2, 4, 5, 2), None),
    "RowLSTM-condition": (
        lambda: layers.RowLSTM(4, condition_channels=2),
        [normal(2, 4, 5, 2), normal(2, 4, 5, 2)],
        lambda layer, inputs: layer(inputs[0], condition=inputs[1]),
    ),
    "DownShift": (lambda: layers.DownShift(), normal(2, 4, 4, 3), None),
    "ShiftedConv2D": (lambda: layers.ShiftedConv2D(4, (2, 2), "down_right", strides=2), normal(2, 4, 4, 3), None),
    "ShiftedConv2DTranspose": (lambda: layers.ShiftedConv2DTranspose(4), normal(2, 2, 3, 3), None),
    "PixelCNNResidualBlock": (lambda: layers.PixelCNNResidualBlock(4, 3), normal(2, 5, 5, 4), None),
}


def test_every_public_layer_and_model_is_covered():
    covered = {key.split("-")[0] for key in LAYERS}
    assert set(layers.__all__) <= covered
    # abstract: covered by subclasses
    bases = {"GenerativeModel", "LatentVariableModel", "GaussianLatentModel", "AutoregressiveModel"}
    assert {cls.__name__ for cls, _ in SMALL_MODELS.values()} >= set(models.__all__) - bases


@pytest.mark.parametrize("key", sorted(LAYERS))
def test_layer_contract(key, tmp_path):
    make, inputs, call = LAYERS[key]
    check_contract(make(), inputs, tmp_path, **({"call": call} if call else {}))


def _deterministic_outputs(model, x, conditions):
    """The model's own forward pass where it is deterministic, else its log-likelihood with a fixed seed."""
    if isinstance(model, models.LatentVariableModel):
        return model.log_prob(x, seed=3, **conditions)
    return model(call_inputs(model, x, conditions))


@pytest.mark.parametrize("key", sorted(SMALL_MODELS))
def test_model_contract(key, tmp_path):
    model = make_model(key)
    x, conditions = model_inputs(model)
    inputs = call_inputs(model, x, conditions)
    if not isinstance(model, models.LatentVariableModel):
        check_contract(model, inputs, tmp_path)
        return
    # latent models draw z in call: shapes from the call, outputs compared through the seeded log_prob
    from contract import check_config_round_trip, check_symbolic_shapes, check_weights_round_trip

    check_symbolic_shapes(model, inputs)
    check_config_round_trip(model)
    check_weights_round_trip(model, inputs, tmp_path, call=lambda m, _: _deterministic_outputs(m, x, conditions))


def test_weights_load_after_compiled_evaluation(tmp_path):
    """log_prob caches compiled runners on the model; saving and loading weights must not trip over them."""
    model = make_model("pixelvae")
    x, _ = model_inputs(model)
    before = model.log_prob(x, seed=1)
    path = str(tmp_path / "pixelvae.weights.h5")
    model.save_weights(path)
    model.log_prob(x, seed=1)
    model.load_weights(path)  # was a RecursionError (model -> runner -> model)
    np.testing.assert_array_equal(model.log_prob(x, seed=1), before)


def test_every_model_samples_and_scores_through_one_signature():
    """``sample(n, seed, *, batch_size)`` and ``log_prob(x, *, batch_size)`` on every model (review item 50)."""
    for cls, _ in SMALL_MODELS.values():
        sample, log_prob = (inspect.signature(getattr(cls, name)).parameters for name in ("sample", "log_prob"))
        assert list(sample)[1:3] == ["n", "seed"], (cls.__name__, list(sample))
        assert sample["batch_size"].kind is inspect.Parameter.KEYWORD_ONLY, cls.__name__
        assert log_prob["batch_size"].kind is inspect.Parameter.KEYWORD_ONLY, cls.__name__


@pytest.mark.parametrize("key", ["vae_mlp", "draw"])
def test_latent_samples_do_not_depend_on_the_batch_size(key):
    model = make_model(key)
    whole = model.sample(3, seed=4, batch_size=3)
    assert whole.shape == (3,) + model.image_shape
    np.testing.assert_array_equal(model.sample(3, seed=4, batch_size=2), whole)
    np.testing.assert_allclose(model.sample_means(3, seed=4, batch_size=1), model.sample_means(3, seed=4), atol=1e-6)
