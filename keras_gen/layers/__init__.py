"""Layers of keras_gen, one module per layer family."""

from keras_gen.layers.gaussian import GaussianSample
from keras_gen.layers.masked_conv import MaskedConv2D
from keras_gen.layers.gated_pixelcnn import GatedPixelCNNBlock

__all__ = ["MaskedConv2D", "GaussianSample", "GatedPixelCNNBlock"]
