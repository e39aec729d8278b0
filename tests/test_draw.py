"""The DRAW model: its bound against NumPy transcriptions, sampling, training, saving, bad input."""

import keras
import numpy as np
import pytest
from helpers import random_binary_images

from keras_gen import layers
from keras_gen.book import attention_plots
from keras_gen.models import DRAW

SHAPE = (10, 12, 1)  # small and not square
T, Z_DIM = 3, 4


def make_draw(attention=True, **kwargs):
    settings = dict(image_shape=SHAPE, T=T, read_n=2, write_n=3, z_dim=Z_DIM, enc_units=16, dec_units=16)
    return DRAW(attention=attention, **{**settings, **kwargs})


@pytest.fixture(scope="module")
def models():
    keras.utils.set_random_seed(7)
    return {True: make_draw(True), False: make_draw(False)}


@pytest.fixture(scope="module")
def x():
    """One batch shape for every evaluation, so each compiled graph is traced once."""
    return random_binary_images(np.random.default_rng(1), 8, SHAPE)


def numpy_terms(x, trace):
    """The DRAW loss written out: -log D(x | c_T) (eq. 9) and sum_t KL(Q(Z_t) || N(0, I)) (eq. 11)."""
    p = trace["canvases"][:, -1].astype("float64")
    reconstruction = -np.sum(x * np.log(p) + (1 - x) * np.log1p(-p), axis=(1, 2, 3))
    mean, log_var = trace["mean"].astype("float64"), trace["log_var"].astype("float64")
    kl = 0.5 * np.sum(mean**2 + np.exp(log_var) - log_var - 1.0, axis=(1, 2))
    return reconstruction, kl


def numpy_log_weight(x, trace):
    """log D(x | c_T) + sum_t [log N(z_t; 0, I) - log N(z_t; mu_t, sigma_t^2)] for each run."""
    reconstruction, _ = numpy_terms(x, trace)
    z, mean, log_var = (trace[k].astype("float64") for k in ("z", "mean", "log_var"))
    log_prior = -0.5 * np.sum(np.log(2 * np.pi) + z**2, axis=(1, 2))
    log_posterior = -0.5 * np.sum(np.log(2 * np.pi) + log_var + (z - mean) ** 2 / np.exp(log_var), axis=(1, 2))
    return -reconstruction + log_prior - log_posterior


def test_encoder_without_attention_equals_full_read_then_the_cell(models, rng):
    # the step's encoder sums a term of x computed once before the loop; the reference reads [x, x_hat]
    draw = models[False]
    x = random_binary_images(rng, 4, SHAPE)
    record = {
        "canvas": rng.normal(size=(4,) + SHAPE).astype("float32"),
        "h_dec": rng.normal(size=(4, 16)).astype("float32"),
        "h_enc": rng.normal(size=(4, 16)).astype("float32"),
        "cell_enc": rng.normal(size=(4, 16)).astype("float32"),
    }
    h_enc, cell_enc, extra = draw._encode(x, draw._image_term(x), record)
    x_hat = x - keras.ops.sigmoid(record["canvas"])
    glimpse = layers.FullRead()([x, x_hat, record["h_dec"]])
    inputs = keras.ops.concatenate([glimpse, record["h_dec"]], axis=-1)
    reference_h, (_, reference_c) = draw.encoder_cell(inputs, [record["h_enc"], record["cell_enc"]])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(h_enc), keras.ops.convert_to_numpy(reference_h), atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(cell_enc), keras.ops.convert_to_numpy(reference_c), atol=1e-5)
    assert extra == {}


@pytest.mark.parametrize("attention", [True, False])
def test_log_prob_is_minus_reconstruction_and_summed_kl(models, x, attention):
    model = models[attention]
    trace = model.reconstruction_trace(x, seed=3)
    reconstruction, kl = numpy_terms(x, trace)
    terms = model.elbo_terms(x, seed=3)  # the same seed draws the same z_1..z_T
    np.testing.assert_allclose(terms["kl"], kl, rtol=1e-4)
    np.testing.assert_allclose(trace["kl"][:, -1], kl, rtol=1e-4)  # the running sum ends at the KL
    assert (np.diff(trace["kl"], axis=1) >= 0).all()
    np.testing.assert_allclose(terms["reconstruction"], -reconstruction, rtol=1e-4)
    np.testing.assert_allclose(model.log_prob(x, seed=3), -(reconstruction + kl), rtol=1e-4)
    assert trace["canvases"].shape == (8, T) + SHAPE
    assert trace["z"].shape == trace["mean"].shape == (8, T, Z_DIM)
    assert ("read_window" in trace) == ("write_window" in trace) == attention


