"""The causality check every autoregressive model's tests run (van den Oord et al., 2016a, eq. 1).

The Jacobian of the model's outputs with respect to its input image is computed with
the backend's own autodiff (``tf.GradientTape`` or ``jax.jacrev``). For the output
at pixel (i, j) — channel c for per-channel heads, the whole pixel for whole-pixel
heads — every entry for an input at or after (i, j) in raster order must be exactly
zero (for per-channel heads, channels < c of (i, j) itself are allowed), and the
entries for the pixel to the left (the pixel above at the start of a row) and, with
colour, for channel c - 1 of (i, j) must not be zero.
"""

import keras
import numpy as np


def _output_slots(params, per_channel):
    """The head's parameters summed to one number per output slot: (B, H, W, C) or (B, H, W, 1)."""
    ops = keras.ops
    if per_channel:
        return ops.sum(ops.reshape(params, tuple(ops.shape(params)[:4]) + (-1,)), axis=-1)
    return ops.sum(params, axis=-1, keepdims=True)


def input_jacobian(model, x, conditions=None):
    """``|d output[i, j, s] / d x[p, q, d]|`` summed over the batch: shape (H, W, S, H, W, C)."""
    conditions = conditions or {}
    per_channel = model.head.per_channel

    def outputs(image):
        params = model(model.join_inputs(image, conditions), training=False)
        return keras.ops.sum(_output_slots(params, per_channel), axis=0)

    x = np.asarray(x, dtype="float32")
    if keras.backend.backend() == "jax":
        import jax

        jacobian = np.asarray(jax.jit(jax.jacrev(outputs))(x))
    else:
        import tensorflow as tf

        image = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(image)
            out = outputs(image)
        jacobian = tape.jacobian(out, image).numpy()
    return np.abs(jacobian).sum(axis=3)


def assert_causal(model, x, conditions=None):
    """Assert the autoregressive property of ``model`` on the images ``x`` (see module docstring)."""
    jacobian = input_jacobian(model, x, conditions)
    height, width, slots, _, _, channels = jacobian.shape
    raster = np.arange(height * width).reshape(height, width)
    for i in range(height):
        for j in range(width):
            for s in range(slots):
                forbidden = raster[:, :, None] >= raster[i, j]
                forbidden = np.broadcast_to(forbidden, (height, width, channels)).copy()
                if model.head.per_channel:
                    forbidden[i, j, :s] = False
                leaks = jacobian[i, j, s][forbidden]
                assert np.all(leaks == 0.0), (
                    f"output ({i}, {j}, {s}) depends on inputs at or after it: "
                    f"{np.argwhere(jacobian[i, j, s] * forbidden)[:5].tolist()}"
                )
                previous = (i, j - 1) if j > 0 else (i - 1, j) if i > 0 else None
                if previous is not None:
                    assert jacobian[i, j, s][previous].sum() > 0, (
                        f"output ({i}, {j}, {s}) does not depend on the pixel {previous} before it"
                    )
                if model.head.per_channel and s > 0:
                    assert jacobian[i, j, s, i, j, s - 1] > 0, (
                        f"output ({i}, {j}, {s}) does not depend on channel {s - 1} of its own pixel"
                    )
