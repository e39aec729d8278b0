"""Bad input gets a clear ValueError, never a backend error or a silent acceptance (DESIGN.md, "Rules").

Every probe of the review's table of gaps (reviews/2026-12-07/library.md, section 2.6) that these tests own,
and, for every public layer and model once built, a call of the wrong rank or channel count (and, for the
models, of the wrong image height or width): Keras's ``InputSpec`` check, set in ``build`` or by the model.
"""

import re

import keras
import numpy as np
import pytest
from small_models import SMALL_MODELS, call_inputs, make_model, model_inputs

from keras_gen import layers, models

rng = np.random.default_rng(0)


def normal(*shape):
    return rng.normal(size=shape).astype("float32")


def small_pixelcnn():
    return models.PixelCNN(image_shape=(5, 5, 1), filters=4, num_layers=1)


BINARY = (rng.random((2, 5, 5, 1)) < 0.5).astype("float32")
SEED_RANGE = "seed must be None or an integer in 0..4294967294"

# the review's probe: (what it runs, a fragment of the message)
PROBES = {
    "sample(seed='a')": (lambda: small_pixelcnn().sample(1, seed="a"), f"{SEED_RANGE}, got 'a'"),
    "sample(seed=-1)": (lambda: small_pixelcnn().sample(1, seed=-1), f"{SEED_RANGE}, got -1"),
    "sample(seed=2**40)": (lambda: small_pixelcnn().sample(1, seed=2**40), f"{SEED_RANGE}, got 1099511627776"),
    "sample(seed=True)": (lambda: small_pixelcnn().sample(1, seed=True), f"{SEED_RANGE}, got True"),
    "VAE.sample(seed=-1)": (lambda: make_model("vae_mlp").sample(1, seed=-1), f"{SEED_RANGE}, got -1"),
    "log_prob(seed='a')": (
        lambda: make_model("vae_mlp").log_prob(np.zeros((2, 8, 8, 1), "float32"), seed="a"),
        SEED_RANGE,
    ),
    "GatedResNetBlock(dropout='x')": (
        lambda: layers.GatedResNetBlock(4, dropout="x"),
        "dropout must be a number, got 'x'",
    ),
    "GatedResNetBlock(dropout=1)": (lambda: layers.GatedResNetBlock(4, dropout=1), "dropout must be a rate in [0, 1)"),
    "PixelCNNPlusPlus(dropout='x')": (
        lambda: models.PixelCNNPlusPlus(image_shape=(4, 4, 3), filters=4, blocks_per_stage=1, dropout="x"),
        "dropout must be a number, got 'x'",
    ),
    "VAE(hidden_units=8)": (
        lambda: models.VAE(image_shape=(8, 8, 1), hidden_units=8),
        "hidden_units must be a sequence of integers (one per layer, e.g. (500,)), got 8",
    ),
    "VAE(hidden_units=(8, 0))": (
        lambda: models.VAE(image_shape=(8, 8, 1), hidden_units=(8, 0)),
        "hidden_units must be a sequence of integers >= 1",
    ),
    "PixelVAE(hidden_units=8)": (
        lambda: models.PixelVAE(image_shape=(8, 8, 1), hidden_units=8, filters=4, num_layers=1),
        "hidden_units must be a sequence of integers",
    ),
    "PixelCNN(filters=True)": (
        lambda: models.PixelCNN(image_shape=(5, 5, 1), filters=True),
        "filters must be a positive integer, got True",
    ),
    "MaskedConv2D(kernel_size=True)": (lambda: layers.MaskedConv2D(4, True), "kernel_size must be an odd positive"),
    "log_prob(batch_size=0)": (
        lambda: small_pixelcnn().log_prob(BINARY, batch_size=0),
        "batch_size must be a positive integer, got 0",
    ),
    "VAE.log_prob(batch_size=0)": (
        lambda: make_model("vae_mlp").log_prob(np.zeros((2, 8, 8, 1), "float32"), batch_size=0),
        "batch_size must be a positive integer, got 0",
    ),
    "PixelRNN(layer_type='diagonal_bilstm', kernel_size=4)": (
        lambda: models.PixelRNN(
            image_shape=(4, 4, 1), layer_type="diagonal_bilstm", num_layers=1, units=4, kernel_size=4
        ),
        "with layer_type='diagonal_bilstm' kernel_size must stay 3 (the default), got 4",
    ),
    "MaskedConv2D(strides=2)": (lambda: layers.MaskedConv2D(4, 3, strides=2), "strides must be (1, 1), got 2"),
    "MaskedConv2D(padding='valid')": (
        lambda: layers.MaskedConv2D(4, 3, padding="valid"),
        "padding must be 'same', got 'valid'",
    ),
}


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_review_probe_gets_a_clear_error(probe):
    run, message = PROBES[probe]
    with pytest.raises(ValueError, match=re.escape(message)):
        run()


