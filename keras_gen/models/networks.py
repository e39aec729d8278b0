"""The encoder and decoder networks of the latent-variable models (VAE, PixelVAE), as ``keras.Sequential``s."""

import keras
import numpy as np


def mlp_encoder(hidden_units, latent_dim, activation):
    """The dense encoder: the flattened image through ``hidden_units`` layers to ``2 * latent_dim`` outputs,
    the mean and log-variance of q(z | x) (Kingma & Welling, 2014, appendix C.2).

    Example: ``mlp_encoder((500,), 20, "tanh")(images)`` has shape (batch, 40).
    """
    return keras.Sequential(
        [keras.layers.Flatten()]
        + [keras.layers.Dense(units, activation=activation) for units in hidden_units]
        + [keras.layers.Dense(2 * latent_dim)],
        name="encoder",
    )


def mlp_decoder(hidden_units, image_shape, activation):
    """The dense decoder: a code through ``hidden_units`` layers (last first) to one logit per sub-pixel.

    Example: ``mlp_decoder((500,), (28, 28, 1), "tanh")(codes)`` has shape (batch, 28, 28, 1).
    """
    return keras.Sequential(
        [keras.layers.Dense(units, activation=activation) for units in reversed(hidden_units)]
        + [keras.layers.Dense(int(np.prod(image_shape))), keras.layers.Reshape(image_shape)],
        name="decoder",
    )


def conv_encoder(hidden_units, latent_dim, activation):
    """The convolutional encoder: two stride-2 3×3 convolutions (32, 64 maps), then dense layers to
    ``2 * latent_dim`` outputs, the mean and log-variance of q(z | x).

    Example: ``conv_encoder((256,), 20, "relu")(images)`` has shape (batch, 40).
    """
    return keras.Sequential(
        [
            keras.layers.Conv2D(32, 3, strides=2, padding="same", activation=activation),
            keras.layers.Conv2D(64, 3, strides=2, padding="same", activation=activation),
            keras.layers.Flatten(),
        ]
        + [keras.layers.Dense(units, activation=activation) for units in hidden_units]
        + [keras.layers.Dense(2 * latent_dim)],
        name="encoder",
    )


def conv_decoder(hidden_units, image_shape, activation):
    """The convolutional decoder: dense layers to a 64-map grid a quarter of the image's height and width,
    two stride-2 transposed convolutions up to full size, and a 3×3 convolution to ``image_shape``'s channels.

    Example: ``conv_decoder((256,), (28, 28, 4), "relu")(codes)`` has shape (batch, 28, 28, 4).
    """
    height, width, channels = image_shape
    return keras.Sequential(
        [keras.layers.Dense(units, activation=activation) for units in reversed(hidden_units)]
        + [
            keras.layers.Dense((height // 4) * (width // 4) * 64, activation=activation),
            keras.layers.Reshape((height // 4, width // 4, 64)),
            keras.layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation=activation),
            keras.layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation=activation),
            keras.layers.Conv2D(channels, 3, padding="same"),
        ],
        name="decoder",
    )
