"""The N×N grid of Gaussian filters behind DRAW's attention (Gregor et al., 2015, eq. 19–20, 25–26)."""

import keras
from keras import ops

from keras_gen.validation import check_int


def _per_image(value):
    """A parameter given per image, shape (B,) or (B, 1), as (B, 1, 1) of Keras's float type."""
    return ops.reshape(ops.cast(value, keras.backend.floatx()), (-1, 1, 1))


def _filter_rows(center, stride, variance, N, size):
    """Rows ``i = 1..N`` of one filterbank over the pixel coordinates ``0..size-1``.

    Filter i is centred at ``mu_i = center + (i - N/2 - 0.5) * stride`` (eq. 19–20) and
    ``F[i, a] = exp(-(a - mu_i)^2 / (2 variance)) / Z_i`` (eq. 25–26). The normaliser
    ``Z_i`` makes the row sum to 1; a softmax over ``a`` computes exactly that without
    overflow, even for a window far outside the image.
    """
    offsets = ops.arange(1, N + 1, dtype=center.dtype) - (N / 2 + 0.5)
    centres = center + stride * ops.reshape(offsets, (1, N, 1))
    coordinates = ops.reshape(ops.arange(size, dtype=center.dtype), (1, 1, size))
    return ops.softmax(-ops.square(coordinates - centres) / (2.0 * variance), axis=-1)


def gaussian_filterbank(center_x, center_y, stride, variance, N, width, height):
    """The horizontal and vertical filterbanks ``(F_X, F_Y)`` of an N×N attention grid.

    Args:
        center_x, center_y: grid centre ``(g_X, g_Y)`` in pixels, image coordinates
            counted from 0; shape (B,) or (B, 1).
        stride: distance ``delta`` between neighbouring filter centres, in pixels.
        variance: ``sigma^2`` of every filter (the variance itself: it is not squared again).
        N: filters per side of the grid.
        width, height: image size A = width, B = height.

    Returns:
        ``F_X`` of shape (B, N, width) and ``F_Y`` of shape (B, N, height), each row
        normalised to sum to 1, so that ``F_Y x F_X^T`` is an N×N glimpse of an image x.
    """
    N, width, height = (check_int(k, v) for k, v in (("N", N), ("width", width), ("height", height)))
    center_x, center_y, stride, variance = (_per_image(v) for v in (center_x, center_y, stride, variance))
    return (
        _filter_rows(center_x, stride, variance, N, width),
        _filter_rows(center_y, stride, variance, N, height),
    )
