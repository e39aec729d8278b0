"""Random weights for the PixelRNN tests, so that no dependence vanishes by accident."""

import numpy as np


def randomise(layer, rng, scale=0.1):
    """Kernels drawn from N(0, scale²); biases positive (0.5 + |N(0, scale²)|) so no ReLU is dead."""
    for weight in layer.weights:
        values = rng.normal(size=weight.shape) * scale
        weight.assign((0.5 + np.abs(values) if len(weight.shape) == 1 else values).astype("float32"))
