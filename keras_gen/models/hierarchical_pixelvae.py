"""The hierarchical PixelVAE (after Gulrajani et al., 2017): two levels of latent variables.

A top code z2 ~ N(0, I) sets the prior of a bottom code, p(z1 | z2) = N(mu(z2), diag sigma^2(z2)),
and the bottom code drives PixelVAE's autoregressive decoder p(x | z1). Inference runs bottom-up,
q(z1 | x) q(z2 | z1), and the bound splits by level:

    ELBO = E[log p(x | z1)] - E[log q(z1 | x) - log p(z1 | z2)] - E[KL(q(z2 | z1) || N(0, I))],

the reconstruction, the bottom level's KL and the top level's KL. The top level's inner KL is
in closed form given the drawn z1. The bottom level's term is estimated at the one (z1, z2)
drawn: z2 is drawn from q(z2 | z1), after z1 and from it, so given z2 the code z1 no longer
follows the Gaussian q(z1 | x) and the term is not an average of KLs between Gaussians. This
inference departs from the authors' released code, which computes q(z2 | x) from features of
the image, so that z1 and z2 are independent given x. The paper's bottom prior is a PixelCNN
over latent maps; here it is a diagonal Gaussian whose mean and variance an MLP computes from
z2, which keeps the two-level structure and its three sources of variation (top code, bottom
code, pixel noise) on MNIST at the book's budget.
"""

import keras
import numpy as np
from keras import ops

from keras_gen import ops as kg_ops
from keras_gen.models.pixelvae import PixelVAE
from keras_gen.validation import check_int, check_int_sequence, resolve_seed


def _gaussian_mlp(hidden_units, output_dim, activation, name):
    """Dense layers ending in the means and log-variances of a diagonal Gaussian (2 · output_dim numbers)."""
    return keras.Sequential(
        [keras.layers.Dense(units, activation=activation) for units in hidden_units]
        + [keras.layers.Dense(2 * output_dim)],
        name=name,
    )


