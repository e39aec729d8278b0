"""Helpers shared by the test modules: random binary images, sampling by definition, a test head.

Test modules import these from here (``from helpers import ...``), never from ``conftest``
or from each other. The other shared modules are topical: ``small_models`` (every model in
a tiny configuration), ``random_weights``, ``causality``, ``cached_sampling`` and ``contract``.
The test head is registered only while a test asks for it, through the ``whole_pixel_head``
fixture of ``conftest.py``.
"""

import keras
import numpy as np
from scipy.special import expit, softmax

from keras_gen import heads


def random_binary_images(rng, n, shape=(28, 28, 1), p=0.3):
    """``n`` images of ``shape`` with independent pixels, each 1 with probability ``p`` (float32 in {0, 1})."""
    return (rng.random((n,) + tuple(shape)) < p).astype("float32")


class WholePixelBernoulliHead(heads.BernoulliHead):
    """A test head that draws all channels of a pixel in one step (like the logistic mixture)."""

    name = "test_whole_pixel_bernoulli"
    per_channel = False


def reference_sample(model, noise, canvas=None, first_row=0, conditions=None):
    """Sampling as the equations say it: run the whole network once per step, in NumPy around it.

    ``noise`` holds the uniform numbers of ``model.sampling_noise``; rows from ``first_row`` on
    are drawn, those above are kept from ``canvas``. Bernoulli and categorical heads, drawn
    sub-pixel by sub-pixel (per-channel heads) or pixel by pixel.
    """
    height, width, channels = model.image_shape
    x = np.zeros(noise.shape[:3] + (channels,), "float32") if canvas is None else canvas.astype("float32")
    x[:, first_row:] = 0.0
    for i in range(first_row, height):
        for j in range(width):
            for c in range(channels) if model.head.per_channel else [slice(None)]:
                params = keras.ops.convert_to_numpy(model(model.join_inputs(x, conditions or {})))[:, i, j, c]
                u = noise[:, i, j, c]
                if model.head.data_type == "binary":
                    x[:, i, j, c] = u < expit(params)
                else:
                    x[:, i, j, c] = (np.cumsum(softmax(params, -1), -1) < u[..., None]).sum(-1)
    return x
