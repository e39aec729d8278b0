"""The discretised logistic mixture (Salimans et al., 2017, eq. 2-3): normalisation by
brute force, agreement with TensorFlow Probability and a float64 NumPy transcription,
stability in the tails, finite gradients, and a sampler that draws from the same law."""

import keras
import numpy as np
import pytest
from scipy.special import expit, logsumexp

from keras_gen import ops as kg_ops
from keras_gen.ops.logistic_mixture import LOG_SCALE_RANGE, params_per_component

VALUES = np.arange(256, dtype="float32")


def random_params(rng, n, channels, k, extreme=False):
    """Parameters (n, P) in the documented layout; ``extreme`` adds huge logits,
    tiny and huge scales, means far outside [-1, 1] and saturated couplings."""
    spread = (10.0, 4.0, (-12.0, 10.0), 10.0) if extreme else (1.0, 0.8, (-4.0, -1.0), 1.0)
    logit_scale, mean_scale, (low, high), coefficient_scale = spread
    pairs = channels * (channels - 1) // 2
    return np.concatenate(
        [
            rng.normal(size=(n, k)) * logit_scale,
            rng.uniform(-mean_scale, mean_scale, size=(n, channels * k)),
            rng.uniform(low, high, size=(n, channels * k)),
            rng.normal(size=(n, pairs * k)) * coefficient_scale,
        ],
        axis=1,
    ).astype("float32")


def fewer_channels(params, channels, k):
    """The parameters of the first ``channels - 1`` channels (the layout keeps them first)."""
    fewer = channels - 1
    pairs = fewer * (fewer - 1) // 2
    return np.concatenate(
        [
            params[:, :k],
            params[:, k : k + fewer * k],
            params[:, k + channels * k : k + channels * k + fewer * k],
            params[:, k + 2 * channels * k : k + 2 * channels * k + pairs * k],
        ],
        axis=1,
    )


def compiled(fn):
    """``fn`` traced once per shape on JAX (op-by-op JAX is slow), as is on TensorFlow."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    return fn


def to_numpy(fn):
    return lambda *args: np.asarray(keras.ops.convert_to_numpy(fn(*args)))


log_prob = to_numpy(compiled(kg_ops.discretized_logistic_mixture_log_prob))
sample = to_numpy(compiled(kg_ops.sample_discretized_logistic_mixture))


def numpy_log_prob(x, params, channels):
    """Eq. 2-3 in float64, transcribed directly: bin masses as sigmoid differences taken
    on the side of the mean where they do not cancel, edges absorbing the tails."""
    x = np.asarray(x, "float64")
    params = np.asarray(params, "float64")
    k = params.shape[-1] // params_per_component(channels)
    logits = params[..., :k]
    means = params[..., k : k + channels * k].reshape(params.shape[:-1] + (channels, k))
    log_scales = np.clip(
        params[..., k + channels * k : k + 2 * channels * k].reshape(params.shape[:-1] + (channels, k)),
        *LOG_SCALE_RANGE,
    )
    coefficients = np.tanh(params[..., k + 2 * channels * k :].reshape(params.shape[:-1] + (-1, k)))
    scaled = x / 127.5 - 1.0
    total = logits - logsumexp(logits, axis=-1, keepdims=True)
    pair = 0
    for c in range(channels):
        mean = means[..., c, :].copy()
        for previous in range(c):  # eq. 3: mu_G += alpha R, mu_B += beta R + gamma G
            mean += coefficients[..., pair, :] * scaled[..., previous : previous + 1]
            pair += 1
        scale = np.exp(log_scales[..., c, :])
        value = x[..., c : c + 1]
        upper = (scaled[..., c : c + 1] + 1 / 255 - mean) / scale
        lower = (scaled[..., c : c + 1] - 1 / 255 - mean) / scale
        mass = np.where(lower > 0, expit(-lower) - expit(-upper), expit(upper) - expit(lower))
        mass = np.where(value == 0, expit(upper), np.where(value == 255, expit(-lower), mass))
        with np.errstate(divide="ignore"):
            total = total + np.log(mass)
    return logsumexp(total, axis=-1)


def gradient(fn, x):
    """d sum(fn(x)) / dx with the backend's own autodiff."""
    x = np.asarray(x, "float32")
    if keras.backend.backend() == "jax":
        import jax

        return np.asarray(jax.jit(jax.grad(lambda v: keras.ops.sum(fn(v))))(jax.numpy.asarray(x)))
    import tensorflow as tf

    variable = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(variable)
        total = tf.reduce_sum(fn(variable))
    return tape.gradient(total, variable).numpy()


