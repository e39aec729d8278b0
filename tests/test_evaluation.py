"""Evaluation helpers: gradients for the receptive-field figures are taken in inference mode
(dropout off); the book's sampler timings (``keras_gen.book.timing``) run both samplers and compare their images."""

import keras
import numpy as np
import pytest

from keras_gen import evaluation
from keras_gen.book import timing
from keras_gen.evaluation import input_gradient
from keras_gen.models import PixelCNN


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


def test_timed_twice_returns_the_result_and_two_durations():
    calls = []
    result, seconds = timing.timed_twice(lambda: calls.append(len(calls)) or len(calls))
    assert result == 2 and calls == [0, 1]
    assert len(seconds) == 2 and all(s >= 0 for s in seconds)


def test_compare_samplers_reports_both_samplers_and_whether_they_agree():
    keras.utils.set_random_seed(0)
    model = PixelCNN(image_shape=(4, 4, 1), filters=4, num_layers=1)
    lines, same = timing.compare_samplers(model, num_samples=2, seed=3)
    assert same  # fixed noise per pixel: both samplers draw the same images
    assert len(lines) == 3 and "cached sampler" in lines[0] and "reference sampler" in lines[1]
    assert lines[2].endswith("the two drew the same images: True")


def test_paired_difference_is_the_mean_difference_with_its_own_standard_error():
    rng = np.random.default_rng(0)
    difficulty = rng.normal(90.0, 20.0, size=1_000)  # shared by both models: it cancels
    better = difficulty + rng.normal(0.0, 1.0, size=1_000)
    worse = better + 0.5 + rng.normal(0.0, 0.1, size=1_000)
    gap, error = evaluation.paired_difference(worse, better)
    assert abs(gap - 0.5) < 4 * error and error < 0.01  # far below the unpaired error, about 0.9
    with pytest.raises(ValueError, match="same length"):
        evaluation.paired_difference(worse, better[:10])