def test_kl_matches_tensorflow_probability(models, x):
    tfp = pytest.importorskip("tensorflow_probability.substrates.numpy")
    trace = models[True].reconstruction_trace(x, seed=5)
    posterior = tfp.distributions.MultivariateNormalDiag(trace["mean"], np.exp(0.5 * trace["log_var"]))
    prior = tfp.distributions.MultivariateNormalDiag(np.zeros(Z_DIM, "float32"), np.ones(Z_DIM, "float32"))
    kl = tfp.distributions.kl_divergence(posterior, prior).sum(axis=1)  # summed over the T steps
    np.testing.assert_allclose(models[True].elbo_terms(x, seed=5)["kl"], kl, rtol=1e-4)


K = 4  # runs per image; 2 images × K runs fill the batch of 8 that the traces use


def test_importance_weighted_bound_matches_numpy(models, x):
    """log (1/K) sum_k w_k, with w_k from the K runs that a trace of the repeated images records."""
    model = models[True]
    trace = model.reconstruction_trace(np.repeat(x[:2], K, axis=0), seed=11)  # same seed, same noise
    log_weights = numpy_log_weight(np.repeat(x[:2], K, axis=0), trace).reshape(2, K)
    expected = np.log(np.mean(np.exp(log_weights - log_weights.max(1, keepdims=True)), axis=1))
    expected += log_weights.max(1)
    np.testing.assert_allclose(model.log_prob(x[:2], num_samples=K, seed=11), expected, rtol=1e-4)


def test_importance_weighted_bound_is_above_the_elbo(models, x):
    model = models[True]
    seeds = range(32)
    elbo = np.mean([model.log_prob(x, seed=s)[:2] for s in seeds])
    bound = np.mean([model.log_prob(x[:2], num_samples=K, seed=s) for s in seeds])
    assert np.isfinite(bound) and bound > elbo


def test_windows_are_in_pixels_and_positive(models, x):
    trace = models[True].reconstruction_trace(x, seed=0)
    for key in ("read_window", "write_window"):
        assert trace[key].shape == (8, T, 5)
        assert (trace[key][..., 2:] > 0).all()  # stride, variance, intensity


def test_sampling_is_seeded_and_binary(models):
    model = models[True]
    first, again = model.sample(5, seed=2), model.sample(5, seed=2)
    assert first.shape == (5,) + SHAPE
    assert set(np.unique(first)) <= {0.0, 1.0}
    np.testing.assert_array_equal(first, again)
    trace = model.generation_trace(5, seed=2)
    assert trace["canvases"].shape == (5, T) + SHAPE and trace["write_window"].shape == (5, T, 5)
    np.testing.assert_allclose(model.sample_means(5, seed=2), trace["canvases"][:, -1])
    assert "write_window" not in models[False].generation_trace(5, seed=0)


def test_fit_lowers_the_loss_and_logs_the_terms(rng):
    # the values of the logged terms are checked against the NumPy reference in test_draw_oracle.py
    model = make_draw(True)
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    x = random_binary_images(rng, 32, SHAPE, p=0.2)
    history = model.fit(x, batch_size=16, epochs=4, verbose=0).history
    assert {"nll", "reconstruction", "kl"} <= set(history)
    assert history["nll"][-1] < history["nll"][0]


@pytest.mark.parametrize("attention", [True, False])
def test_save_and_load_round_trip(models, tmp_path, attention):
    model = models[attention]
    path = str(tmp_path / "draw.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, DRAW) and loaded.get_config() == model.get_config()
    for saved, restored in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, restored)
    np.testing.assert_array_equal(
        loaded.generation_trace(5, seed=4)["canvases"], model.generation_trace(5, seed=4)["canvases"]
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"T": 0}, "T must be a positive integer"),
        ({"read_n": 1.5}, "read_n must be a positive integer"),
        ({"z_dim": -2}, "z_dim must be a positive integer"),
        ({"attention": "yes"}, "attention must be True or False"),
        ({"image_shape": (10, 12)}, "image_shape"),
    ],
)
def test_bad_settings_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_draw(**kwargs)