@keras.saving.register_keras_serializable(package="keras_gen")
class HierarchicalPixelVAE(PixelVAE):
    """PixelVAE with a second, top level of latent variables (how it departs from the paper: the module docstring).

    Args:
        top_dim: size of the top code z2.
        top_hidden_units: dense layers of q(z2 | z1) and of p(z1 | z2).
        latent_dim: size of the bottom code z1, which the decoder reads.
        The other arguments are PixelVAE's.

    ``log_prob`` is the ELBO or, with ``num_samples=k``, the importance-weighted bound with
    (z1, z2) drawn jointly from q; ``elbo_terms`` adds the split ``kl_bottom`` and ``kl_top``.

    Reference:
        - Gulrajani, Kumar, Ahmed, Taiga, Visin, Vazquez and Courville (2017). PixelVAE: A Latent Variable
          Model for Natural Images. ICLR 2017.
          https://arxiv.org/abs/1611.05013

    Example::

        import numpy as np
        from keras_gen import models

        x = (np.random.default_rng(0).random((4, 8, 8, 1)) < 0.3).astype("float32")
        model = models.HierarchicalPixelVAE(image_shape=(8, 8, 1), latent_dim=4, top_dim=2, hidden_units=(16,),
                                            top_hidden_units=(16,), map_channels=4, filters=8)
        model.elbo_terms(x, seed=0)                          # reconstruction, kl, kl_bottom, kl_top per image
        model.log_prob(x, num_samples=4, seed=0)             # the importance-weighted bound
        top = np.zeros((2, 2), "float32")
        model.sample(2, seed=0, top=top)                     # (2, 8, 8, 1): z1 ~ p(z1 | z2 = 0), then x
    """

    elbo_columns = ("reconstruction", "kl_bottom", "kl_top")

    def __init__(self, image_shape=(28, 28, 1), latent_dim=16, top_dim=4, top_hidden_units=(128,), **kwargs):
        # read by create_weights, which PixelVAE.__init__ calls at its end
        self.top_dim = check_int("top_dim", top_dim)
        self.top_hidden_units = check_int_sequence("top_hidden_units", top_hidden_units)
        super().__init__(image_shape, latent_dim=latent_dim, **kwargs)

    def create_weights(self):
        """Add the top level's two networks, then create every weight with PixelVAE's symbolic call."""
        self.top_encoder = _gaussian_mlp(self.top_hidden_units, self.top_dim, self.activation, "top_encoder")
        self.bottom_prior = _gaussian_mlp(self.top_hidden_units, self.latent_dim, self.activation, "bottom_prior")
        super().create_weights()

    def _levels(self, x, num_samples, seed_generator):
        """One joint draw (z1, z2) ~ q(z1|x) q(z2|z1) per image (k with ``num_samples=k``: shapes (B, k, ...)),
        with the log-densities of both levels under q and the prior, and KL(q(z2|z1) || N(0, I))."""
        mean, log_var = self.encoder_params(x)
        z1 = self.sampler([mean, log_var], num_samples=num_samples, seed_generator=seed_generator)
        if num_samples is not None:  # one row per draw, b·k + j, for the dense networks
            z1 = ops.reshape(z1, (-1, self.latent_dim))
            mean, log_var = ops.repeat(mean, num_samples, axis=0), ops.repeat(log_var, num_samples, axis=0)
        top_mean, top_log_var = kg_ops.split_gaussian_stats(self.top_encoder(z1))
        z2 = self.sampler([top_mean, top_log_var], seed_generator=seed_generator)  # one z2 per z1
        prior_mean, prior_log_var = kg_ops.split_gaussian_stats(self.bottom_prior(z2))
        z1_32, z2_32, mean, log_var, top_mean, top_log_var, prior_mean, prior_log_var = (
            ops.cast(t, "float32") for t in (z1, z2, mean, log_var, top_mean, top_log_var, prior_mean, prior_log_var)
        )
        terms = {
            "log_q_bottom": kg_ops.diagonal_gaussian_log_prob(z1_32, mean, log_var),
            "log_p_bottom": kg_ops.diagonal_gaussian_log_prob(z1_32, prior_mean, prior_log_var),
            "log_q_top": kg_ops.diagonal_gaussian_log_prob(z2_32, top_mean, top_log_var),
            "log_p_top": kg_ops.standard_normal_log_prob(z2_32),
            "kl_top": kg_ops.gaussian_kl(top_mean, top_log_var),
        }
        if num_samples is not None:
            terms = {name: ops.reshape(value, (-1, num_samples)) for name, value in terms.items()}
        return {"z1": z1, **terms}

    def params_and_level_kls(self, x, training=False, seed_generator=None):
        """The decoder's logits for one joint draw (z1, z2) ~ q, and the KL of each level (see the module docstring)."""
        draw = self._levels(x, None, seed_generator)
        return self.decoder_logits(x, draw["z1"]), draw["log_q_bottom"] - draw["log_p_bottom"], draw["kl_top"]

    def params_and_kl(self, x, training=False, seed_generator=None):
        logits, kl_bottom, kl_top = self.params_and_level_kls(x, training, seed_generator)
        return logits, kl_bottom + kl_top

    def _elbo_graph(self, inputs, seed_generator):
        x = inputs["x"]
        logits, kl_bottom, kl_top = self.params_and_level_kls(x, seed_generator=seed_generator)
        return ops.stack([self.reconstruction_log_prob(x, logits), kl_bottom, kl_top], axis=-1)

    def log_importance_weights(self, x, num_samples, seed_generator):
        """``log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1)`` for k joint draws per image."""
        draw = self._levels(x, num_samples, seed_generator)
        x_repeated = ops.repeat(ops.cast(x, "float32"), num_samples, axis=0)
        logits = self.decoder_logits(x_repeated, draw["z1"])
        log_likelihood = ops.reshape(self.reconstruction_log_prob(x_repeated, logits), (-1, num_samples))
        return log_likelihood + draw["log_p_bottom"] + draw["log_p_top"] - draw["log_q_bottom"] - draw["log_q_top"]

    def bottom_codes(self, top, seed=None):
        """Bottom codes z1 ~ p(z1 | z2) for top codes ``top`` of shape (n, top_dim), as NumPy."""
        top = np.asarray(top, dtype="float32")
        if top.ndim != 2 or top.shape[1] != self.top_dim or not np.isfinite(top).all():
            raise ValueError(f"top must hold finite top codes of shape (n, {self.top_dim}), got shape {top.shape}.")
        stats = self.run_compiled(
            "bottom_prior", lambda inputs, _: self.bottom_prior(inputs["top"]), {"top": top}, batch_size=256
        )
        mean, log_var = kg_ops.split_gaussian_stats(stats)
        noise = np.random.default_rng((resolve_seed(seed), 2)).standard_normal(mean.shape).astype("float32")
        return np.asarray(ops.convert_to_numpy(kg_ops.reparameterize(mean, log_var, noise)))

    def sample(self, n, seed=None, *, top=None, z=None, batch_size=64, cached=True):
        """``n`` binary images: z2 ~ N(0, I) (or ``top``), z1 ~ p(z1 | z2) (or ``z``), then x ~ p(x | z1).

        ``seed`` fixes the draws that are not given; the pixel noise depends on ``seed`` alone,
        so fixing it and varying ``top`` or ``z`` shows what each level controls.
        """
        n = check_int("n", n)
        seed = resolve_seed(seed)
        if z is None:
            if top is None:
                top = np.random.default_rng((seed, 3)).standard_normal((n, self.top_dim)).astype("float32")
            z = self.bottom_codes(top, seed)
        return super().sample(n, seed, z=z, batch_size=batch_size, cached=cached)

    def get_config(self):
        return {**super().get_config(), "top_dim": self.top_dim, "top_hidden_units": list(self.top_hidden_units)}
