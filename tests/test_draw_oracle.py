"""DRAW step by step against an independent NumPy transcription of Gregor et al. (2015).

The reference below is written from the paper's equations alone, in float64 NumPy; it reads
nothing from ``keras_gen`` but the weights of a model (by their paths) and calls none of its
layers or ops. It recomputes, for T = 3 steps on 8×10×2 images (not square, two channels: a swapped
width and height or channel axis shows), with and without attention and for both likelihoods:

* the read window and the write window of every step, eq. 19–24, with their filterbanks
  (eq. 25–26), the read (eq. 27, or eq. 17 without attention) and the write (eq. 28–29, or eq. 18);
* the error image, the encoder LSTM, the posterior, the sample, the decoder LSTM and the canvas,
  eq. 3–8, and from them sigma(c_t) for every t;
* the KL of every step (eq. 10–11), the reconstruction term -log D(x | c_T) (eq. 9, Bernoulli,
  or the discretised logistic of ``output="logistic"``), the ELBO (eq. 12) and the importance
  weights of Burda et al. (2016) that ``log_prob(num_samples=k)`` averages.

The noise eps_t of z_t = mu_t + sigma_t eps_t is not recovered from the model's own z (that would
make the sampling equation hold by construction): the test draws it the way the model does,
the first draw of a ``keras.random.SeedGenerator`` whose state ``run_compiled`` sets to
``[seed, 0]``, shape (T, batch, z_dim), and hands the same eps to the reference.

Where the library chose differently from the paper, the reference follows the library's
documented choice and says so next to the equation.
"""

import keras
import numpy as np
import pytest

from keras_gen.models import DRAW

T, READ_N, WRITE_N, Z_DIM, UNITS = 3, 2, 3, 3, 6
SHAPES = [(8, 8, 1), (8, 10, 2)]  # (B, A, C) in the paper's names: height B, width A; the second catches swaps
SEED = 21
ATOL = 1e-5  # float32 model against the float64 reference


# ---------------------------------------------------------------------------------------------
# The reference: float64 NumPy, written from the paper
# ---------------------------------------------------------------------------------------------


def sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def log_sigmoid(a):
    return -np.logaddexp(0.0, -a)


def lstm(h_prev, cell_prev, inputs, kernel, recurrent_kernel, bias):
    """RNN^enc / RNN^dec of eq. 5 and 7: an LSTM cell (Hochreiter & Schmidhuber, 1997).

    Gates in the column order of Keras's LSTMCell, [input, forget, cell candidate, output],
    sigmoid gates and tanh activations, no peephole connections.
    """
    i, f, g, o = np.split(inputs @ kernel + h_prev @ recurrent_kernel + bias, 4, axis=-1)
    cell = sigmoid(f) * cell_prev + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(cell), cell


def attention_window(params, N, A, B):
    """eq. 21–24: the window (g_X, g_Y, delta, sigma^2, gamma), one row per image, from
    params = (g~_X, g~_Y, log sigma^2, log delta~, log gamma) = W(h^dec) (eq. 21).

    eq. 22–23 read g_X = (A + 1)/2 (g~_X + 1) with pixels counted 1..A. The library counts
    pixels from 0 and writes g_X = (A - 1)/2 (g~_X + 1) (layers/attention.py, AttentionWindow):
    g~ = 0 is the centre (A - 1)/2 in both, g~ = ±1 are the first and last pixels. Transcribed
    as the library documents it.
    eq. 24: delta = (max(A, B) - 1)/(N - 1) delta~ (the library guards N = 1; N > 1 here).
    """
    g_x, g_y, log_variance, log_stride, log_gamma = params.T
    return np.stack(
        [
            (A - 1) / 2 * (g_x + 1),  # eq. 22, 0-based (see above)
            (B - 1) / 2 * (g_y + 1),  # eq. 23, 0-based
            (max(A, B) - 1) / (N - 1) * np.exp(log_stride),  # eq. 24
            np.exp(log_variance),  # sigma^2, used as the variance in eq. 25–26
            np.exp(log_gamma),
        ],
        axis=-1,
    )


def filterbank(centre, stride, variance, N, size):
    """eq. 19–20 and 25–26: F[b, i, a] = exp(-(a - mu_i)^2 / (2 sigma^2)) / Z_i, one row per filter.

    mu_i = g + (i - N/2 - 0.5) delta for i = 1..N (eq. 19–20). The paper's pixels a run 1..A;
    here, as in the library, 0..A-1 (the same convention as the centre above). Z_i makes each
    row sum to 1 over a (eq. 25–26).
    """
    i = np.arange(1, N + 1)
    mu = centre[:, None] + (i - N / 2 - 0.5)[None, :] * stride[:, None]  # (batch, N)
    a = np.arange(size)
    f = np.exp(-((a[None, None, :] - mu[:, :, None]) ** 2) / (2 * variance[:, None, None]))
    return f / f.sum(axis=-1, keepdims=True)