def test_parameter_count():
    assert kg_ops.logistic_mixture_num_params(3, 10) == 100  # 10 K for RGB
    assert kg_ops.logistic_mixture_num_params(1, 5) == 15  # 3 K for grey


@pytest.mark.parametrize("extreme", [False, True])
def test_single_channel_sums_to_one_over_256_values(rng, extreme):
    params = random_params(rng, 64, channels=1, k=5, extreme=extreme)
    x = np.broadcast_to(VALUES[:, None, None], (256, 64, 1))
    values = log_prob(x, np.broadcast_to(params, (256,) + params.shape))
    assert np.all(np.isfinite(values))
    np.testing.assert_allclose(logsumexp(values.astype("float64"), axis=0), 0.0, atol=2e-5)


def test_colour_pixel_sums_to_one_sub_pixel_by_sub_pixel(rng):
    """Summing the joint over the 256 values of the last channel gives the model on the
    channels before it (brute force at random earlier values), down to 1 for R."""
    channels, k, n, m = 3, 4, 4, 12
    params = random_params(rng, n, channels, k, extreme=True)
    for c in range(channels, 1, -1):
        earlier = rng.integers(0, 256, size=(n, m, c - 1)).astype("float32")
        earlier[:, 0], earlier[:, 1] = 0.0, 255.0  # the edge values too
        x = np.concatenate(
            [
                np.broadcast_to(earlier[:, :, None], (n, m, 256, c - 1)),
                np.broadcast_to(VALUES[:, None], (n, m, 256, 1)),
            ],
            axis=-1,
        )
        joint = log_prob(x, np.broadcast_to(params[:, None, None], x.shape[:3] + (params.shape[-1],)))
        params = fewer_channels(params, c, k)
        marginal = log_prob(earlier, np.broadcast_to(params[:, None], (n, m, params.shape[-1])))
        np.testing.assert_allclose(logsumexp(joint.astype("float64"), axis=-1), marginal, rtol=1e-5, atol=5e-5)
    x = np.broadcast_to(VALUES[None, :, None], (n, 256, 1))
    red = log_prob(x, np.broadcast_to(params[:, None], (n, 256, params.shape[-1])))
    np.testing.assert_allclose(logsumexp(red.astype("float64"), axis=-1), 0.0, atol=2e-5)


