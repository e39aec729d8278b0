"""PixelVAE (Gulrajani et al., 2017): a VAE whose decoder is a small PixelCNN conditioned on the latent code."""

import keras
import numpy as np

from keras_gen.layers import GaussianSample
from keras_gen.models.base import GaussianLatentModel
from keras_gen.models.gated_pixelcnn import GatedPixelCNN
from keras_gen.models.networks import conv_decoder, conv_encoder
from keras_gen.validation import check_int, check_int_sequence, resolve_seed


@keras.saving.register_keras_serializable(package="keras_gen")
class PixelVAE(GaussianLatentModel):
    """Gaussian encoder q(z|x), standard normal prior p(z), autoregressive decoder p(x|z).

    The decoder factorises over pixels, ``p(x|z) = prod_i p(x_i | x_<i, z)``: the VAE's
    convolutional decoder turns z into a map s of the image's size, and a small
    :class:`GatedPixelCNN` conditioned on it (``map_channels``) reads it in every gate.
    The ELBO's reconstruction term is exact given z, and small details no longer have
    to pass through z.

    Args:
        image_shape: (H, W, C) of the binary images; H and W divisible by 4.
        latent_dim: size of z.
        hidden_units: dense layers of the encoder and of the map from z.
        map_channels: feature maps of the map from z.
        filters, num_layers, kernel_size, input_kernel_size: the decoder's gated
            PixelCNN (see :class:`GatedPixelCNN`); a few layers suffice.
        activation: activation of the encoder and of the map from z.
        seed: seed of the reparameterised sampling during training.

    ``model(x)`` is the decoder's Bernoulli logits (B, H, W, C) given one z ~ q(z|x)
    and the pixels of x before each one; ``log_prob`` is the ELBO or, with
    ``num_samples=k``, the importance-weighted bound.

    Reference:
        - Gulrajani, Kumar, Ahmed, Taiga, Visin, Vazquez and Courville (2017). PixelVAE: A Latent Variable
          Model for Natural Images. ICLR 2017.
          https://arxiv.org/abs/1611.05013

    Example::

        import numpy as np
        from keras_gen import models

        x = (np.random.default_rng(0).random((4, 8, 8, 1)) < 0.3).astype("float32")
        model = models.PixelVAE(image_shape=(8, 8, 1), latent_dim=2, hidden_units=(16,), map_channels=4, filters=8)
        model.log_prob(x, seed=0)                            # the ELBO per image (exact likelihood given z)
        model.log_prob(x, num_samples=4, seed=0)             # the importance-weighted bound
        model.sample(2, seed=0)                              # (2, 8, 8, 1) in {0, 1}
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        latent_dim=16,
        hidden_units=(256,),
        map_channels=16,
        filters=32,
        num_layers=2,
        kernel_size=3,
        input_kernel_size=5,
        activation="relu",
        seed=None,
        **kwargs,
    ):
        super().__init__(image_shape, data_type="binary", **kwargs)
        self.latent_dim = check_int("latent_dim", latent_dim)
        height, width, _ = self.image_shape
        if height % 4 or width % 4:
            raise ValueError(
                f"the map from z is upsampled twice by 2, so height and width must be divisible by 4; "
                f"got image_shape={self.image_shape}."
            )
        self.hidden_units = check_int_sequence("hidden_units", hidden_units)
        self.map_channels = check_int("map_channels", map_channels)
        self.activation, self.seed = activation, seed
        self.encoder = conv_encoder(self.hidden_units, self.latent_dim, activation)
        self.latent_map = conv_decoder(self.hidden_units, (height, width, self.map_channels), activation)
        self.decoder = GatedPixelCNN(
            self.image_shape,
            map_channels=self.map_channels,
            filters=filters,
            num_layers=num_layers,
            kernel_size=kernel_size,
            input_kernel_size=input_kernel_size,
            dtype=self.dtype_policy,
            name="pixelcnn",
        )
        self.sampler = GaussianSample(seed=seed, name="reparameterise")
        self.create_weights()

    def decoder_logits(self, x, z):
        """Bernoulli logits of p(x_i | x_<i, z) at every pixel: the map from z, then the PixelCNN."""
        return self.decoder({"image": x, "map": self.latent_map(z)})

    def log_prob(self, x, num_samples=None, *, batch_size=None, seed=None):
        # every importance sample runs the PixelCNN on a whole image: smaller batches than the VAE's
        if batch_size is None and isinstance(num_samples, (int, np.integer)) and num_samples >= 1:
            batch_size = max(1, 1024 // int(num_samples))
        return super().log_prob(x, num_samples, batch_size=batch_size, seed=seed)

    def latent_maps(self, z, *, batch_size=256):
        """The decoder's condition maps s = m(z) for codes z of shape (N, latent_dim), as NumPy."""
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim or not np.isfinite(z).all():
            raise ValueError(f"z must hold finite latent codes of shape (N, {self.latent_dim}), got shape {z.shape}.")
        return self.run_compiled(
            "latent_map", lambda inputs, _: self.latent_map(inputs["z"]), {"z": z}, batch_size=batch_size
        )

    def sample(self, n, seed=None, *, z=None, batch_size=64, cached=True):
        """``n`` binary images: z ~ N(0, I) (or the given codes, shape (n, latent_dim)), then x ~ p(x|z).

        The map from z is computed once; the pixels are then drawn by the decoder's
        compiled autoregressive sampler (cached or not, as in ``AutoregressiveModel.sample``),
        so the same ``seed`` with other codes z draws the pixels with the same uniform noise.
        """
        n = check_int("n", n)
        seed = resolve_seed(seed)
        if z is None:
            z = np.random.default_rng((seed, 1)).standard_normal((n, self.latent_dim)).astype("float32")
        return self.decoder.sample(n, seed=seed, map=self.latent_maps(z), batch_size=batch_size, cached=cached)

    def get_config(self):
        decoder = self.decoder
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "hidden_units": list(self.hidden_units),
            "map_channels": self.map_channels,
            "filters": decoder.filters,
            "num_layers": decoder.num_layers,
            "kernel_size": decoder.kernel_size,
            "input_kernel_size": decoder.input_kernel_size,
            "activation": self.activation,
            "seed": self.seed,
        }
