"""Generative models of keras_gen, one module per model."""

from keras_gen.models.autoregressive import AutoregressiveModel
from keras_gen.models.base import GaussianLatentModel, GenerativeModel, LatentVariableModel
from keras_gen.models.draw import DRAW
from keras_gen.models.gated_pixelcnn import GatedPixelCNN
from keras_gen.models.hierarchical_pixelvae import HierarchicalPixelVAE
from keras_gen.models.multiscale_pixelrnn import MultiScalePixelRNN
from keras_gen.models.pixelcnn import PixelCNN
from keras_gen.models.pixelcnn_plus_plus import PixelCNNPlusPlus
from keras_gen.models.pixelrnn import PixelRNN
from keras_gen.models.pixelvae import PixelVAE
from keras_gen.models.vae import VAE

__all__ = [
    "DRAW",
    "AutoregressiveModel",
    "PixelCNN",
    "PixelCNNPlusPlus",
    "GenerativeModel",
    "GaussianLatentModel",
    "LatentVariableModel",
    "VAE",
    "GatedPixelCNN",
    "PixelRNN",
    "MultiScalePixelRNN",
    "PixelVAE",
    "HierarchicalPixelVAE",
]
