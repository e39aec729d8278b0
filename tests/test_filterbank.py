"""DRAW's Gaussian filterbank and its read/write layers against NumPy transcriptions of the paper."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_gen.layers import AttentionWindow, AttentiveRead, AttentiveWrite, FullRead, FullWrite
from keras_gen.layers.attention import glimpse, spread
from keras_gen.ops import gaussian_filterbank

HEIGHT, WIDTH = 9, 13  # not square, so a swapped axis cannot pass
SHAPE = (HEIGHT, WIDTH, 1)
# the layer tests share batch 4, a 3×3 grid and 6 decoder units: on JAX every new shape
# compiles its eager operations anew
N, H_DEC = 3, 6


def numpy_filterbank(center, stride, variance, n, size):
    """eq. 19–20 and 25–26 written out with loops: F[i, a] for one image."""
    bank = np.zeros((n, size))
    for i in range(1, n + 1):
        mu = center + (i - n / 2 - 0.5) * stride
        for a in range(size):
            bank[i - 1, a] = np.exp(-((a - mu) ** 2) / (2 * variance))
        bank[i - 1] /= bank[i - 1].sum()
    return bank


def numpy_window(h_dec, kernel, bias, n, height, width):
    """eq. 21–24: (g_X, g_Y, delta, sigma^2, gamma) from a linear map of h_dec."""
    gx, gy, log_var, log_delta, log_gamma = (h_dec @ kernel + bias).T
    return np.stack(
        [
            (width - 1) / 2 * (gx + 1),
            (height - 1) / 2 * (gy + 1),
            (max(height, width) - 1) / (n - 1) * np.exp(log_delta),
            np.exp(log_var),
            np.exp(log_gamma),
        ],
        axis=-1,
    )


def set_window(window_layer, center_x, center_y, stride_tilde, variance, intensity, width, height):
    """Make a window layer ignore h_dec and return the given window (zero kernel, chosen bias)."""
    kernel, bias = window_layer.linear.get_weights()
    gx = 2 * center_x / (width - 1) - 1
    gy = 2 * center_y / (height - 1) - 1
    window_layer.linear.set_weights(
        [np.zeros_like(kernel), np.array([gx, gy, np.log(variance), np.log(stride_tilde), np.log(intensity)])]
    )


@pytest.mark.parametrize("n", [1, 2, 5])
def test_filterbank_matches_numpy_transcription(rng, n):
    batch = 4
    cx = rng.uniform(-3, WIDTH + 3, batch)
    cy = rng.uniform(-3, HEIGHT + 3, batch)
    stride = rng.uniform(0.2, 4.0, batch)
    variance = rng.uniform(0.3, 6.0, batch)
    fx, fy = gaussian_filterbank(cx, cy, stride, variance, n, WIDTH, HEIGHT)
    fx, fy = ops.convert_to_numpy(fx), ops.convert_to_numpy(fy)
    assert fx.shape == (batch, n, WIDTH) and fy.shape == (batch, n, HEIGHT)
    for b in range(batch):
        np.testing.assert_allclose(fx[b], numpy_filterbank(cx[b], stride[b], variance[b], n, WIDTH), atol=1e-5)
        np.testing.assert_allclose(fy[b], numpy_filterbank(cy[b], stride[b], variance[b], n, HEIGHT), atol=1e-5)
    np.testing.assert_allclose(fx.sum(-1), 1.0, atol=1e-5)


def test_filterbank_centres_and_variance():
    """Filter i peaks at mu_i = g + (i - N/2 - 0.5) delta; sigma^2 is used as given, not squared."""
    fx, _ = gaussian_filterbank([6.0], [4.0], [2.0], [0.5], 4, WIDTH, HEIGHT)
    fx = ops.convert_to_numpy(fx)[0]
    np.testing.assert_array_equal(fx.argmax(-1), [3, 5, 7, 9])
    # a filter centred on a pixel: neighbours are exp(-1 / (2 * 0.5)) = e^-1 times the peak
    np.testing.assert_allclose(fx[0, 2] / fx[0, 3], np.exp(-1.0), rtol=1e-5)


def test_filterbank_far_outside_the_image_stays_finite():
    fx, fy = gaussian_filterbank([-500.0], [900.0], [1.0], [0.01], 3, WIDTH, HEIGHT)
    fx, fy = ops.convert_to_numpy(fx), ops.convert_to_numpy(fy)
    assert np.isfinite(fx).all() and np.isfinite(fy).all()
    np.testing.assert_allclose(fx[0, :, 0], 1.0, atol=1e-6)  # all weight on the nearest column
    np.testing.assert_allclose(fy[0, :, -1], 1.0, atol=1e-6)


@pytest.mark.parametrize("bad", [{"N": 0}, {"N": 2.5}, {"width": 0}, {"height": -1}])
def test_filterbank_rejects_bad_sizes(bad):
    args = {"N": 3, "width": WIDTH, "height": HEIGHT, **bad}
    with pytest.raises(ValueError, match="positive integer"):
        gaussian_filterbank([1.0], [1.0], [1.0], [1.0], **args)


def test_window_follows_eq_21_to_24(rng):
    layer = AttentionWindow(N, SHAPE)
    h_dec = rng.normal(size=(4, H_DEC)).astype("float32")
    window = ops.convert_to_numpy(layer(h_dec))
    kernel, bias = layer.linear.get_weights()
    np.testing.assert_allclose(window, numpy_window(h_dec, kernel, bias, N, HEIGHT, WIDTH), rtol=1e-5)
    assert layer.compute_output_shape((None, H_DEC)) == (None, 5)


def test_glimpse_of_a_constant_image_is_constant(rng):
    layer = AttentiveRead(N, SHAPE)
    h_dec = rng.normal(size=(4, H_DEC)).astype("float32")
    x = np.full((4,) + SHAPE, 0.7, "float32")
    x_hat = np.full((4,) + SHAPE, -0.2, "float32")
    out, window = layer([x, x_hat, h_dec])
    out, gamma = ops.convert_to_numpy(out), ops.convert_to_numpy(window)[:, 4:5]
    assert out.shape == (4, 2 * N * N)
    np.testing.assert_allclose(out[:, : N * N], 0.7 * gamma * np.ones((4, N * N)), rtol=1e-5)
    np.testing.assert_allclose(out[:, N * N :], -0.2 * gamma * np.ones((4, N * N)), rtol=1e-5)


def test_read_with_one_filter_per_pixel_returns_the_image(rng):
    """N = image size, stride 1, tiny variance, centred grid: the glimpse is the image itself."""
    size, channels = 10, 3
    layer = AttentiveRead(size, (size, size, channels))
    layer.build([None, None, (None, 4)])
    centre = (size - 1) / 2  # filter i=1 sits on pixel 0, filter N on pixel N-1
    set_window(layer.window, centre, centre, 1.0, 1e-3, 1.0, size, size)
    x = rng.random((2, size, size, channels)).astype("float32")
    x_hat = rng.normal(size=x.shape).astype("float32")
    out, window = layer([x, x_hat, np.zeros((2, 4), "float32")])
    out = ops.convert_to_numpy(out)
    np.testing.assert_allclose(ops.convert_to_numpy(window)[0, :4], [centre, centre, 1.0, 1e-3], rtol=1e-5)
    np.testing.assert_allclose(out[:, : x.size // 2], x.reshape(2, -1), atol=1e-5)
    np.testing.assert_allclose(out[:, x.size // 2 :], x_hat.reshape(2, -1), atol=1e-5)


def test_spread_is_the_transpose_of_glimpse(rng):
    """<F_Y x F_X^T, w> = <x, F_Y^T w F_X> for random filters, images and patches."""
    fx, fy = gaussian_filterbank(
        rng.uniform(0, WIDTH, 3),
        rng.uniform(0, HEIGHT, 3),
        rng.uniform(0.5, 2, 3),
        rng.uniform(0.5, 2, 3),
        4,
        WIDTH,
        HEIGHT,
    )
    x = rng.normal(size=(3, HEIGHT, WIDTH, 2)).astype("float32")
    w = rng.normal(size=(3, 4, 4, 2)).astype("float32")
    left = np.sum(ops.convert_to_numpy(glimpse(x, fx, fy)) * w, axis=(1, 2, 3))
    right = np.sum(x * ops.convert_to_numpy(spread(w, fx, fy)), axis=(1, 2, 3))
    np.testing.assert_allclose(left, right, rtol=1e-4, atol=1e-4)


def test_write_layer_is_the_adjoint_of_read_layer(rng):
    """With the same window, <read(x), w> = gamma^2 <x, write(w)> (read multiplies by gamma, write divides)."""
    n, shape = N, SHAPE
    reader, writer = AttentiveRead(n, shape), AttentiveWrite(n, shape)
    reader.build([None, None, (None, H_DEC)])
    writer.build((None, H_DEC))
    writer.window.linear.set_weights(reader.window.linear.get_weights())
    patch = rng.normal(size=(n, n, 1)).astype("float32")
    kernel, _ = writer.patch.get_weights()
    writer.patch.set_weights([np.zeros_like(kernel), patch.reshape(-1)])  # w_t = patch for every h_dec
    h_dec = rng.normal(size=(4, H_DEC)).astype("float32")
    x = rng.normal(size=(4,) + shape).astype("float32")
    read, read_window = reader([x, np.zeros_like(x), h_dec])
    written, write_window = writer(h_dec)
    read, written = ops.convert_to_numpy(read)[:, : n * n], ops.convert_to_numpy(written)
    gamma = ops.convert_to_numpy(read_window)[:, 4]
    np.testing.assert_allclose(ops.convert_to_numpy(write_window), ops.convert_to_numpy(read_window), rtol=1e-6)
    left = read @ patch.reshape(-1)
    right = gamma**2 * np.sum(x * written, axis=(1, 2, 3))
    np.testing.assert_allclose(left, right, rtol=1e-4, atol=1e-4)
    assert written.shape == (4,) + shape


def test_layers_without_attention(rng):
    x, x_hat = rng.random((4,) + SHAPE).astype("float32"), rng.random((4,) + SHAPE).astype("float32")
    h_dec = rng.normal(size=(4, H_DEC)).astype("float32")
    out = ops.convert_to_numpy(FullRead()([x, x_hat, h_dec]))
    np.testing.assert_array_equal(out, np.concatenate([x.reshape(4, -1), x_hat.reshape(4, -1)], axis=1))
    writer = FullWrite(SHAPE)
    update = ops.convert_to_numpy(writer(h_dec))
    kernel, bias = writer.linear.get_weights()
    np.testing.assert_allclose(update.reshape(4, -1), h_dec @ kernel + bias, rtol=1e-5, atol=1e-6)
    assert writer.compute_output_shape((None, H_DEC)) == (None,) + SHAPE


@pytest.mark.parametrize(
    "make",
    [
        lambda: AttentionWindow(3, SHAPE, initial_intensity=0.5),
        lambda: AttentiveRead(3, SHAPE),
        lambda: AttentiveWrite(3, SHAPE),
        lambda: FullWrite(SHAPE),
    ],
)
def test_layer_configs_round_trip(make):
    layer = make()
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


def test_layers_reject_bad_grid_sizes():
    with pytest.raises(ValueError, match="grid_size"):
        AttentiveRead(0, SHAPE)
    with pytest.raises(ValueError, match="image_shape"):
        AttentiveWrite(3, (HEIGHT, WIDTH))


def test_initial_windows_view_the_whole_image_and_write_at_unit_gain():
    """At h_dec = 0 a window is the bias alone: centred, N filters tiling the image (our initialisation)."""
    h_dec = np.zeros((4, H_DEC), "float32")
    reader, writer = AttentiveRead(N, SHAPE), AttentiveWrite(N, SHAPE)
    blank = np.zeros((4,) + SHAPE, "float32")
    _, read_window = reader([blank, blank, h_dec])
    stride = max(HEIGHT, WIDTH) / N
    expected = [(WIDTH - 1) / 2, (HEIGHT - 1) / 2, stride, stride**2 / 4, 1.0]
    np.testing.assert_allclose(ops.convert_to_numpy(read_window), np.tile(expected, (4, 1)), rtol=1e-5)
    writer.build((None, H_DEC))
    kernel, _ = writer.patch.get_weights()
    writer.patch.set_weights([np.zeros_like(kernel), np.ones(N * N, "float32")])  # a patch of ones
    update, write_window = writer(h_dec)
    np.testing.assert_allclose(ops.convert_to_numpy(write_window)[:, 4], N * N / (HEIGHT * WIDTH), rtol=1e-5)
    # every filter row sums to 1, so the N² ones spread to N² / gamma^ = H·W in total: unit gain on average
    np.testing.assert_allclose(ops.convert_to_numpy(update).mean(axis=(1, 2, 3)), 1.0, rtol=1e-5)


def test_window_coordinates_count_pixels_from_zero():
    """g~ = 0 is the image centre (A - 1)/2, and g~ = ±1 or a grid with delta~ = 1 reaches the
    first and last pixels exactly, never past them (the paper's (A + 1)/2 counts from 1)."""
    window_layer = AttentionWindow(2, SHAPE)
    window_layer.build((None, H_DEC))
    h_dec = np.zeros((4, H_DEC), "float32")
    kernel, _ = window_layer.linear.get_weights()
    for g_tilde, expected_x, expected_y in [
        (0.0, (WIDTH - 1) / 2, (HEIGHT - 1) / 2),
        (-1.0, 0.0, 0.0),
        (1.0, WIDTH - 1, HEIGHT - 1),
    ]:
        window_layer.linear.set_weights([np.zeros_like(kernel), np.array([g_tilde, g_tilde, 0.0, 0.0, 0.0])])
        window = ops.convert_to_numpy(window_layer(h_dec))[0]
        np.testing.assert_allclose(window[:2], [expected_x, expected_y], atol=1e-5)
    window_layer.linear.set_weights([np.zeros_like(kernel), np.zeros(5)])  # centred, delta~ = 1
    center_x, _, stride, _, _ = ops.convert_to_numpy(window_layer(h_dec))[0]
    # the two filters of the 2x2 grid sit on the first and the last column of the widest side
    centres = center_x + (np.arange(1, 3) - 2 / 2 - 0.5) * stride
    np.testing.assert_allclose(centres, [0.0, WIDTH - 1], atol=1e-5)
