"""The VAE: its bounds, its training loss, serialisation and input checks."""

import keras
import numpy as np
import pytest
from helpers import random_binary_images

from keras_gen.models import VAE


@pytest.fixture(scope="module")
def trained_vae():
    """One small trained VAE shared by the tests that only read it (saves compiling)."""
    keras.utils.set_random_seed(99)
    model = VAE(latent_dim=4, hidden_units=(32,), seed=3)
    x = random_binary_images(np.random.default_rng(5), 256)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x, epochs=1, batch_size=64, verbose=0)
    return model, x


def numpy_elbo_terms(model, x, num_z, seed=0):
    """The ELBO's terms per image in NumPy, from the encoder's (mu, log sigma^2) and the decoder's logits alone.

    E_q[log p(x|z)] by Monte Carlo over ``num_z`` codes z = mu + sigma eps per image (NumPy's eps), with the
    standard deviation of log p(x|z) over them, and KL(q(z|x) || N(0, I)) in closed form (Kingma & Welling,
    2014, appendix B).
    """
    mean, log_var = (np.asarray(a, "float64") for a in model.encode(x))
    eps = np.random.default_rng(seed).standard_normal((num_z,) + mean.shape)
    z = (mean + np.exp(0.5 * log_var) * eps).reshape(-1, mean.shape[1]).astype("float32")
    logits = np.asarray(keras.ops.convert_to_numpy(model.decoder(z)), "float64").reshape((num_z,) + x.shape)
    log_px = -np.sum(x * np.logaddexp(0, -logits) + (1 - x) * np.logaddexp(0, logits), axis=(2, 3, 4))
    kl = 0.5 * np.sum(mean**2 + np.exp(log_var) - log_var - 1.0, axis=1)
    return log_px.mean(axis=0), log_px.std(axis=0), kl


def test_elbo_is_the_numpy_bound_on_average(trained_vae):
    """The KL is the closed form; log_prob, averaged over seeds, is E_q[log p(x|z)] - KL per image."""
    model, x = trained_vae
    x = x[:32]
    num_z = 400
    reconstruction, spread, kl = numpy_elbo_terms(model, x, num_z)
    terms = model.elbo_terms(x, seed=7)
    np.testing.assert_allclose(terms["kl"], kl, rtol=1e-4, atol=1e-5)
    assert np.all(terms["reconstruction"] <= 0)
    seeds = 16
    elbo = np.mean([model.log_prob(x, seed=s) for s in range(seeds)], axis=0)
    # within 5 standard errors of the two Monte Carlo means, image by image
    assert np.all(np.abs(elbo - (reconstruction - kl)) <= 5 * spread * np.sqrt(1 / seeds + 1 / num_z) + 1e-3)


def test_training_loss_is_the_negative_elbo(trained_vae):
    """What evaluate logs, the batch means of -E_q[log p(x|z)], KL and their sum, against the NumPy terms."""
    model, x = trained_vae
    logs = model.evaluate(x, batch_size=64, verbose=0, return_dict=True)
    reconstruction, spread, kl = numpy_elbo_terms(model, x, num_z=50)
    np.testing.assert_allclose(logs["kl"], kl.mean(), rtol=1e-4)  # closed form: exact
    tolerance = 5 * np.sqrt(np.mean(spread**2) / len(x))  # evaluate draws one z per image
    assert abs(logs["reconstruction"] + reconstruction.mean()) <= tolerance
    assert abs(logs["nll"] - (kl.mean() - reconstruction.mean())) <= tolerance


def test_importance_weighted_bound_grows_with_k(trained_vae):
    model, x = trained_vae
    elbo = model.log_prob(x[:64], seed=5).mean()
    bounds = [model.log_prob(x[:64], num_samples=k, seed=5).mean() for k in (1, 10, 100)]
    assert bounds[0] == pytest.approx(elbo, abs=1.0)  # k=1 is a one-sample ELBO estimate
    assert bounds[1] > elbo and bounds[2] > bounds[1]


