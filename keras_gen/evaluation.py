"""Evaluation for the book: receptive fields from gradients, likelihood units, and sampler timings.

Keras 3 has no backend-neutral gradient function, but every backend can train. So
the gradient of an output with respect to the images is taken by training: a tiny
model whose only weight is an offset added to the images (starting at zero) takes
one plain SGD step with learning rate 1 on the chosen outputs; the offset then holds
exactly minus the gradient. Each image of a batch gets its own offset, so one call
can give the gradients of different outputs for different images.
"""

import math
import time

import keras
import numpy as np
from keras import ops

from keras_gen.validation import to_numpy


class _OffsetImages(keras.Model):
    """``fn(images + offset)`` with ``offset`` the only weight, and loss ``sum(weights * output)``."""

    def __init__(self, fn, images_shape):
        super().__init__(name="offset_images")
        self.offset = self.add_weight(name="offset", shape=images_shape, initializer="zeros")
        # wrapped in a plain function, which Keras does not track: the weights behind
        # ``fn`` (a model, say) stay out of the training step and are never changed
        self.fn = lambda images: fn(images)

    def call(self, images):
        return self.fn(images + self.offset)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return ops.sum(ops.cast(y, y_pred.dtype) * y_pred)


def _as_batch(images):
    images = to_numpy(images).astype("float32")
    if images.ndim not in (3, 4):
        raise ValueError(f"images must have shape (H, W, C) or (batch, H, W, C), got {images.shape}.")
    return images if images.ndim == 4 else images[None]


def input_gradient(fn, images, output_weights):
    """``d sum(output_weights * fn(images)) / d images`` as NumPy, of the shape of ``images``.

    Args:
        fn: a function of a batch of images (tensor) returning a tensor, built from
            Keras layers (e.g. a model, or ``lambda x: model.hidden_features(x, 2)``).
        images: a batch (B, H, W, C) or one image (H, W, C), in the units ``fn`` expects.
        output_weights: array of the shape of ``fn``'s output (batch axis included)
            weighting the outputs whose gradient is wanted.
    """
    batch = _as_batch(images)
    probe = _OffsetImages(fn, batch.shape)
    probe.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0))
    probe.train_on_batch(batch, np.asarray(output_weights, dtype="float32"))
    return -to_numpy(probe.offset.value).reshape(np.shape(images))


def receptive_field(fn, images, pixel, channel=None):
    """``|gradient|`` of ``fn``'s outputs at ``pixel`` = (i, j) with respect to the images.

    ``fn`` maps a batch of images to outputs of shape (B, H', W', ...); for each image,
    all its outputs at (i, j) are summed, or only those of ``channel`` (the first axis
    after the spatial ones). The result has the shape of ``images``; its non-zero
    entries are the inputs that the output at (i, j) depends on, for that image.
    """
    batch = _as_batch(images)
    output_shape = tuple(ops.shape(fn(ops.convert_to_tensor(batch))))
    weights = np.zeros(output_shape, dtype="float32")
    i, j = pixel
    if channel is None:
        weights[:, i, j] = 1.0
    else:
        weights[:, i, j, channel] = 1.0
    return np.abs(input_gradient(fn, batch, weights)).reshape(np.shape(images))


def bits_per_dim(log_likelihood, num_dims):
    """Negative log-likelihood in nats per image turned into bits per dimension."""
    return -np.asarray(log_likelihood) / (num_dims * math.log(2.0))


def paired_difference(first, second):
    """Mean and standard error of ``first - second``, two models' per-image scores on the same images.

    The paired standard error is what decides whether two models differ: the images' own spread
    in difficulty, shared by both scores, cancels in the difference.

    Example:

        gap, error = paired_difference(nll_pixelcnn, nll_row_lstm)  # nats per image
    """
    first, second = np.asarray(first, dtype="float64"), np.asarray(second, dtype="float64")
    if first.shape != second.shape or first.ndim != 1 or len(first) < 2:
        raise ValueError(
            f"paired_difference needs two 1-D arrays of the same length (at least 2), one score per image; "
            f"got shapes {first.shape} and {second.shape}."
        )
    difference = first - second
    return float(difference.mean()), float(difference.std(ddof=1) / math.sqrt(len(difference)))


def timed_twice(call):
    """Run ``call()`` twice: its (second) result and the wall-clock seconds of each call.

    The first call of a compiled function also traces and compiles it; the second reuses
    the compiled graph, so the pair separates compilation from running.

    Example::

        samples, (first, second) = timed_twice(lambda: model.sample(4, seed=1))
    """
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - start)
    return result, seconds


def compare_samplers(model, num_samples, seed=0):
    """Time an autoregressive model's cached and reference samplers on the same images.

    Each sampler draws ``num_samples`` images twice (:func:`timed_twice`) with ``seed``;
    every pixel has its own fixed noise, so the two must draw the same images. Returns
    ``(lines, same)``: a few lines of text giving both calls of each sampler and the ratio
    of the second calls, and whether the images were the same.
    """
    draws, seconds = {}, {}
    for name, cached in (("cached", True), ("reference", False)):
        draws[name], seconds[name] = timed_twice(
            lambda cached=cached: model.sample(num_samples, seed=seed, batch_size=num_samples, cached=cached)
        )
    same = bool(np.array_equal(draws["cached"], draws["reference"]))
    lines = [
        f"{num_samples} samples, {name} sampler: first call {first:.1f} s (tracing and compilation included), "
        f"second call {second:.1f} s"
        for name, (first, second) in seconds.items()
    ]
    ratio = seconds["reference"][1] / seconds["cached"][1]
    lines.append(
        f"second calls: the reference sampler takes {ratio:.1f} times as long as the cached one; "
        f"the two drew the same images: {same}"
    )
    return lines, same
