"""Pure tensor functions (``keras.ops`` only), one module per idea, all re-exported here."""

from keras_gen.ops.categorical import categorical_log_prob, categorical_sample
from keras_gen.ops.distributions import (
    bernoulli_log_prob,
    bits_per_dim,
    diagonal_gaussian_log_prob,
    gaussian_kl,
    log_mean_exp,
    reparameterize,
    split_gaussian_stats,
    standard_normal_log_prob,
)
from keras_gen.ops.filterbank import gaussian_filterbank
from keras_gen.ops.logistic_mixture import (
    discretized_logistic_mixture_log_prob,
    logistic_mixture_num_params,
    sample_discretized_logistic_mixture,
)
from keras_gen.ops.shift import down_shift, right_shift
from keras_gen.ops.skew import skew, unskew

__all__ = [
    "categorical_log_prob",
    "categorical_sample",
    "bernoulli_log_prob",
    "bits_per_dim",
    "diagonal_gaussian_log_prob",
    "gaussian_filterbank",
    "gaussian_kl",
    "log_mean_exp",
    "discretized_logistic_mixture_log_prob",
    "down_shift",
    "logistic_mixture_num_params",
    "reparameterize",
    "right_shift",
    "sample_discretized_logistic_mixture",
    "split_gaussian_stats",
    "standard_normal_log_prob",
    "skew",
    "unskew",
]