def test_importance_weighted_bound_never_below_elbo_per_image_on_average(trained_vae):
    model, x = trained_vae
    elbos = np.mean([model.log_prob(x[:16], seed=s) for s in range(10)], axis=0)
    bound = model.log_prob(x[:16], num_samples=200, seed=0)
    assert np.all(bound > elbos - 0.5)


def test_log_prob_is_repeatable_with_a_seed(trained_vae):
    model, x = trained_vae
    np.testing.assert_array_equal(model.log_prob(x[:8], seed=11), model.log_prob(x[:8], seed=11))
    assert not np.array_equal(model.log_prob(x[:8], seed=11), model.log_prob(x[:8], seed=12))


def test_training_lowers_the_loss(rng):
    # a dataset with structure: two prototypes with 5% pixel noise
    prototypes = random_binary_images(rng, 2, p=0.5)
    x = np.abs(prototypes[rng.integers(0, 2, 512)] - (rng.random((512, 28, 28, 1)) < 0.05)).astype("float32")
    model = VAE(latent_dim=2, hidden_units=(64,), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(x, epochs=8, batch_size=64, verbose=0)
    assert history.history["nll"][-1] < 0.6 * history.history["nll"][0]


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_save_and_load_round_trip(tmp_path, rng, architecture):
    model = VAE(latent_dim=3, architecture=architecture, hidden_units=(16,))
    path = str(tmp_path / "vae.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, VAE) and loaded.get_config() == model.get_config()
    z = rng.normal(size=(5, 3)).astype("float32")
    np.testing.assert_array_equal(loaded.decode(z), model.decode(z))
    x = random_binary_images(rng, 4)
    np.testing.assert_array_equal(loaded.encode(x)[0], model.encode(x)[0])
    np.testing.assert_allclose(loaded.log_prob(x, seed=2), model.log_prob(x, seed=2), rtol=1e-6)


def test_shapes_and_samples(rng):
    model = VAE(latent_dim=2, architecture="conv", hidden_units=(16,))
    x = random_binary_images(rng, 3)
    assert tuple(model(x).shape) == (3, 28, 28, 1)
    mean, log_var = model.encode(x)
    assert mean.shape == log_var.shape == (3, 2)
    samples = model.sample(6, seed=0)
    assert samples.shape == (6, 28, 28, 1) and set(np.unique(samples)) <= {0.0, 1.0}
    np.testing.assert_array_equal(samples, model.sample(6, seed=0))
    means = model.sample_means(2, seed=0)
    assert np.all((means > 0) & (means < 1))


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((2, 28, 28)), "rank 3"),
        (np.zeros((2, 32, 32, 1)), r"\(batch, 28, 28, 1\)"),
        (np.full((2, 28, 28, 1), 0.5), r"binary data in \{0, 1\}"),
        (np.full((2, 28, 28, 1), 255), r"binary data in \{0, 1\}"),
    ],
)
def test_bad_images_raise_clear_errors(bad, message):
    model = VAE(latent_dim=2, hidden_units=(8,))
    with pytest.raises(ValueError, match=message):
        model.log_prob(bad)
    with pytest.raises(ValueError, match=message):
        model.fit(bad, epochs=1, verbose=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"architecture": "resnet"}, "architecture must be one of"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"image_shape": (30, 30, 1), "architecture": "conv"}, "divisible by 4"),
        ({"image_shape": (28, 28)}, "image_shape"),
    ],
)
def test_bad_settings_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VAE(**kwargs)


def test_bad_arguments_raise_clear_errors(rng):
    model = VAE(latent_dim=2, hidden_units=(8,))
    with pytest.raises(ValueError, match="num_samples"):
        model.log_prob(random_binary_images(rng, 2), num_samples=0)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        model.decode(np.zeros((3, 5)))