def test_bad_images_raise(models, x, rng):
    model = models[True]
    with pytest.raises(ValueError, match="binary"):
        model.log_prob(rng.random((2,) + SHAPE).astype("float32"))
    with pytest.raises(ValueError, match=r"\(batch, 10, 12, 1\)"):
        model.reconstruction_trace(random_binary_images(rng, 2, (12, 10, 1)))
    with pytest.raises(ValueError, match="rank"):
        model.log_prob(np.zeros(SHAPE, "float32"))
    with pytest.raises(ValueError, match="num_samples"):
        model.log_prob(x, num_samples=0)
    with pytest.raises(ValueError, match="binary"):
        model.fit(2 * x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        model.sample(0)


def test_window_boxes_are_drawn_where_the_window_looks():
    window = np.array([4.0, 3.0, 1.5, 1.0, 1.0])  # centre (4, 3), stride 1.5
    np.testing.assert_allclose(attention_plots.window_box(window, 2), (2.5, 1.5, 5.5, 4.5))
    frame = attention_plots.draw_box(np.zeros((20, 24, 3)), (2.5, 1.5, 5.5, 4.5), (1.0, 0.0, 0.0), scale=2)
    rows, cols = np.nonzero(frame[..., 0])
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (4, 10, 6, 12)
    assert frame[5:10, 7:12].sum() == 0  # only the outline
    far = attention_plots.draw_box(np.zeros((20, 24, 3)), (-40.0, -40.0, -30.0, -30.0), (1.0, 0.0, 0.0), scale=2)
    assert far.sum() == 0


def test_attention_frames_have_one_frame_per_step(models):
    trace = models[True].generation_trace(5, seed=0)
    frames = attention_plots.attention_frames(trace["canvases"], [(trace["write_window"], 3)], scale=2, ncols=5)
    assert frames.shape == (T, 2 * SHAPE[0] + 2, 5 * (2 * SHAPE[1] + 1) + 1, 3)
    assert 0.0 <= frames.min() and frames.max() <= 1.0
    plain = attention_plots.attention_frames(trace["canvases"], [], scale=2, ncols=5)
    framed = attention_plots.attention_frames(trace["canvases"], [], scale=2, margin=3, ncols=5)
    assert framed.shape == (T, 2 * (SHAPE[0] + 6) + 2, 5 * (2 * (SHAPE[1] + 6) + 1) + 1, 3)
    np.testing.assert_allclose(framed[:, 1:7, 1:7], attention_plots.MARGIN_GREY)  # the grey border
    height, width = 2 * SHAPE[0], 2 * SHAPE[1]
    np.testing.assert_array_equal(framed[:, 7 : 7 + height, 7 : 7 + width], plain[:, 1 : 1 + height, 1 : 1 + width])
    with pytest.raises(ValueError, match="window must have shape"):
        attention_plots.attention_frames(trace["canvases"], [(trace["write_window"][:2], 3)])


COLOUR = (8, 10, 3)


def numpy_logistic_log_prob(x, means, log_scale):
    """log D(x | c) of 8-bit images, written out: one logistic per sub-pixel on the [-1, 1] scale,
    mean 2 sigmoid(c) - 1, bins of width 2/255, the end bins taking the tails (Salimans et al., eq. 2)."""
    centre = x.astype("float64") / 127.5 - 1.0
    mean, scale = 2.0 * means.astype("float64") - 1.0, np.exp(log_scale.astype("float64"))

    def cdf(value):
        return 1.0 / (1.0 + np.exp(-(value - mean) / scale))

    upper = np.where(x == 255, 1.0, cdf(centre + 1 / 255))
    lower = np.where(x == 0, 0.0, cdf(centre - 1 / 255))
    return np.log(upper - lower)  # per sub-pixel


@pytest.fixture(scope="module")
def colour_model():
    keras.utils.set_random_seed(3)
    model = make_draw(True, image_shape=COLOUR, output="logistic")
    model.log_scale.assign(np.array([-1.5, -2.0, -2.5], "float32"))
    return model


def test_colour_likelihood_is_a_discretised_logistic_per_sub_pixel(colour_model, rng):
    """8-bit colour: the ELBO's reconstruction term against NumPy, and D(x | c) sums to one over the 256 values."""
    x = rng.integers(0, 256, (4,) + COLOUR)
    trace = colour_model.reconstruction_trace(x, seed=5)
    log_scale = keras.ops.convert_to_numpy(colour_model.log_scale)
    expected = numpy_logistic_log_prob(x, trace["canvases"][:, -1], log_scale).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(colour_model.log_prob(x, seed=5), expected - trace["kl"][:, -1], rtol=1e-4)
    # the written-out D sums to one over the 256 values of a sub-pixel, for any mean and each channel's scale
    values = np.broadcast_to(np.arange(256).reshape(256, 1, 1, 1), (256, 1, 5, 3))
    means = np.broadcast_to(np.array([0.0, 0.03, 0.5, 0.97, 1.0]).reshape(1, 1, 5, 1), (256, 1, 5, 3))
    totals = np.exp(numpy_logistic_log_prob(values, means, log_scale)).sum(axis=0)
    np.testing.assert_allclose(totals, 1.0, rtol=1e-9)


def test_colour_sampling_fit_and_config(colour_model, rng):
    samples = colour_model.sample(3, seed=1)
    assert samples.shape == (3,) + COLOUR and samples.dtype == np.uint8
    np.testing.assert_array_equal(colour_model.sample(3, seed=1), samples)
    assert DRAW.from_config(colour_model.get_config()).get_config() == colour_model.get_config()
    with pytest.raises(ValueError, match="0..255"):
        colour_model.log_prob(np.full((2,) + COLOUR, 300))
    with pytest.raises(ValueError, match="output"):
        make_draw(output="gaussian")
    model = make_draw(True, image_shape=COLOUR, output="logistic")
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    history = model.fit(rng.integers(0, 256, (32,) + COLOUR), batch_size=16, epochs=3, verbose=0).history
    assert history["nll"][-1] < history["nll"][0]
