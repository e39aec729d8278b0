"""Layers of keras_gen, one module per layer family."""

from keras_gen.layers.gaussian import GaussianSample
from keras_gen.layers.masked_conv import MaskedConv2D

__all__ = ["MaskedConv2D", "GaussianSample"]
