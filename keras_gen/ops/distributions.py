"""Log-densities and divergences of the distributions the models use (nats).

Log-likelihoods are in nats; every function works elementwise or reduces over the
axis its docstring names, so callers decide how to sum over pixels.
"""

import math

from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def gaussian_kl(mean, log_var):
    """KL(N(mean, diag(exp(log_var))) || N(0, I)), summed over the last axis.

    The closed form of Kingma & Welling (2014), appendix B:
    ``-KL = 1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)``.
    """
    mean = ops.convert_to_tensor(mean)
    log_var = ops.convert_to_tensor(log_var)
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)


def reparameterize(mean, log_var, eps):
    """``z = mean + exp(log_var / 2) * eps``: a draw of N(mean, diag(exp(log_var))) from standard normal noise
    ``eps``, differentiable in ``mean`` and ``log_var`` (the reparameterisation trick, Kingma & Welling, 2014, eq. 10).

    Example: ``z = reparameterize(mean, log_var, keras.random.normal(mean.shape, seed=0))``.
    """
    return mean + ops.exp(0.5 * log_var) * eps


def split_gaussian_stats(stats):
    """``(mean, log_var)``: the two halves of the last axis of an encoder's output (..., 2d), tensor or NumPy.

    Example: ``mean, log_var = split_gaussian_stats(encoder(x))``.
    """
    half = stats.shape[-1] // 2
    return stats[..., :half], stats[..., half:]


def diagonal_gaussian_log_prob(z, mean, log_var):
    """log N(z; mean, diag(exp(log_var))), summed over the last axis."""
    return -0.5 * ops.sum(LOG_2PI + log_var + ops.square(z - mean) * ops.exp(-log_var), axis=-1)


def standard_normal_log_prob(z):
    """log N(z; 0, I), summed over the last axis."""
    return -0.5 * ops.sum(LOG_2PI + ops.square(z), axis=-1)


def bernoulli_log_prob(logits, x):
    """Elementwise log Bernoulli(x | sigmoid(logits)), stable for any logit.

    ``x log s(l) + (1 - x) log(1 - s(l)) = x l - softplus(l)``.
    """
    return x * logits - ops.softplus(logits)


def log_mean_exp(values, axis):
    """``log(mean(exp(values), axis))`` without overflow (the importance-weighted bound)."""
    count = ops.shape(values)[axis]
    return ops.logsumexp(values, axis=axis) - ops.log(ops.cast(count, values.dtype))


def bits_per_dim(nll, num_dims):
    """A negative log-likelihood in nats per image as bits per dimension: ``nll / (num_dims · ln 2)``.

    ``num_dims`` is the number of sub-pixels H·W·C (``model.num_dims``); tensors and NumPy arrays alike.

    Example::

        bits = bits_per_dim(-model.log_prob(x), model.num_dims)
    """
    return nll / (num_dims * math.log(2.0))