def filterbanks(window, N, A, B):
    g_x, g_y, stride, variance, gamma = window.T
    return filterbank(g_x, stride, variance, N, A), filterbank(g_y, stride, variance, N, B), gamma


def attentive_read(x, x_hat, window, N, A, B):
    """eq. 27: read(x, x_hat, h^dec) = gamma [F_Y x F_X^T, F_Y x_hat F_X^T], each channel with
    the same filters; each glimpse flattened (row, column, channel) and the two concatenated."""
    f_x, f_y, gamma = filterbanks(window, N, A, B)
    batch = x.shape[0]
    glimpses = []
    for image in (x, x_hat):
        per_channel = [f_y @ image[..., c] @ np.swapaxes(f_x, 1, 2) for c in range(image.shape[-1])]
        glimpses.append((gamma[:, None, None, None] * np.stack(per_channel, axis=-1)).reshape(batch, -1))
    return np.concatenate(glimpses, axis=-1)


def attentive_write(patch, window, N, A, B):
    """eq. 29: write(h^dec) = (1 / gamma^) F^_Y^T w_t F^_X, each channel of the N×N patch w_t."""
    f_x, f_y, gamma = filterbanks(window, N, A, B)
    per_channel = [np.swapaxes(f_y, 1, 2) @ patch[..., c] @ f_x for c in range(patch.shape[-1])]
    return np.stack(per_channel, axis=-1) / gamma[:, None, None, None]


def reference_draw(weights, x, eps, *, attention, image_shape, read_n=READ_N, write_n=WRITE_N):
    """Run eq. 3–8 for the T steps that eps (T, batch, z_dim) allows; x as the network reads it.

    Returns the stacked (T, batch, ...) canvases c_t, posteriors mu_t and log sigma_t^2,
    codes z_t and, with attention, the read and write windows of every step.
    """
    B, A, C = image_shape
    batch = x.shape[0]

    def batched(name):
        return np.broadcast_to(weights[name], (batch,) + weights[name].shape)

    def linear(name, inputs):  # W(h) of the paper: an affine map, a Dense layer's kernel and bias
        return inputs @ weights[f"{name}/kernel"] + weights[f"{name}/bias"]

    # c_0, h^enc_0 and h^dec_0 are learned biases (the paper leaves them open); the LSTM cells start at 0
    canvas, h_enc, h_dec = batched("initial_canvas"), batched("initial_h_enc"), batched("initial_h_dec")
    cell_enc, cell_dec = np.zeros_like(h_enc), np.zeros_like(h_dec)
    steps = {k: [] for k in ("canvas", "mean", "log_var", "z", "read_window", "write_window")}
    for eps_t in eps:
        x_hat = x - sigmoid(canvas)  # eq. 3
        if attention:  # eq. 4 with eq. 27, the window from h^dec_{t-1}
            read_window = attention_window(linear("read/read_window/window_parameters", h_dec), read_n, A, B)
            r = attentive_read(x, x_hat, read_window, read_n, A, B)
            steps["read_window"].append(read_window)
        else:  # eq. 4 with eq. 17: the whole image and error image
            r = np.concatenate([x.reshape(batch, -1), x_hat.reshape(batch, -1)], axis=-1)
        h_enc, cell_enc = lstm(  # eq. 5
            h_enc,
            cell_enc,
            np.concatenate([r, h_dec], axis=-1),
            weights["encoder/kernel"],
            weights["encoder/recurrent_kernel"],
            weights["encoder/bias"],
        )
        # eq. 1–2: mu_t = W(h^enc_t), sigma_t = exp(W(h^enc_t)). The library's linear map emits
        # (mu_t, log sigma_t^2) (models/draw.py): the same family, log sigma_t scaled by 2.
        mean, log_var = np.split(linear("posterior", h_enc), 2, axis=-1)
        z = mean + np.exp(0.5 * log_var) * eps_t  # eq. 6, reparameterised
        h_dec, cell_dec = lstm(  # eq. 7
            h_dec, cell_dec, z, weights["decoder/kernel"], weights["decoder/recurrent_kernel"], weights["decoder/bias"]
        )
        if attention:  # eq. 8 with eq. 28–29, the window from h^dec_t
            write_window = attention_window(linear("write/write_window/window_parameters", h_dec), write_n, A, B)
            patch = linear("write/write_patch", h_dec)  # eq. 28
            update = attentive_write(patch.reshape(batch, write_n, write_n, C), write_window, write_n, A, B)
            steps["write_window"].append(write_window)
        else:  # eq. 8 with eq. 18: a linear map to the whole canvas
            update = linear("write/write_image", h_dec).reshape(x.shape)
        canvas = canvas + update  # eq. 8
        for key, value in (("canvas", canvas), ("mean", mean), ("log_var", log_var), ("z", z)):
            steps[key].append(value)
    return {key: np.stack(values) for key, values in steps.items() if values}


