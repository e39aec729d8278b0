"""Evaluation for the book: receptive fields from gradients, and likelihood units.

Keras 3 has no backend-neutral gradient function, but every backend can train. So
the gradient of an output with respect to an image is taken by training: a tiny
model whose only weight is an offset added to the image (starting at zero) takes
one plain SGD step with learning rate 1 on the chosen output; the offset then holds
exactly minus the gradient.
"""

import math

import keras
import numpy as np
from keras import ops

from keras_gen.validation import to_numpy


class _OffsetImage(keras.Model):
    """``fn(image + offset)`` with ``offset`` the only weight, and loss ``sum(weights * output)``."""

    def __init__(self, fn, image_shape):
        super().__init__(name="offset_image")
        self.offset = self.add_weight(name="offset", shape=image_shape, initializer="zeros")
        # wrapped in a plain function, which Keras does not track: the weights behind
        # ``fn`` (a model, say) stay out of the training step and are never changed
        self.fn = lambda images: fn(images)

    def call(self, image):
        return self.fn(image + self.offset)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return ops.sum(ops.cast(y, y_pred.dtype) * y_pred)


def input_gradient(fn, image, output_weights):
    """``d sum(output_weights * fn(image)) / d image`` for one image, as NumPy.

    Args:
        fn: a function of a batch of images (tensor) returning a tensor, built from
            Keras layers (e.g. a model, or ``lambda x: model.hidden_features(x, 2)``).
        image: one image, (H, W, C) or (1, H, W, C), in the units ``fn`` expects.
        output_weights: array of ``fn``'s output shape (batch axis of 1 included)
            weighting the outputs whose gradient is wanted.
    """
    image = to_numpy(image).astype("float32")
    image = image if image.ndim == 4 else image[None]
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"image must be one image of shape (H, W, C) or (1, H, W, C), got {image.shape}.")
    probe = _OffsetImage(fn, image.shape[1:])
    probe.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0))
    probe.train_on_batch(image, np.asarray(output_weights, dtype="float32"))
    return -to_numpy(probe.offset.value)


def receptive_field(fn, image, pixel, channel=None):
    """``|gradient|`` of ``fn``'s output at ``pixel`` = (i, j) with respect to the image, (H, W, C).

    ``fn`` maps images to (1, H', W', ...) outputs; all outputs at (i, j) are summed,
    or only those of ``channel`` along the first axis after the spatial ones. The
    non-zero entries are the inputs that output depends on, for this image.
    """
    image = to_numpy(image).astype("float32")
    image = image if image.ndim == 4 else image[None]
    output_shape = tuple(ops.shape(fn(ops.convert_to_tensor(image))))
    weights = np.zeros(output_shape, dtype="float32")
    i, j = pixel
    if channel is None:
        weights[0, i, j] = 1.0
    else:
        weights[0, i, j, channel] = 1.0
    return np.abs(input_gradient(fn, image, weights))


def bits_per_dim(log_likelihood, num_dims):
    """Negative log-likelihood in nats per image turned into bits per dimension."""
    return -np.asarray(log_likelihood) / (num_dims * math.log(2.0))
