"""PixelVAE: causal decoder given z, bounds against brute-force integration over z, sampling, saving."""

import keras
import numpy as np
import pytest
from cached_sampling import assert_cached_equals_reference, randomise_biases
from causality import assert_causal
from helpers import random_binary_images, reference_sample
from scipy.special import logsumexp
from scipy.stats import norm

from keras_gen.models import PixelVAE


def small_pixelvae(**kwargs):
    """A tiny model with one latent dimension; the tests share its shapes so that JAX compiles each eager
    operation once."""
    return PixelVAE(
        image_shape=(4, 4, 1),
        latent_dim=1,
        hidden_units=(8,),
        map_channels=4,
        filters=8,
        num_layers=1,
        input_kernel_size=3,
        **kwargs,
    )


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(7)
    return small_pixelvae()


def test_decoder_is_causal_given_z_and_z_matters(model, rng):
    x = random_binary_images(rng, 2, (4, 4, 1))
    z = rng.normal(size=(2, 1)).astype("float32")
    maps = model.latent_maps(z)
    assert maps.shape == (2, 4, 4, 4)
    assert_causal(model.decoder, x, {"map": maps})
    logits = keras.ops.convert_to_numpy(model.decoder_logits(x, z))
    other = keras.ops.convert_to_numpy(model.decoder_logits(x, z + 1.0))
    assert np.all(logits[:, 0, 0] != other[:, 0, 0])  # the first pixel sees z alone
    assert np.mean(logits != other) > 0.8


def test_bounds_against_integration_over_z(model, rng):
    """With one latent dimension, log p(x) = log ∫ p(x|z) N(z; 0, 1) dz and the ELBO are integrals on a grid.

    The ELBO (averaged over many draws of z) must match its quadrature, lie below log p(x),
    and the importance-weighted bound with many samples must close the gap (Burda et al., 2016).
    """
    x = random_binary_images(rng, 2, (4, 4, 1), p=0.5)
    grid = np.linspace(-9.0, 9.0, 1800, dtype="float32")
    step = grid[1] - grid[0]
    maps = model.latent_maps(grid[:, None])
    log_likelihood = np.stack(
        [model.decoder.log_prob(np.repeat(image[None], len(grid), 0), map=maps, batch_size=900) for image in x]
    )  # log p(x | z) on the grid, (2, 1800)
    log_px = logsumexp(log_likelihood + norm.logpdf(grid), axis=1) + np.log(step)

    mean, log_var = model.encode(x)
    q = norm.pdf(grid, mean, np.exp(0.5 * log_var)) * step  # (2, 1800), rows sum to 1
    kl = 0.5 * (mean**2 + np.exp(log_var) - 1.0 - log_var)[:, 0]
    elbo = (q * log_likelihood).sum(axis=1) - kl
    draws = 4096
    terms = model.elbo_terms(np.repeat(x, draws, 0), seed=3)
    estimates = (terms["reconstruction"] - terms["kl"]).reshape(2, draws)
    # Monte Carlo error of the mean, plus float32 rounding of the sums
    tolerance = 4 * estimates.std(axis=1).max() / np.sqrt(draws) + 2e-3
    np.testing.assert_allclose(estimates.mean(axis=1), elbo, atol=tolerance)
    assert np.all(elbo < log_px)
    np.testing.assert_allclose(terms["kl"].reshape(2, draws), np.repeat(kl[:, None], draws, 1), rtol=1e-4, atol=1e-6)

    iw = model.log_prob(np.repeat(x, 20, 0), num_samples=500, seed=4).reshape(2, 20).mean(axis=1)
    assert np.all(iw > elbo)
    np.testing.assert_allclose(iw, log_px, atol=0.02)


def test_sampling_uses_the_shared_autoregressive_sampler(model, rng):
    z = rng.normal(size=(2, 1)).astype("float32")
    samples = model.sample(2, seed=5, z=z)
    conditions = {"map": model.latent_maps(z)}
    expected = reference_sample(model.decoder, model.decoder.sampling_noise(2, 5), conditions=conditions)
    np.testing.assert_array_equal(samples, expected)
    prior = model.sample(2, seed=6)
    assert prior.shape == (2, 4, 4, 1) and set(np.unique(prior)) <= {0.0, 1.0}
    np.testing.assert_array_equal(prior, model.sample(2, seed=6))
    with pytest.raises(ValueError, match=r"shape \(N, 1\)"):
        model.sample(3, seed=1, z=np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"one entry per image \(3\)"):
        model.sample(3, seed=1, z=np.zeros((2, 1)))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        model.sample(0)


