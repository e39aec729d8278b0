"""Evaluating trained models: receptive fields from gradients, and paired differences of two models' scores.

Keras 3 has no backend-neutral gradient function, but every backend can train. So
the gradient of an output with respect to the images is taken by training: a tiny
model whose only weight is an offset added to the images (starting at zero) takes
one plain SGD step with learning rate 1 on the chosen outputs; the offset then holds
exactly minus the gradient. Each image of a batch gets its own offset, so one call
can give the gradients of different outputs for different images.
"""

import math

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
