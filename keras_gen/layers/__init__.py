"""Layers of keras_gen, one module per layer family."""

from keras_gen.layers.attention import AttentionWindow, AttentiveRead, AttentiveWrite, FullRead, FullWrite
from keras_gen.layers.diagonal_lstm import DiagonalBiLSTM, DiagonalLSTM
from keras_gen.layers.gated_pixelcnn import GatedPixelCNNBlock
from keras_gen.layers.gated_resnet import GatedResNetBlock
from keras_gen.layers.gaussian import GaussianSample
from keras_gen.layers.masked_conv import MaskedConv2D
from keras_gen.layers.pixelcnn_residual import PixelCNNResidualBlock
from keras_gen.layers.residual_lstm import ResidualLSTMBlock
from keras_gen.layers.row_lstm import RowLSTM
from keras_gen.layers.shifted_conv import DownShift, ShiftedConv2D, ShiftedConv2DTranspose

__all__ = [
    "AttentionWindow",
    "AttentiveRead",
    "AttentiveWrite",
    "FullRead",
    "FullWrite",
    "MaskedConv2D",
    "PixelCNNResidualBlock",
    "GatedResNetBlock",
    "GaussianSample",
    "GatedPixelCNNBlock",
    "DiagonalBiLSTM",
    "DownShift",
    "DiagonalLSTM",
    "ResidualLSTMBlock",
    "RowLSTM",
    "ShiftedConv2D",
    "ShiftedConv2DTranspose",
]
