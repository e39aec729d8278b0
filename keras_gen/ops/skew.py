"""The skew of the Diagonal BiLSTM (van den Oord et al., 2016a, section 3.2, figure 3).

Skewing offsets row i of a feature map by i positions to the right, so that each
diagonal of the image becomes one column: pixel (i, j) moves to (i, i + j). An
H × W map becomes H × (W + H - 1), that is n × (2n - 1) for the paper's n × n
images. A convolution along a column of the skewed map then runs along a
diagonal of the image; ``unskew`` undoes the offsets.
"""

from keras import ops

from keras_gen.validation import check_int


def _spatial_shape(x, name):
    if len(x.shape) != 4 or x.shape[1] is None or x.shape[2] is None:
        raise ValueError(
            f"{name} expects a map of shape (batch, height, width, channels) with known height and "
            f"width, got shape {tuple(x.shape)}."
        )
    return x.shape[1], x.shape[2], x.shape[3]


def skew(x):
    """(B, H, W, C) → (B, H, W + H - 1, C) with ``out[:, i, i + j] = x[:, i, j]`` and zeros elsewhere.

    Done by reshaping, without a loop: pad every row with H zeros, flatten the rows,
    drop the last H entries and fold back with rows one entry shorter, so that each
    row starts one position later than the row above.
    """
    x = ops.convert_to_tensor(x)
    height, width, channels = _spatial_shape(x, "skew")
    padded = ops.pad(x, ((0, 0), (0, 0), (0, height), (0, 0)))
    flat = ops.reshape(padded, (-1, height * (width + height), channels))
    return ops.reshape(flat[:, : height * (width + height - 1)], (-1, height, width + height - 1, channels))


def unskew(x, width=None):
    """The inverse of :func:`skew`: (B, H, W + H - 1, C) → (B, H, W, C), ``out[:, i, j] = x[:, i, i + j]``.

    ``width`` is the width W of the original map (default: H, a square image).
    """
    x = ops.convert_to_tensor(x)
    height, skewed_width, channels = _spatial_shape(x, "unskew")
    width = height if width is None else check_int("width", width)
    if skewed_width != width + height - 1:
        raise ValueError(
            f"unskew expects a skewed map of width W + H - 1 = {width + height - 1} for H = {height} and "
            f"W = {width}, got width {skewed_width}."
        )
    flat = ops.reshape(x, (-1, height * skewed_width, channels))
    flat = ops.pad(flat, ((0, 0), (0, height), (0, 0)))
    return ops.reshape(flat, (-1, height, width + height, channels))[:, :, :width]