def test_valid_seeds_still_work():
    model = small_pixelcnn()
    np.testing.assert_array_equal(model.sample(2, seed=np.int64(3)), model.sample(2, seed=3.0))
    assert model.sample(1, seed=2**32 - 2).shape == (1, 5, 5, 1)


def test_diagonal_bilstm_takes_its_default_kernel_size_and_saved_configs_load():
    model = models.PixelRNN(image_shape=(4, 4, 1), layer_type="diagonal_bilstm", num_layers=1, units=4)
    assert models.PixelRNN.from_config(model.get_config()).get_config() == model.get_config()


# name: (layer, valid inputs, inputs of the wrong rank, inputs of the wrong channel count or size, or None)
LAYER_CASES = {
    "AttentionWindow": (lambda: layers.AttentionWindow(2, (6, 6, 1)), normal(2, 4), normal(2, 4, 1), normal(2, 5)),
    "AttentiveRead": (
        lambda: layers.AttentiveRead(2, (6, 6, 1)),
        [normal(2, 6, 6, 1), normal(2, 6, 6, 1), normal(2, 4)],
        [normal(2, 36), normal(2, 36), normal(2, 4)],
        [normal(2, 7, 6, 1), normal(2, 7, 6, 1), normal(2, 4)],
    ),
    "AttentiveWrite": (lambda: layers.AttentiveWrite(2, (6, 6, 1)), normal(2, 4), normal(2, 4, 1), normal(2, 5)),
    "FullRead": (
        lambda: layers.FullRead(),
        [normal(2, 6, 6, 1), normal(2, 6, 6, 1), normal(2, 4)],
        [normal(2, 36), normal(2, 36), normal(2, 4)],
        [normal(2, 6, 6, 2), normal(2, 6, 6, 2), normal(2, 4)],
    ),
    "FullWrite": (lambda: layers.FullWrite((6, 6, 1)), normal(2, 4), normal(2, 4, 1), normal(2, 5)),
    "MaskedConv2D": (
        lambda: layers.MaskedConv2D(6, 3, "A", color_channels=3),
        normal(2, 5, 5, 3),
        normal(2, 5, 3),
        normal(2, 5, 5, 6),
    ),
    "GatedResNetBlock": (
        lambda: layers.GatedResNetBlock(4, "down_right"),
        [normal(2, 4, 4, 4), normal(2, 4, 4, 3)],
        [normal(2, 4, 4), normal(2, 4, 4, 3)],
        [normal(2, 4, 4, 5), normal(2, 4, 4, 3)],
    ),
    "GatedPixelCNNBlock": (
        lambda: layers.GatedPixelCNNBlock(4, 3, "B"),
        [normal(2, 5, 5, 4), normal(2, 5, 5, 4), normal(2, 3)],
        [normal(2, 5, 5, 4), normal(2, 5, 5, 4), normal(2, 3, 1)],
        [normal(2, 5, 5, 2), normal(2, 5, 5, 2), normal(2, 3)],
    ),
    "DiagonalBiLSTM": (lambda: layers.DiagonalBiLSTM(4), normal(2, 4, 3, 2), normal(2, 4, 3), normal(2, 4, 3, 3)),
    "DiagonalLSTM": (lambda: layers.DiagonalLSTM(6, 3), normal(2, 3, 4, 3), normal(2, 3, 4), normal(2, 3, 4, 6)),
    "ResidualLSTMBlock": (
        lambda: layers.ResidualLSTMBlock("row_lstm", 4),
        normal(2, 4, 4, 8),
        normal(2, 4, 4),
        normal(2, 4, 4, 4),
    ),
    "RowLSTM": (lambda: layers.RowLSTM(4), normal(2, 4, 5, 2), normal(2, 4, 5), normal(2, 4, 5, 3)),
    "DownShift": (lambda: layers.DownShift(), normal(2, 4, 4, 3), normal(2, 4, 4), None),
    "ShiftedConv2D": (
        lambda: layers.ShiftedConv2D(4, (2, 2), "down_right"),
        normal(2, 4, 4, 3),
        normal(2, 4, 4),
        normal(2, 4, 4, 2),
    ),
    "ShiftedConv2DTranspose": (
        lambda: layers.ShiftedConv2DTranspose(4),
        normal(2, 2, 3, 3),
        normal(2, 2, 3),
        normal(2, 2, 3, 4),
    ),
    "PixelCNNResidualBlock": (
        lambda: layers.PixelCNNResidualBlock(4, 3),
        normal(2, 5, 5, 4),
        normal(2, 5, 5),
        normal(2, 5, 5, 2),
    ),
}


