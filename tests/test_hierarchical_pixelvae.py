"""The hierarchical PixelVAE: bounds against brute-force integration over both codes, the split
of the bound by level, sampling by level, training and saving."""

import keras
import numpy as np
import pytest
from helpers import random_binary_images
from scipy.special import logsumexp
from scipy.stats import norm

from keras_gen.models import HierarchicalPixelVAE


@pytest.fixture(scope="module")
def model():
    """One-dimensional codes at both levels, so that log p(x) is an integral on a 2-D grid."""
    keras.utils.set_random_seed(5)
    return HierarchicalPixelVAE(
        image_shape=(4, 4, 1),
        latent_dim=1,
        top_dim=1,
        hidden_units=(8,),
        top_hidden_units=(8,),
        map_channels=4,
        filters=8,
        num_layers=1,
        input_kernel_size=3,
    )


def test_bounds_against_integration_over_both_codes(model, rng):
    """log p(x) = log ∫∫ p(x|z1) p(z1|z2) N(z2; 0, 1) dz1 dz2 on a grid: the ELBO lies below it and the
    importance-weighted bound with many joint draws closes the gap (Burda et al., 2016).

    q(z2 | z1) is set to N(0, 1) (the last layer of the top encoder zeroed), so the importance
    weights stay bounded and the bound converges within the test's budget of draws."""
    last = model.top_encoder.layers[-1]
    last.kernel.assign(np.zeros(last.kernel.shape, "float32"))
    last.bias.assign(np.zeros(last.bias.shape, "float32"))
    x = random_binary_images(rng, 2, (4, 4, 1), p=0.5)
    z1 = np.linspace(-9.0, 9.0, 900, dtype="float32")
    z2 = np.linspace(-7.0, 7.0, 350, dtype="float32")
    maps = model.latent_maps(z1[:, None])
    log_likelihood = np.stack(
        [model.decoder.log_prob(np.repeat(image[None], len(z1), 0), map=maps, batch_size=900) for image in x]
    )  # log p(x | z1) on the grid, (2, 900)
    stats = keras.ops.convert_to_numpy(model.bottom_prior(z2[:, None]))  # (350, 2): mean, log-variance of p(z1|z2)
    log_prior = norm.logpdf(z1[None, :], stats[:, :1], np.exp(0.5 * stats[:, 1:])) + norm.logpdf(z2)[:, None]
    cell = np.log(z1[1] - z1[0]) + np.log(z2[1] - z2[0])
    log_px = np.array([logsumexp(ll[None, :] + log_prior) + cell for ll in log_likelihood])

    draws = 4096
    terms = model.elbo_terms(np.repeat(x, draws, 0), seed=3)
    elbo = (terms["reconstruction"] - terms["kl"]).reshape(2, draws)
    np.testing.assert_allclose(terms["kl"], terms["kl_bottom"] + terms["kl_top"], rtol=1e-5, atol=1e-6)
    assert np.all(terms["kl_top"] >= 0)
    assert np.all(elbo.mean(axis=1) + 4 * elbo.std(axis=1) / np.sqrt(draws) < log_px)
    iw = {k: model.log_prob(np.repeat(x, 8, 0), num_samples=k, seed=4).reshape(2, 8).mean(axis=1) for k in (50, 5000)}
    assert np.all(elbo.mean(axis=1) < iw[50]) and np.all(elbo.mean(axis=1) < iw[5000])
    np.testing.assert_allclose(iw[5000], log_px, atol=0.02)


def test_sampling_by_level(model):
    """The top code, the bottom code and the pixel noise can each be fixed while the others vary."""
    top = np.array([[-1.5], [1.5]], "float32")
    first = model.sample(2, seed=1, top=top)
    assert first.shape == (2, 4, 4, 1) and set(np.unique(first)) <= {0.0, 1.0}
    np.testing.assert_array_equal(model.sample(2, seed=1, top=top), first)
    bottom = model.bottom_codes(np.zeros((3000, 1), "float32"), seed=2)
    stats = keras.ops.convert_to_numpy(model.bottom_prior(np.zeros((1, 1), "float32")))[0]
    np.testing.assert_allclose(bottom.mean(), stats[0], atol=4 * np.exp(0.5 * stats[1]) / np.sqrt(3000))
    np.testing.assert_allclose(bottom.std(), np.exp(0.5 * stats[1]), rtol=0.1)
    z = np.zeros((2, 1), "float32")
    np.testing.assert_array_equal(model.sample(2, seed=1, top=top, z=z), model.sample(2, seed=1, z=z))
    with pytest.raises(ValueError, match="top"):
        model.bottom_codes(np.zeros((2, 3), "float32"))


def test_training_logs_the_bound_and_round_trips(tmp_path, rng):
    keras.utils.set_random_seed(1)
    model = HierarchicalPixelVAE(
        image_shape=(8, 8, 1), latent_dim=3, top_dim=2, hidden_units=(16,), top_hidden_units=(8,), filters=8, seed=0
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    x = random_binary_images(rng, 64, (8, 8, 1), p=0.3)
    history = model.fit(x, batch_size=16, epochs=3, verbose=0).history
    assert history["nll"][-1] < history["nll"][0]
    path = str(tmp_path / "hierarchical.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, HierarchicalPixelVAE) and loaded.get_config() == model.get_config()
    np.testing.assert_allclose(loaded.log_prob(x[:4], seed=2), model.log_prob(x[:4], seed=2), rtol=1e-6)
