"""Gradients for the book's receptive-field figures are taken in inference mode (dropout off)."""

import keras
import numpy as np

from keras_gen.evaluation import input_gradient


class _DropoutModel(keras.Model):
    """A model whose ``call`` takes ``training``, as the library's models do."""

    def __init__(self):
        super().__init__()
        self.drop = keras.layers.Dropout(0.9, seed=0)

    def call(self, x, training=False):
        return self.drop(x, training=training)


def test_input_gradient_runs_the_network_in_inference_mode(rng):
    x = rng.random((2, 4, 4, 1)).astype("float32")
    model = _DropoutModel()
    # inference: dropout is the identity, so the gradient of sum(output) is one everywhere;
    # in training mode 90% of it would be zero and the rest ten
    for fn, scale in [
        (keras.layers.Dropout(0.9, seed=0), 1.0),
        (model, 1.0),
        (lambda images: 3.0 * model(images), 3.0),
    ]:
        np.testing.assert_allclose(input_gradient(fn, x, np.ones_like(x)), np.full_like(x, scale), rtol=1e-6)
