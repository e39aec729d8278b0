"""The variational autoencoder (Kingma & Welling, 2014), trained with the SGVB estimator."""

import keras
import numpy as np
from keras import ops

from keras_gen.layers import GaussianSample
from keras_gen.models.base import GaussianLatentModel
from keras_gen.models.networks import conv_decoder, conv_encoder, mlp_decoder, mlp_encoder
from keras_gen.validation import check_choice, check_int, check_int_sequence, resolve_seed

ARCHITECTURES = ("mlp", "conv")


@keras.saving.register_keras_serializable(package="keras_gen")
class VAE(GaussianLatentModel):
    """Gaussian encoder q(z|x), standard normal prior p(z), Bernoulli decoder p(x|z).

    Args:
        image_shape: (H, W, C) of the binary images.
        latent_dim: size of z.
        architecture: ``"mlp"`` (the paper's: dense layers) or ``"conv"`` (strided
            convolutions; H and W must be divisible by 4).
        hidden_units: sizes of the hidden dense layers of the encoder, one per layer,
            such as ``(500,)`` (the decoder mirrors them); a single int is an error.
        activation: activation of the hidden layers.
        seed: seed of the reparameterised sampling during training.

    ``model(x)`` returns the decoder's Bernoulli logits of shape (B, H, W, C) for
    one sample z ~ q(z|x); ``log_prob`` is the ELBO or the importance-weighted bound.

    Reference:
        - Kingma and Welling (2014). Auto-Encoding Variational Bayes. ICLR 2014.
          https://arxiv.org/abs/1312.6114

    Example::

        from keras_gen import datasets, models

        x = datasets.load_mnist("fixed").x_test[:64]       # binary digits (64, 28, 28, 1)
        vae = models.VAE(latent_dim=2, hidden_units=(64,), seed=0)
        vae.compile(optimizer="adam")
        vae.fit(x, batch_size=32, epochs=1, verbose=0)       # trains on the negative ELBO
        vae.log_prob(x[:4])                                  # the ELBO per image, nats, shape (4,)
        vae.log_prob(x[:4], num_samples=8)                   # the importance-weighted bound
        vae.sample(4, seed=1)                                # (4, 28, 28, 1) in {0, 1}
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        latent_dim=2,
        architecture="mlp",
        hidden_units=(500,),
        activation="relu",
        seed=None,
        **kwargs,
    ):
        super().__init__(image_shape, data_type="binary", **kwargs)
        self.latent_dim = check_int("latent_dim", latent_dim)
        self.architecture = check_choice("architecture", architecture, ARCHITECTURES)
        self.hidden_units = check_int_sequence("hidden_units", hidden_units)
        self.activation = activation
        self.seed = seed
        if architecture == "conv" and (self.image_shape[0] % 4 or self.image_shape[1] % 4):
            raise ValueError(
                f"the conv architecture halves the image twice, so height and width must be "
                f"divisible by 4; got image_shape={self.image_shape}."
            )
        make_encoder, make_decoder = {
            "mlp": (mlp_encoder, mlp_decoder),
            "conv": (conv_encoder, conv_decoder),
        }[architecture]
        self.encoder = make_encoder(self.hidden_units, self.latent_dim, activation)
        self.decoder = make_decoder(self.hidden_units, self.image_shape, activation)
        self.sampler = GaussianSample(seed=seed, name="reparameterise")
        self.create_weights()

    def decoder_logits(self, x, z):
        """Bernoulli logits of p(x|z); the factorised decoder reads z alone."""
        return self.decoder(z)

    def decode(self, z, *, batch_size=256):
        """Bernoulli means p(x = 1 | z) for latent codes z of shape (N, latent_dim)."""
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (N, {self.latent_dim}), got {z.shape}.")
        return self.run_compiled(
            "decode", lambda inputs, _: ops.sigmoid(self.decoder(inputs["z"])), {"z": z}, batch_size=batch_size
        )

    def sample_means(self, n, seed=None, *, batch_size=256):
        """The decoder's Bernoulli means for n codes z ~ N(0, I)."""
        z = np.random.default_rng(resolve_seed(seed)).standard_normal((check_int("n", n), self.latent_dim))
        return self.decode(z.astype("float32"), batch_size=batch_size)

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "architecture": self.architecture,
            "hidden_units": list(self.hidden_units),
            "activation": self.activation,
            "seed": self.seed,
        }
