"""The discretised logistic mixture of PixelCNN++ (Salimans et al., 2017, section 2.1-2.2).

Each sub-pixel value v in 0..255 is rescaled to ``v / 127.5 - 1`` in [-1, 1], where
the 256 values are bins of width ``2 / 255``. A logistic with mean mu and scale s
gives bin v the mass ``sigmoid((v + 1/255 - mu) / s) - sigmoid((v - 1/255 - mu) / s)``;
the lowest bin takes the whole left tail and the highest the whole right tail, so
the 256 masses sum to 1 (eq. 2). A pixel's channels share the mixture component,
and channel c's mean moves linearly with the values of channels before it (eq. 3):
``mu_G = mu_G + alpha R`` and ``mu_B = mu_B + beta R + gamma G`` for colour.

Parameter layout, the last axis P of ``params`` (shape ``(..., P)``) for C channels
and K components, P = K · (1 + 2C + C(C-1)/2), i.e. 3K for grey and 10K for RGB:

* ``[0, K)``: the mixture logits;
* ``[K, K + CK)``: the means in the [-1, 1] scale, channel-major (channel c's K
  means are entries ``K + cK .. K + (c+1)K - 1``);
* the next CK entries: the log-scales, channel-major, clipped to ``LOG_SCALE_RANGE``;
* the last C(C-1)/2 · K entries: the coupling coefficients, one block of K per pair
  (c, c') with c' < c in the order (1, 0), (2, 0), (2, 1), ... — for RGB that is
  alpha (G on R), beta (B on R), gamma (B on G) of eq. 3; each passes through tanh,
  as in the authors' code, so the coupling stays within (-1, 1).
"""

from keras import ops

from keras_gen.ops.categorical import categorical_sample

LOG_SCALE_RANGE = (-7.0, 7.0)
HALF_BIN = 1.0 / 255.0


def params_per_component(channels):
    """Entries of P per mixture component for ``channels`` channels: 1 + 2C + C(C-1)/2."""
    return 1 + 2 * channels + channels * (channels - 1) // 2


def logistic_mixture_num_params(channels, num_components):
    """P, the length of the parameter axis, for C channels and K components (10K for RGB)."""
    return num_components * params_per_component(channels)


def split_logistic_mixture_params(params, channels):
    """Split ``(..., P)`` into logits ``(..., K)``, means and log-scales ``(..., C, K)``
    and tanh-squashed coupling coefficients ``(..., C(C-1)/2, K)`` (layout: module docstring)."""
    params = ops.convert_to_tensor(params)
    size = params.shape[-1]
    per_component = params_per_component(channels)
    if size is None or size % per_component:
        raise ValueError(
            f"params must have a last axis of K * {per_component} entries for {channels} channel(s) "
            f"(K logits, {channels}K means, {channels}K log-scales, {channels * (channels - 1) // 2}K "
            f"coupling coefficients), got shape {tuple(params.shape)}."
        )
    k = size // per_component
    batch_shape = ops.shape(params)[:-1]

    def block(start, rows):
        return ops.reshape(params[..., start : start + rows * k], tuple(batch_shape) + (rows, k))

    pairs = channels * (channels - 1) // 2
    logits = params[..., :k]
    means = block(k, channels)
    log_scales = ops.clip(block(k + channels * k, channels), *LOG_SCALE_RANGE)
    coefficients = ops.tanh(block(k + 2 * channels * k, pairs)) if pairs else None
    return logits, means, log_scales, coefficients


def couple_mean(means, coefficients, earlier, channel):
    """Channel ``channel``'s K means after eq. 3: ``mu_c + sum_{c' < c} coef(c, c') x_c'``.

    ``earlier`` holds the rescaled values of the channels before it, shape ``(..., >= c)``.
    """
    mean = means[..., channel, :]
    first_pair = channel * (channel - 1) // 2
    for previous in range(channel):
        mean = mean + coefficients[..., first_pair + previous, :] * earlier[..., previous : previous + 1]
    return mean


def _log_one_minus_exp(d):
    """log(1 - exp(-d)) for d > 0, accurate for small d."""
    return ops.log(-ops.expm1(-d))


