"""Has DRAW's attention policy formed? Statistics of its read and write windows over a set of digits.

A DRAW network whose attention has not yet formed moves its windows along one schedule
for every digit: the centres barely differ between digits, and late writes spend their
budget on the image border. One that traces strokes moves its windows with the digit.
:func:`attention_health` sums this up in a few numbers, logged every epoch by the
training entry point (``keras_gen.train``) so that a chapter can plot the policy forming
beside the loss curves.
"""

import numpy as np

from keras_gen.ops.filterbank import gaussian_filterbank

BORDER_PIXELS = 2  # the band along the edges of the image counted as "border"


def border_share(window, grid_size, image_shape, border=BORDER_PIXELS):
    """The share of a window's filter mass on the pixels within ``border`` of the image's edge, per window.

    ``window`` is (..., 5) in ``keras_gen.layers.attention.WINDOW_FIELDS`` order. A patch of
    equal values spread through the window (``F_Y^T w F_X``, eq. 29) lands on pixel (b, a) in
    proportion to ``sum_i F_Y[i, b] · sum_j F_X[j, a]``; the share is the part of that outside
    the interior rectangle. Returns an array of the windows' leading shape.
    """
    window = np.asarray(window, dtype="float64")
    flat = window.reshape(-1, 5)
    height, width = image_shape[0], image_shape[1]
    if min(height, width) <= 2 * border:
        raise ValueError(f"an image of {height}×{width} pixels has no interior inside a border of {border}.")
    filters_x, filters_y = (
        np.asarray(f, dtype="float64")
        for f in gaussian_filterbank(flat[:, 0], flat[:, 1], flat[:, 2], flat[:, 3], grid_size, width, height)
    )
    mass_x, mass_y = filters_x.sum(axis=1) / grid_size, filters_y.sum(axis=1) / grid_size  # (B, W), (B, H)
    interior = mass_x[:, border : width - border].sum(axis=1) * mass_y[:, border : height - border].sum(axis=1)
    return (1.0 - interior).reshape(window.shape[:-1])


def attention_health(trace, read_n, write_n, image_shape):
    """Statistics of a DRAW reconstruction trace (``DRAW.reconstruction_trace``) over its digits.

    Returns a dict of floats in pixels (and nats for ``kl_per_step``):
    ``read_center_spread`` and ``write_center_spread``, the standard deviation of the window
    centres across digits (x and y pooled), averaged over the steps; ``read_stride``,
    ``write_stride``, ``read_sigma`` and ``write_sigma``, the mean δ and σ of the windows;
    ``write_border_share``, the mean share of the write windows' mass within
    ``BORDER_PIXELS`` of the edge (:func:`border_share`); and ``kl_per_step``, the mean KL of
    each step's posterior from the prior (a list of T values).

    Example::

        import numpy as np
        from keras_gen import models
        from keras_gen.attention_health import attention_health

        x = (np.random.default_rng(0).random((8, 12, 12, 1)) < 0.3).astype("float32")
        draw = models.DRAW(image_shape=(12, 12, 1), T=4, read_n=2, write_n=3, z_dim=4, enc_units=16, dec_units=16)
        attention_health(draw.reconstruction_trace(x, seed=0), 2, 3, (12, 12, 1))["write_border_share"]
    """
    stats = {}
    for kind, grid_size in (("read", read_n), ("write", write_n)):
        window = np.asarray(trace[f"{kind}_window"], dtype="float64")  # (B, T, 5)
        if window.ndim != 3 or window.shape[-1] != 5:
            raise ValueError(f"{kind}_window must have shape (digits, steps, 5), got {window.shape}.")
        spread = np.sqrt(window[..., :2].var(axis=0).mean(axis=-1))  # (T,): across digits, x and y pooled
        stats[f"{kind}_center_spread"] = float(spread.mean())
        stats[f"{kind}_stride"] = float(window[..., 2].mean())
        stats[f"{kind}_sigma"] = float(np.sqrt(window[..., 3]).mean())
        if kind == "write":
            stats["write_border_share"] = float(border_share(window, grid_size, image_shape).mean())
    running_kl = np.asarray(trace["kl"], dtype="float64")  # (B, T): KL of steps 1..t
    stats["kl_per_step"] = np.diff(running_kl, axis=1, prepend=0.0).mean(axis=0).tolist()
    return stats