def step_kl(mean, log_var):
    """eq. 10–11 for one step: KL(N(mu_t, sigma_t^2) || N(0, I)) = 1/2 sum_j (mu^2 + sigma^2 - log sigma^2 - 1).

    The paper prints eq. 11 summed over t as 1/2 sum_t (mu_t^2 + sigma_t^2 - log sigma_t^2) - T/2;
    with mu_t a vector of z_dim entries the constant is -T z_dim / 2, one -1/2 per dimension, which
    is what the closed form of the KL gives and what the library computes.
    """
    return 0.5 * np.sum(mean**2 + np.exp(log_var) - log_var - 1.0, axis=-1)


def bernoulli_log_likelihood(x, canvas):
    """eq. 9: log D(x | c_T), D Bernoulli with means sigma(c_T), summed over pixels and channels."""
    return np.sum(x * log_sigmoid(canvas) + (1 - x) * log_sigmoid(-canvas), axis=(1, 2, 3))


def logistic_log_likelihood(x, canvas, log_scale):
    """log D(x | c_T) for 8-bit images (``output="logistic"``): per sub-pixel, a logistic of mean
    2 sigma(c_T) - 1 and scale exp(log_scale[channel]) on the [-1, 1] scale, integrated over the
    bin of width 2/255 around x, the end bins taking the tails (Salimans et al. 2017, eq. 2)."""
    centre = x / 127.5 - 1.0
    mean, scale = 2 * sigmoid(canvas) - 1, np.exp(log_scale)
    upper = np.where(x == 255, 1.0, sigmoid((centre + 1 / 255 - mean) / scale))
    lower = np.where(x == 0, 0.0, sigmoid((centre - 1 / 255 - mean) / scale))
    return np.sum(np.log(upper - lower), axis=(1, 2, 3))


def log_normal(z, mean, log_var):
    return -0.5 * np.sum(np.log(2 * np.pi) + log_var + (z - mean) ** 2 / np.exp(log_var), axis=-1)


def reference_bound_terms(model, x, eps):
    """The reference's steps plus its per-step KL (T, batch), log D(x | c_T) and the log weight
    log D(x | c_T) + sum_t [log p(z_t) - log Q(z_t | h^enc_t)] per image (Burda et al. 2016)."""
    logistic = model.output_distribution == "logistic"
    x = np.asarray(x, "float64")
    read_x = x / 255.0 if logistic else x  # the network reads 8-bit images on [0, 1], so eq. 3 keeps its form
    weights = model_weights(model)
    steps = reference_draw(
        weights,
        read_x,
        np.asarray(eps, "float64"),
        attention=model.attention,
        image_shape=model.image_shape,
        read_n=model.read_n,
        write_n=model.write_n,
    )
    canvas = steps["canvas"][-1]
    if logistic:
        log_d = logistic_log_likelihood(x, canvas, weights["log_scale"])
    else:
        log_d = bernoulli_log_likelihood(x, canvas)
    zeros = np.zeros_like(steps["z"])
    log_ratio = log_normal(steps["z"], zeros, zeros) - log_normal(steps["z"], steps["mean"], steps["log_var"])
    kl = step_kl(steps["mean"], steps["log_var"])
    return {**steps, "kl": kl, "log_d": log_d, "log_weight": log_d + log_ratio.sum(axis=0)}


# ---------------------------------------------------------------------------------------------
# The model side: weights, noise, models with every weight random
# ---------------------------------------------------------------------------------------------


def model_weights(model):
    """The model's weights as float64 arrays, by path (the model's own name dropped)."""
    prefix = model.name + "/"
    return {w.path.removeprefix(prefix): np.asarray(keras.ops.convert_to_numpy(w), "float64") for w in model.weights}