def test_matches_tensorflow_probability_for_one_channel(rng):
    tfp = pytest.importorskip("tensorflow_probability.substrates.numpy")
    k = 3
    params = random_params(rng, 4 * 5 * 5, channels=1, k=k).reshape(4, 5, 5, 3 * k)
    x = rng.integers(0, 256, size=(4, 5, 5, 1)).astype("float32")
    x[0, 0, :3, 0] = [0, 255, 1]
    logits, means, log_scales = params[..., :k], params[..., k : 2 * k], params[..., 2 * k :]
    # the op's bins are [v - 0.5, v + 0.5] on the 0..255 scale; TFP's are (v - 1, v]
    logistic = tfp.distributions.Logistic(
        loc=(means.astype("float64") + 1.0) * 127.5 - 0.5, scale=np.exp(log_scales.astype("float64")) * 127.5
    )
    mixture = tfp.distributions.MixtureSameFamily(
        tfp.distributions.Categorical(logits=logits.astype("float64")), logistic
    )
    quantized = tfp.distributions.QuantizedDistribution(mixture, low=0.0, high=255.0)
    expected = quantized.log_prob(x[..., 0].astype("float64"))
    np.testing.assert_allclose(log_prob(x, params), expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_matches_numpy_transcription_of_equations_2_and_3(rng, channels):
    params = random_params(rng, 300, channels, k=4)
    x = rng.integers(0, 256, size=(300, channels)).astype("float32")
    x[:8] = np.array([0, 255, 1, 254, 0, 0, 255, 255])[:, None][:, [0] * channels]
    np.testing.assert_allclose(log_prob(x, params), numpy_log_prob(x, params, channels), rtol=1e-5, atol=1e-4)


def test_red_moves_the_green_and_blue_means(rng):
    """With a single component, p(g | r) depends on r only through mu_G + alpha R."""
    params = random_params(rng, 1, channels=3, k=1)
    params[0, 7:] = [3.0, 0.0, 0.0]  # alpha = tanh(3), no coupling for blue
    a = log_prob(np.array([[10.0, 60.0, 90.0]]), params) - log_prob(np.array([[10.0, 0.0, 0.0]]), params)
    b = log_prob(np.array([[200.0, 60.0, 90.0]]), params) - log_prob(np.array([[200.0, 0.0, 0.0]]), params)
    assert abs(a[0] - b[0]) > 1.0


def test_exact_where_float32_sigmoid_differences_underflow(rng):
    """Narrow components far from a bin: the plain difference of sigmoids is 0 in
    float32 (log = -inf), the log-sigmoid form matches float64 to the last digits."""
    params = np.array([[0.0, -0.6, -5.5], [0.0, 0.7, -5.0], [0.0, 3.0, -1.0], [0.0, -4.0, -2.0]], "float32")
    x = np.broadcast_to(VALUES[:, None, None], (256, 4, 1))
    p = np.broadcast_to(params, (256, 4, 3))
    expected = numpy_log_prob(x, p, 1)
    plain = expit(((x + 1 - 127.5) / 127.5 - p[..., 1:2]) / np.exp(p[..., 2:3])).astype("float32") - expit(
        ((x - 1 - 127.5) / 127.5 - p[..., 1:2]) / np.exp(p[..., 2:3])
    ).astype("float32")
    assert np.any(plain == 0.0) and np.all(np.isfinite(expected)) and expected.min() < -300
    np.testing.assert_allclose(log_prob(x, p), expected, rtol=1e-5, atol=1e-3)


def test_finite_values_and_gradients_for_extreme_parameters(rng):
    params = random_params(rng, 200, channels=3, k=3, extreme=True) * 5.0
    x = rng.integers(0, 256, size=(200, 3)).astype("float32")
    x[:6] = [[0, 0, 0], [255, 255, 255], [0, 255, 1], [254, 1, 255], [128, 127, 0], [255, 0, 128]]
    assert np.all(np.isfinite(log_prob(x, params)))
    grads = gradient(lambda p: kg_ops.discretized_logistic_mixture_log_prob(x, p), params)
    assert np.all(np.isfinite(grads))


def numpy_inverse_cdf_sample(params, uniform, channels):
    """The sampler transcribed: component by inverting the mixture CDF, then each
    channel's logistic inverse CDF, rounded to its bin before coupling the next."""
    k = params.shape[-1] // params_per_component(channels)
    weights = np.exp(params[:, :k] - logsumexp(params[:, :k], axis=-1, keepdims=True))
    component = np.minimum((np.cumsum(weights, -1) < uniform[:, :1]).sum(-1), k - 1)
    rows = np.arange(len(params))
    means = params[:, k : k + channels * k].reshape(-1, channels, k)[rows, :, component]
    scales = np.exp(np.clip(params[:, k + channels * k : k + 2 * channels * k], *LOG_SCALE_RANGE))
    scales = scales.reshape(-1, channels, k)[rows, :, component]
    coefficients = np.tanh(params[:, k + 2 * channels * k :].reshape(len(params), -1, k)[rows, :, component])
    u = np.clip(uniform[:, 1:], 1e-6, 1 - 1e-6)
    out = np.zeros((len(params), channels))
    pair = 0
    for c in range(channels):
        mean = means[:, c].copy()
        for previous in range(c):
            mean += coefficients[:, pair] * (out[:, previous] / 127.5 - 1.0)
            pair += 1
        continuous = mean + scales[:, c] * np.log(u[:, c] / (1 - u[:, c]))
        out[:, c] = np.clip(np.round((continuous + 1.0) * 127.5), 0, 255)
    return out


def test_sampler_is_the_inverse_cdf_with_rounded_coupling(rng):
    params = random_params(rng, 2000, channels=3, k=4)
    uniform = rng.random((2000, 4), dtype=np.float32)
    drawn = sample(params, uniform)
    expected = numpy_inverse_cdf_sample(params.astype("float64"), uniform.astype("float64"), 3)
    assert drawn.shape == (2000, 3) and np.all(drawn == np.round(drawn))
    # float32 may round a value that lies on a bin edge the other way: allow a few
    assert np.mean(np.all(drawn == expected, axis=-1)) > 0.995


# two components; the second channel is narrow and coupled with tanh(4) to the first,
# so coupling it to the unrounded red value would move much of its mass to a neighbour
FREQUENCY_PARAMS = {
    1: [0.3, -0.2, -0.05, 0.1, -4.5, -3.5],
    2: [0.3, -0.2, -0.2, 0.4, 0.3, 0.6, -5.0, -4.5, -7.0, -7.0, 4.0, 4.0],
}


@pytest.mark.parametrize("channels", [1, 2])
def test_sample_frequencies_match_the_probabilities(rng, channels):
    """Histogram of 100,000 draws against exp(log_prob) over all 256^C values, no
    further off than a multinomial draw of the same size from the exact probabilities."""
    n = 100_000
    params = np.array([FREQUENCY_PARAMS[channels]], "float32")
    values = np.stack(np.meshgrid(*[VALUES] * channels, indexing="ij"), axis=-1).reshape(-1, channels)
    probabilities = np.exp(log_prob(values, np.broadcast_to(params, (len(values), params.shape[1]))))
    probabilities = probabilities.astype("float64") / probabilities.sum(dtype="float64")
    drawn = sample(np.broadcast_to(params, (n, params.shape[1])), rng.random((n, channels + 1), dtype=np.float32))
    index = np.ravel_multi_index(tuple(drawn.astype(int).T), (256,) * channels)
    distance = 0.5 * np.abs(np.bincount(index, minlength=256**channels) / n - probabilities).sum()
    reference = 0.5 * np.abs(rng.multinomial(n, probabilities) / n - probabilities).sum()
    assert distance < 2 * reference + 0.005


def test_sampler_piles_tails_onto_the_edge_values():
    params = np.array([[0.0, -3.0, -3.0], [0.0, 3.0, -3.0]], "float32")  # means far below 0 and above 255
    drawn = sample(np.repeat(params, 500, axis=0), np.random.default_rng(1).random((1000, 2), dtype=np.float32))
    assert np.all(drawn[:500] == 0) and np.all(drawn[500:] == 255)


def test_bad_parameter_shapes_raise():
    with pytest.raises(ValueError, match="K \\* 10"):
        kg_ops.discretized_logistic_mixture_log_prob(np.zeros((2, 3)), np.zeros((2, 25)))
    with pytest.raises(ValueError, match="same leading axes"):
        kg_ops.discretized_logistic_mixture_log_prob(np.zeros((2, 4, 3)), np.zeros((2, 10)))
