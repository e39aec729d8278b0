"""The distribution ops against closed forms, TensorFlow Probability and Monte Carlo."""

import math

import numpy as np
import pytest
from keras import ops

from keras_gen import ops as kg_ops


@pytest.fixture(scope="module")
def tfd():
    """TensorFlow Probability's distributions (its NumPy substrate, no TensorFlow needed); skips without TFP."""
    return pytest.importorskip("tensorflow_probability.substrates.numpy").distributions


def test_gaussian_kl_matches_tfp(rng, tfd):
    mean = rng.normal(size=(7, 5)).astype("float32")
    log_var = rng.normal(size=(7, 5)).astype("float32")
    q = tfd.Normal(mean, np.exp(0.5 * log_var))
    expected = np.asarray(tfd.kl_divergence(q, tfd.Normal(0.0, 1.0))).sum(-1)
    got = ops.convert_to_numpy(kg_ops.gaussian_kl(mean, log_var))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_gaussian_kl_matches_monte_carlo(rng):
    mean = np.array([[0.5, -1.0, 2.0]], dtype="float32")
    log_var = np.array([[0.0, -1.0, 0.7]], dtype="float32")
    z = ops.convert_to_numpy(kg_ops.reparameterize(mean, log_var, rng.standard_normal((200_000, 3)).astype("float32")))
    log_q = ops.convert_to_numpy(kg_ops.diagonal_gaussian_log_prob(z, mean, log_var))
    log_p = ops.convert_to_numpy(kg_ops.standard_normal_log_prob(z))
    monte_carlo = float(np.mean(log_q - log_p))
    exact = float(ops.convert_to_numpy(kg_ops.gaussian_kl(mean, log_var))[0])
    assert exact == pytest.approx(monte_carlo, abs=0.02)


def test_gaussian_kl_is_zero_only_at_the_prior():
    zero = ops.convert_to_numpy(kg_ops.gaussian_kl(np.zeros((1, 4)), np.zeros((1, 4))))
    assert zero[0] == pytest.approx(0.0, abs=1e-7)
    assert ops.convert_to_numpy(kg_ops.gaussian_kl(np.full((1, 4), 0.1), np.zeros((1, 4))))[0] > 0


def test_gaussian_log_probs_match_tfp(rng, tfd):
    z, mean, log_var = (rng.normal(size=(6, 4)).astype("float32") for _ in range(3))
    expected = np.asarray(tfd.Normal(mean, np.exp(0.5 * log_var)).log_prob(z)).sum(-1)
    got = ops.convert_to_numpy(kg_ops.diagonal_gaussian_log_prob(z, mean, log_var))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        ops.convert_to_numpy(kg_ops.standard_normal_log_prob(z)),
        np.asarray(tfd.Normal(0.0, 1.0).log_prob(z)).sum(-1),
        rtol=1e-5,
    )


def test_bernoulli_log_prob_matches_tfp_and_is_stable(tfd):
    logits = np.array([-200.0, -3.0, 0.0, 2.5, 200.0], dtype="float32")
    for value in (0.0, 1.0):
        x = np.full_like(logits, value)
        got = ops.convert_to_numpy(kg_ops.bernoulli_log_prob(logits, x))
        expected = np.asarray(tfd.Bernoulli(logits=logits).log_prob(x))
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_log_mean_exp_is_stable():
    values = np.array([[1000.0, 1000.0 + math.log(3.0)], [-1000.0, -1000.0]], dtype="float32")
    got = ops.convert_to_numpy(kg_ops.log_mean_exp(values, axis=1))
    np.testing.assert_allclose(got, [1000.0 + math.log(2.0), -1000.0], rtol=1e-6)


def test_split_gaussian_stats_halves_the_last_axis():
    stats = np.arange(12, dtype="float32").reshape(2, 6)
    for given in (stats, ops.convert_to_tensor(stats)):
        mean, log_var = kg_ops.split_gaussian_stats(given)
        np.testing.assert_array_equal(ops.convert_to_numpy(mean), stats[:, :3])
        np.testing.assert_array_equal(ops.convert_to_numpy(log_var), stats[:, 3:])


def test_reparameterized_draws_have_the_gaussians_moments(rng):
    mean = np.array([0.5, -1.0, 2.0], dtype="float32")
    log_var = np.array([0.0, -1.0, 0.7], dtype="float32")
    z = ops.convert_to_numpy(kg_ops.reparameterize(mean, log_var, rng.standard_normal((200_000, 3)).astype("float32")))
    np.testing.assert_allclose(z.mean(0), mean, atol=0.02)
    np.testing.assert_allclose(z.var(0), np.exp(log_var), rtol=0.02)