def model_noise(seed, batch, z_dim=Z_DIM):
    """eps as the model draws it: ``run_compiled`` sets its seed generator's state to [seed, 0], and
    ``DRAW._infer`` draws normal((T, batch, z_dim)) from it once, before the steps."""
    eps = keras.random.normal((T, batch, z_dim), dtype="float32", seed=keras.random.SeedGenerator(seed))
    return keras.ops.convert_to_numpy(eps)


def randomise(model, rng):
    """Move every weight away from its initial value, so that no term vanishes (zero biases, c_0 = 0)
    and a swapped gate, axis or bias shows. The window biases stay near the library's initial
    window, so the windows stay on the image."""
    for w in model.weights:
        value = keras.ops.convert_to_numpy(w)
        scale = 0.5 / np.sqrt(w.shape[0]) if len(w.shape) == 2 else 0.3
        w.assign((value + scale * rng.standard_normal(w.shape)).astype("float32"))


def make_model(attention, image_shape, output="bernoulli"):
    model = DRAW(
        image_shape=image_shape,
        T=T,
        read_n=READ_N,
        write_n=WRITE_N,
        z_dim=Z_DIM,
        enc_units=UNITS,
        dec_units=UNITS,
        attention=attention,
        output=output,
    )
    randomise(model, np.random.default_rng(sum(image_shape) + attention))
    return model


def images(model, batch, rng):
    shape = (batch,) + model.image_shape
    if model.output_distribution == "logistic":
        return rng.integers(0, 256, shape).astype("float32")
    return (rng.random(shape) < 0.4).astype("float32")


# One image shape, 8×10×2: no code path of DRAW depends on the shape (8×8×1 ran the same code, and each
# case costs a model and three compiled graphs); the square shape stays in the test of the initial windows.
CASES = [(True, SHAPES[1], "bernoulli"), (False, SHAPES[1], "bernoulli"), (True, SHAPES[1], "logistic")]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{'attention' if c[0] else 'full'}-{c[1]}-{c[2]}")
def case(request):
    keras.utils.set_random_seed(5)
    attention, shape, output = request.param
    model = make_model(attention, shape, output)
    x = images(model, 4, np.random.default_rng(3))
    return model, x, reference_bound_terms(model, x, model_noise(SEED, len(x)))


# ---------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------


def test_every_step_matches_the_reference(case):
    """c_t, mu_t, log sigma_t^2, z_t, the windows and the running KL of every step, eq. 3–8 and 10–11."""
    model, x, expected = case
    trace = model.reconstruction_trace(x, seed=SEED)
    # first that the reference was handed the model's own eps, (z_t - mu_t) / sigma_t of the trace: without
    # this a change in how DRAW draws its noise would show as a disagreement of z_t with no hint of the cause
    recovered = (trace["z"] - trace["mean"]) / np.exp(0.5 * trace["log_var"])
    np.testing.assert_allclose(
        np.moveaxis(recovered, 1, 0), model_noise(SEED, len(x)), rtol=0, atol=1e-4, err_msg="the noise eps"
    )

    def per_step(key):  # the reference's (T, batch, ...) as the trace's (batch, T, ...)
        return np.moveaxis(expected[key], 0, 1)

    np.testing.assert_allclose(trace["canvases"], sigmoid(per_step("canvas")), rtol=0, atol=ATOL)
    for key in ("mean", "log_var", "z"):
        np.testing.assert_allclose(trace[key], per_step(key), rtol=0, atol=ATOL, err_msg=key)
    np.testing.assert_allclose(trace["kl"], np.cumsum(per_step("kl"), axis=1), rtol=ATOL, atol=ATOL)
    assert ("read_window" in trace) == ("write_window" in trace) == model.attention
    if model.attention:
        for key in ("read_window", "write_window"):
            np.testing.assert_allclose(trace[key], per_step(key), rtol=ATOL, atol=ATOL, err_msg=key)


def test_elbo_matches_the_reference(case):
    """log D(x | c_T) (eq. 9), the KL summed over the steps (eq. 10–11) and the ELBO (eq. 12), per image."""
    model, x, expected = case
    terms = model.elbo_terms(x, seed=SEED)  # the same seed: the same eps_1..eps_T
    kl = expected["kl"].sum(axis=0)
    np.testing.assert_allclose(terms["reconstruction"], expected["log_d"], rtol=ATOL, atol=ATOL)
    np.testing.assert_allclose(terms["kl"], kl, rtol=ATOL, atol=ATOL)
    np.testing.assert_allclose(model.log_prob(x, seed=SEED), expected["log_d"] - kl, rtol=ATOL, atol=ATOL)


