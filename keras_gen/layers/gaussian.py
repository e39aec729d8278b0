"""The reparameterised Gaussian sample of the VAE (Kingma & Welling, 2014, eq. 10)."""

import keras
from keras import ops

from keras_gen.ops.distributions import reparameterize
from keras_gen.validation import check_int


@keras.saving.register_keras_serializable(package="keras_gen")
class GaussianSample(keras.layers.Layer):
    """``z = mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``.

    Gradients flow to ``mean`` and ``log_var`` because the noise ``eps`` is drawn
    independently of them: the reparameterisation trick. Call on ``[mean, log_var]``;
    ``num_samples`` adds an axis of that many samples after the batch axis.

    Reference:
        - Kingma and Welling (2014). Auto-Encoding Variational Bayes. ICLR 2014.
          https://arxiv.org/abs/1312.6114

    Example::

        import numpy as np
        from keras_gen import layers

        mean, log_var = np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")
        sampler = layers.GaussianSample(seed=0)
        sampler([mean, log_var]).shape                       # (2, 3), one z per image
        sampler([mean, log_var], num_samples=5).shape        # (2, 5, 3), five per image
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, num_samples=None, seed_generator=None):
        mean, log_var = inputs
        if tuple(mean.shape) != tuple(log_var.shape):
            raise ValueError(f"mean and log_var must have the same shape, got {mean.shape} and {log_var.shape}.")
        if num_samples is not None:
            num_samples = check_int("num_samples", num_samples)
            mean, log_var = ops.expand_dims(mean, 1), ops.expand_dims(log_var, 1)
            shape = (ops.shape(mean)[0], num_samples) + tuple(mean.shape[2:])
        else:
            shape = ops.shape(mean)
        eps = keras.random.normal(shape, dtype=self.compute_dtype, seed=seed_generator or self.seed_generator)
        return reparameterize(mean, log_var, eps)

    def compute_output_shape(self, input_shape, num_samples=None):
        mean_shape = tuple(input_shape[0])
        if num_samples is None:
            return mean_shape
        return mean_shape[:1] + (check_int("num_samples", num_samples),) + mean_shape[1:]

    def compute_output_spec(self, inputs, num_samples=None, seed_generator=None):
        # Keras passes only tensor shapes to compute_output_shape; num_samples changes the shape too
        shape = self.compute_output_shape([inputs[0].shape, inputs[1].shape], num_samples)
        return keras.KerasTensor(shape, dtype=self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