def test_cached_decoder_sampler_equals_the_reference(rng):
    """The map from z is computed once per image, outside the loop; the gated decoder then samples from its caches."""
    model = small_pixelvae(seed=0)
    randomise_biases(model, rng)
    z = rng.normal(size=(3, 1)).astype("float32")
    assert_cached_equals_reference(model.decoder, known_rows=(0, 1, 3), map=model.latent_maps(z))
    np.testing.assert_array_equal(model.sample(3, seed=2, z=z), model.sample(3, seed=2, z=z, cached=False))


def test_training_then_save_load_round_trip(tmp_path, rng):
    model = small_pixelvae(seed=0)
    x = random_binary_images(rng, 16, (4, 4, 1))
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    logs = model.fit(x, epochs=3, batch_size=8, verbose=0).history
    assert {"nll", "reconstruction", "kl"} <= set(logs)
    np.testing.assert_allclose(np.add(logs["reconstruction"], logs["kl"]), logs["nll"], rtol=1e-5)
    assert logs["nll"][-1] < logs["nll"][0]
    with pytest.raises(ValueError, match="binary"):
        model.fit(x * 0.5, epochs=1, verbose=0)
    path = str(tmp_path / "pixelvae.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, PixelVAE) and restored.get_config() == model.get_config()
    z = rng.normal(size=(2, 1)).astype("float32")
    for before, after in (
        (model.encoder_params(x[:2]), restored.encoder_params(x[:2])),
        ([model.decoder_logits(x[:2], z)], [restored.decoder_logits(x[:2], z)]),
    ):
        for a, b in zip(before, after, strict=True):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_clear_errors(model, rng):
    with pytest.raises(ValueError, match="divisible by 4"):
        PixelVAE(image_shape=(6, 6, 1))
    with pytest.raises(ValueError, match="latent_dim"):
        PixelVAE(image_shape=(4, 4, 1), latent_dim=0)
    x = random_binary_images(rng, 2, (4, 4, 1))
    with pytest.raises(ValueError, match=r"shape \(batch, 4, 4, 1\)"):
        model.log_prob(x[:, :, :3])
    with pytest.raises(ValueError, match="num_samples must be a positive integer"):
        model.log_prob(x, num_samples=0)
    with pytest.raises(ValueError, match="takes the conditions"):
        model.decoder.log_prob(x)


def test_free_nats_changes_the_objective_not_the_bound(rng):
    """free bits (Kingma et al., 2016): the training loss charges max(mean KL, λ), the logged nll stays the ELBO."""
    x = random_binary_images(rng, 3, (4, 4, 1))
    plain, floored = small_pixelvae(seed=0), small_pixelvae(seed=0, free_nats=5.0)
    floored.set_weights(plain.get_weights())
    assert floored.get_config()["free_nats"] == 5.0 and plain.free_nats == 0.0
    for model in (plain, floored):
        terms = model.loss_terms(x, model(x))
        loss = float(model.training_objective(terms))
        reconstruction, kl = (keras.ops.convert_to_numpy(terms[k]).mean() for k in ("reconstruction", "kl"))
        assert kl < 5.0  # a fresh encoder carries little: the floor is what counts
        np.testing.assert_allclose(loss, reconstruction + (5.0 if model.free_nats else kl), rtol=1e-5)
    np.testing.assert_allclose(floored.log_prob(x, seed=1), plain.log_prob(x, seed=1), rtol=1e-6)
    with pytest.raises(ValueError, match="free_nats must be a finite number of at least 0"):
        small_pixelvae(free_nats=-1.0)


def test_kl_warmup_weighs_the_kl_by_the_step_not_the_bound(rng):
    """KL annealing (Bowman et al., 2016): the loss charges min(1, step / n) × mean KL; the logged nll stays exact."""
    x = random_binary_images(rng, 3, (4, 4, 1))
    plain, annealed = small_pixelvae(seed=0), small_pixelvae(seed=0, kl_warmup_steps=4)
    annealed.set_weights(plain.get_weights())
    annealed.compile(optimizer=keras.optimizers.SGD(0.0))  # a zero step: the weights stay, the step counts
    assert annealed.get_config()["kl_warmup_steps"] == 4 and plain.kl_warmup_steps == 0
    terms = annealed.loss_terms(x, annealed(x))
    reconstruction, kl = (keras.ops.convert_to_numpy(terms[k]).mean() for k in ("reconstruction", "kl"))
    for step in range(6):
        annealed.optimizer.iterations.assign(step)
        weight = min(1.0, (step + 1) / 4)
        np.testing.assert_allclose(float(annealed.training_objective(terms)), reconstruction + weight * kl, rtol=1e-5)
    np.testing.assert_allclose(annealed.log_prob(x, seed=1), plain.log_prob(x, seed=1), rtol=1e-6)
    with pytest.raises(ValueError, match="kl_warmup_steps"):
        small_pixelvae(kl_warmup_steps=-1)