def test_importance_weighted_bound_matches_the_reference(case):
    """log (1/k) sum_k w_k over k runs per image, each run's weight from the reference's eq. 3–9."""
    model, x, _ = case
    k = 3
    repeated = np.repeat(x, k, axis=0)  # the model repeats each image k times and draws eps for all runs at once
    log_weights = reference_bound_terms(model, repeated, model_noise(SEED, len(repeated)))["log_weight"]
    log_weights = log_weights.reshape(len(x), k)
    top = log_weights.max(axis=1)
    expected = top + np.log(np.mean(np.exp(log_weights - top[:, None]), axis=1))
    np.testing.assert_allclose(model.log_prob(x, num_samples=k, seed=SEED), expected, rtol=ATOL, atol=ATOL)


@pytest.mark.parametrize("shape", SHAPES)
def test_initial_windows_are_the_documented_whole_image_views(shape):
    """The library's choice for the paper's open initial window (layers/attention.py, AttentionWindow):
    with h^dec = 0 the bias alone gives a window centred on the image, with stride max(A, B)/N so that
    the N filters tile it, sigma = stride/2, read intensity gamma = 1 and write gamma^ = N^2 / (A B)."""
    B, A, _ = shape
    model = DRAW(image_shape=shape, T=T, read_n=READ_N, write_n=WRITE_N, z_dim=Z_DIM, enc_units=UNITS, dec_units=UNITS)
    weights = model_weights(model)
    for layer, N, gamma in (("read/read", READ_N, 1.0), ("write/write", WRITE_N, WRITE_N**2 / (A * B))):
        window = attention_window(weights[f"{layer}_window/window_parameters/bias"][None], N, A, B)[0]
        stride = max(A, B) / N
        np.testing.assert_allclose(window, [(A - 1) / 2, (B - 1) / 2, stride, (stride / 2) ** 2, gamma], rtol=1e-6)
    assert not weights["initial_h_dec"].any()  # so the first read looks through that window


def test_logged_training_terms_match_the_reference():
    """What ``fit`` logs, nll = -log D(x | c_T) + sum_t KL and its two terms (eq. 9–12), is the
    reference's batch mean for the weights before the update and the noise the model's own seed
    generator draws next (one unshuffled batch, one epoch: the logs are of that one forward pass)."""
    model = make_model(True, SHAPES[1])
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    x = images(model, 8, np.random.default_rng(4))
    expected = reference_bound_terms(model, x, model_noise(SEED, len(x)))
    model.seed_generator.state.assign(np.array([SEED, 0], "uint32"))
    logged = {k: v[0] for k, v in model.fit(x, batch_size=len(x), epochs=1, shuffle=False, verbose=0).history.items()}
    reconstruction, kl = -expected["log_d"].mean(), expected["kl"].sum(axis=0).mean()
    np.testing.assert_allclose(logged["reconstruction"], reconstruction, rtol=ATOL)
    np.testing.assert_allclose(logged["kl"], kl, rtol=ATOL)
    np.testing.assert_allclose(logged["nll"], reconstruction + kl, rtol=ATOL)
    np.testing.assert_allclose(logged["loss"], reconstruction + kl, rtol=ATOL)  # the objective without free nats


def test_the_reference_sees_a_wrong_model():
    """The reference is not blind to the details it checks: swapping the decoder's input and forget
    gates, moving the read window by one pixel (the size of the paper's 1-based pixels against the
    library's 0-based ones) or swapping the glimpses of x and x_hat each move the final canvas far
    beyond the tolerance."""
    model = make_model(True, SHAPES[1])
    x = images(model, 2, np.random.default_rng(0))
    eps = model_noise(SEED, len(x))
    weights = model_weights(model)
    g = READ_N**2 * SHAPES[1][2]  # the length of one glimpse
    final = sigmoid(reference_draw(weights, x, eps, attention=True, image_shape=SHAPES[1])["canvas"][-1])
    for name, change in (
        ("decoder/bias", lambda b: np.concatenate([b[UNITS : 2 * UNITS], b[:UNITS], b[2 * UNITS :]])),  # i <-> f
        ("read/read_window/window_parameters/bias", lambda b: b + np.array([2 / (SHAPES[1][1] - 1), 0, 0, 0, 0])),
        ("encoder/kernel", lambda k: np.concatenate([k[g : 2 * g], k[:g], k[2 * g :]])),  # [x_hat, x] for [x, x_hat]
    ):
        wrong = {**weights, name: change(weights[name])}
        steps = reference_draw(wrong, x, eps, attention=True, image_shape=SHAPES[1])
        assert np.abs(sigmoid(steps["canvas"][-1]) - final).max() > 100 * ATOL, name