def discretized_logistic_mixture_log_prob(x, params):
    """log p(x) of each pixel under the discretised logistic mixture (eq. 2-3), in nats.

    Args:
        x: sub-pixel values 0..255 of shape ``(..., C)`` (e.g. ``(B, H, W, C)``).
        params: ``(..., P)`` mixture parameters with the same leading axes (layout:
            module docstring).

    Returns:
        ``(...)``: the log-probability of the whole pixel, all channels jointly.

    A bin's mass is a difference of two sigmoids, which underflows to 0 in float32
    once the bin lies far in a tail; the authors' code then falls back on the
    density at the bin's mid-point times its width. Here the difference is written
    in log-sigmoid form instead, exact for every argument:
    ``log(sigmoid(a) - sigmoid(b)) = log sigmoid(a) + log sigmoid(-b) + log(1 - exp(b - a))``
    (a > b), so no approximation is needed and values and gradients stay finite
    for any mean and for log-scales clipped to ``LOG_SCALE_RANGE``.
    """
    x = ops.cast(ops.convert_to_tensor(x), "float32")
    params = ops.convert_to_tensor(params)
    channels = x.shape[-1]
    if channels is None or len(x.shape) != len(params.shape):
        raise ValueError(
            f"x of shape (..., C) and params of shape (..., P) must have the same leading axes, "
            f"got x {tuple(x.shape)} and params {tuple(params.shape)}."
        )
    logits, means, log_scales, coefficients = split_logistic_mixture_params(params, channels)
    scaled = x / 127.5 - 1.0
    means = ops.stack([couple_mean(means, coefficients, scaled, c) for c in range(channels)], axis=-2)
    centered = ops.expand_dims(scaled, -1) - means
    inverse_scale = ops.exp(-log_scales)
    upper = inverse_scale * (centered + HALF_BIN)
    lower = inverse_scale * (centered - HALF_BIN)
    log_cdf_upper = -ops.softplus(-upper)  # log sigmoid(upper): the whole left tail, bin 0
    log_survival_lower = -ops.softplus(lower)  # log(1 - sigmoid(lower)): the right tail, bin 255
    log_bin = log_cdf_upper + log_survival_lower + _log_one_minus_exp(2.0 * HALF_BIN * inverse_scale)
    value = ops.expand_dims(x, -1)
    log_probs = ops.where(value < 0.5, log_cdf_upper, ops.where(value > 254.5, log_survival_lower, log_bin))
    log_weights = logits - ops.logsumexp(logits, axis=-1, keepdims=True)
    return ops.logsumexp(log_weights + ops.sum(log_probs, axis=-2), axis=-1)


def sample_discretized_logistic_mixture(params, uniform):
    """Draw whole pixels from the mixture by inverting CDFs at ``uniform`` noise.

    Args:
        params: ``(..., P)`` mixture parameters (layout: module docstring).
        uniform: ``(..., 1 + C)`` numbers in [0, 1): the first picks the component,
            the others the C channels; the same numbers always give the same pixel.

    Returns:
        ``(..., C)`` values 0..255 as floats. Channel by channel, the logistic's
        inverse CDF ``mu + s log(u / (1 - u))`` is rounded to its bin (the tails
        clipped to 0 and 255), and the *rounded* value enters the means of the later
        channels (eq. 3), exactly as in the likelihood.
    """
    uniform = ops.convert_to_tensor(uniform)
    channels = uniform.shape[-1] - 1
    logits, means, log_scales, coefficients = split_logistic_mixture_params(params, channels)
    num_components = logits.shape[-1]
    if num_components == 1:
        weights = ops.ones_like(logits)
    else:
        component = categorical_sample(logits, uniform[..., 0])
        weights = ops.one_hot(ops.cast(component, "int32"), num_components, dtype=logits.dtype)
    u = ops.clip(uniform[..., 1:], 1e-6, 1.0 - 1e-6)
    levels, rescaled = [], []
    for c in range(channels):
        earlier = ops.stack(rescaled, axis=-1) if rescaled else None
        mean = ops.sum(weights * couple_mean(means, coefficients, earlier, c), axis=-1)
        scale = ops.exp(ops.sum(weights * log_scales[..., c, :], axis=-1))
        continuous = mean + scale * (ops.log(u[..., c]) - ops.log1p(-u[..., c]))
        level = ops.clip(ops.round((continuous + 1.0) * 127.5), 0.0, 255.0)
        levels.append(level)
        rescaled.append(level / 127.5 - 1.0)
    return ops.stack(levels, axis=-1)