def test_every_public_layer_is_probed():
    assert set(layers.__all__) <= set(LAYER_CASES) | {"GaussianSample"}


def test_gaussian_sample_refuses_a_mean_and_log_variance_of_different_shapes():
    # any shape is fine (no weights), but both must have the same
    sampler = layers.GaussianSample(seed=1)
    assert tuple(sampler([normal(2, 3), normal(2, 3)]).shape) == (2, 3)
    with pytest.raises(ValueError, match=re.escape("mean and log_var must have the same shape, got (2, 3) and (2, 4)")):
        sampler([normal(2, 3), normal(2, 4)])


@pytest.mark.parametrize("name", sorted(set(LAYER_CASES) & set(layers.__all__)))
def test_layer_refuses_a_wrong_rank_or_channel_count_after_build(name):
    make, good, wrong_rank, wrong_channels = LAYER_CASES[name]
    layer = make()
    layer(good)
    with pytest.raises(ValueError, match="is incompatible with the layer: expected (ndim|shape)"):
        layer(wrong_rank)
    if wrong_channels is not None:
        with pytest.raises(ValueError, match="is incompatible with the layer: expected shape"):
            layer(wrong_channels)
    layer(good)  # still usable


@pytest.mark.parametrize("key", sorted(SMALL_MODELS))
def test_model_refuses_a_wrong_rank_channel_count_or_image_size(key):
    model = make_model(key)
    x, conditions = model_inputs(model)
    height, width, channels = model.image_shape
    model(call_inputs(model, x, conditions))
    expected = f"expected shape=(None, {height}, {width}, {channels})"
    wrong = {
        "rank": x[..., 0],
        "channels": np.concatenate([x, x], axis=-1),
        "height": np.concatenate([x, x], axis=1),
        "width": x[:, :, 1:],
    }
    for what, bad in wrong.items():
        message = "expected ndim=4, found ndim=3" if what == "rank" else re.escape(expected)
        with pytest.raises(ValueError, match=message):
            model(call_inputs(model, bad, conditions))


def test_a_conditional_model_still_takes_its_dict_and_refuses_a_missing_image():
    model = make_model("gated_pixelcnn_labels")
    x, conditions = model_inputs(model)
    assert tuple(model(call_inputs(model, x, conditions)).shape) == (2, 5, 5, 1)
    with pytest.raises(ValueError, match='Missing data for input "image"'):
        model({"images": x, **conditions})


def test_the_reference_sampler_still_runs_on_windows():
    # PixelCNN's reference sampler runs the network on windows smaller than the image (rows_above)
    model = models.PixelCNN(image_shape=(7, 7, 1), filters=4, num_layers=1, input_kernel_size=3)
    assert model.rows_above is not None and model.rows_above + 1 < model.image_shape[0]
    np.testing.assert_array_equal(model.sample(2, seed=1, cached=False), model.sample(2, seed=1, cached=True))


def test_keras_reports_the_layer_name():
    layer = layers.MaskedConv2D(4, 3, name="first_conv")
    layer(np.zeros((1, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="first_conv"):
        layer(keras.ops.zeros((1, 4, 4, 2)))
