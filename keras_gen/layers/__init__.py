"""Layers of keras_gen, one module per layer family."""

from keras_gen.layers.gaussian import GaussianSample

__all__ = ["GaussianSample"]
