"""The 256-way softmax over 8-bit values (van den Oord et al., 2016a, section 5.3).

Each sub-pixel is a discrete variable with 256 values; the network gives one logit
per value, and the softmax turns them into a distribution (eq. 2 applied per colour).
"""

from keras import ops


def categorical_log_prob(logits, x):
    """``log softmax(logits)[x]``: the log-probability of the integer ``x`` under ``logits``.

    ``logits`` has shape ``x.shape + (K,)``; the result has the shape of ``x``.
    """
    log_probs = ops.log_softmax(logits, axis=-1)
    one_hot = ops.one_hot(ops.cast(x, "int32"), ops.shape(logits)[-1], dtype=log_probs.dtype)
    return ops.sum(log_probs * one_hot, axis=-1)


def categorical_sample(logits, uniform):
    """Draw from ``softmax(logits)`` by inverting its CDF at ``uniform`` (shape of one draw).

    The value is the number of cumulative probabilities below ``uniform``; the same
    uniform number always gives the same value, so sampling is repeatable.
    """
    cdf = ops.cumsum(ops.softmax(logits, axis=-1), axis=-1)
    below = ops.cast(cdf < ops.expand_dims(uniform, -1), logits.dtype)
    return ops.minimum(ops.sum(below, axis=-1), ops.cast(ops.shape(logits)[-1] - 1, logits.dtype))
