"""The multi-scale PixelRNN (van den Oord et al., 2016a, section 3.4).

An unconditional PixelRNN models a small s×s image, here every ``factor``-th pixel of
every ``factor``-th row of the n×n image (s = n / factor); a conditional PixelRNN then
models the n×n image given the small one, which a learned deconvolution upsamples
and every LSTM layer receives as a bias (``PixelRNN(small_image_shape=...)``).
The small image's pixels are known context for the conditional network, as in
the paper: it neither models nor draws them (``PixelRNN.given_subpixels``), only
the other pixels. Since the small image is a function of the large one,

    log p(x) = log p(small(x)) + log p(x | small(x)),

exactly, with the second term summed over the pixels that are not in the small
image. Sampling runs the two stages one after the other; the large image keeps
the small one's pixels.
"""

import math

import keras

from keras_gen import heads
from keras_gen.models.base import GenerativeModel
from keras_gen.models.pixelrnn import PixelRNN
from keras_gen.validation import check_bool, check_int, check_known_rows, resolve_seed


@keras.saving.register_keras_serializable(package="keras_gen")
class MultiScalePixelRNN(GenerativeModel):
    """An unconditional small-image PixelRNN followed by a conditional full-size PixelRNN.

    Args:
        image_shape: (H, W, C); H and W must be multiples of ``factor``.
        factor: subsampling factor r; the small image is ``x[:, ::r, ::r]``.
        layer_type, num_layers, units, kernel_size, output, residual, skip: as in
            ``PixelRNN``, used by both stages.

    ``model(x)`` returns ``{"small": ..., "conditional": ...}``, the head parameters
    of the two stages. ``fit`` logs ``nll`` and its two parts, ``small_nll`` and
    ``conditional_nll`` (nats).

    Reference:
        - van den Oord, Kalchbrenner and Kavukcuoglu (2016a). Pixel Recurrent Neural Networks. ICML 2016.
          https://arxiv.org/abs/1601.06759

    Example::

        import numpy as np
        from keras_gen import models

        x = (np.random.default_rng(0).random((4, 8, 8, 1)) < 0.3).astype("float32")
        model = models.MultiScalePixelRNN(image_shape=(8, 8, 1), factor=2, layer_type="row_lstm", num_layers=1, units=8)
        model.log_prob(x)                                    # log p(small image) + log p(x | small image)
        model.sample(2, seed=0)                              # (2, 8, 8, 1): the small image first, then the full one
    """

    metric_names = ("nll", "small_nll", "conditional_nll")

    def __init__(
        self,
        image_shape=(28, 28, 1),
        factor=2,
        layer_type="diagonal_bilstm",
        num_layers=4,
        units=16,
        kernel_size=3,
        output="bernoulli",
        residual=True,
        skip=False,
        **kwargs,
    ):
        head = heads.get(output)
        super().__init__(image_shape, data_type=head.data_type, **kwargs)
        self.factor = check_int("factor", factor, minimum=2)
        height, width, channels = self.image_shape
        if height % self.factor or width % self.factor:
            raise ValueError(
                f"factor must be an integer ≥ 2 that divides the image height and width {height}×{width}, "
                f"got {factor!r}."
            )
        self.small_image_shape = (height // self.factor, width // self.factor, channels)
        self.layer_type = layer_type  # checked by PixelRNN
        self.num_layers = check_int("num_layers", num_layers)
        self.units = check_int("units", units)
        self.kernel_size = check_int("kernel_size", kernel_size)
        self.head = head
        self.residual = check_bool("residual", residual)
        self.skip = check_bool("skip", skip)
        self.small_model = PixelRNN(
            self.small_image_shape, **self.stage_config(), dtype=self.dtype_policy, name="small_model"
        )
        self.conditional_model = PixelRNN(
            self.image_shape,
            **self.stage_config(),
            small_image_shape=self.small_image_shape,
            dtype=self.dtype_policy,
            name="conditional_model",
        )
        self.create_weights()

    def stage_config(self):
        """The arguments the two stages' PixelRNNs share, as in this model's config."""
        return {
            "layer_type": self.layer_type,
            "num_layers": self.num_layers,
            "units": self.units,
            "kernel_size": self.kernel_size,
            "output": heads.serialize(self.head),
            "residual": self.residual,
            "skip": self.skip,
        }

    def subsample(self, x):
        """The small image: every ``factor``-th pixel of every ``factor``-th row (NumPy or tensor)."""
        return x[:, :: self.factor, :: self.factor]

    def call(self, x, training=False):
        small = self.subsample(x)
        return {
            "small": self.small_model(small, training=training),
            "conditional": self.conditional_model({"image": x, "small_image": small}, training=training),
        }

    def loss_terms(self, x, y_pred):
        small_nll = -self.small_model.image_log_prob(y_pred["small"], self.subsample(x))
        conditional_nll = -self.conditional_model.image_log_prob(y_pred["conditional"], x)
        return {"nll": small_nll + conditional_nll, "small_nll": small_nll, "conditional_nll": conditional_nll}

    def log_prob(self, x, *, batch_size=256):
        """``log p(small(x)) + log p(x | small(x))`` per image, in nats, shape (batch,)."""
        x = self.check_images(x)

        def graph(inputs, _):
            image = inputs["image"]
            return -self.loss_terms(image, self(image))["nll"]

        return self.run_compiled("log_prob", graph, {"image": x}, batch_size=batch_size)

    def sample(self, n, seed=None, *, batch_size=64, cached=True):
        """``n`` images: small images from the first stage, then full ones given them."""
        return self.sample_stages(n, seed, batch_size=batch_size, cached=cached)[1]

    def sample_stages(self, n, seed=None, *, batch_size=64, cached=True):
        """``(small_images, images)`` of ``sample``: what each of the two stages drew."""
        seed = check_int("seed", resolve_seed(seed), minimum=0)
        small = self.small_model.sample(n, seed, batch_size=batch_size, cached=cached)
        images = self.conditional_model.sample(n, seed + 1, batch_size=batch_size, cached=cached, small_image=small)
        return small, images

    def complete(self, x, known_rows, seed=None, *, batch_size=64, cached=True):
        """Keep the first ``known_rows`` rows of ``x``; complete the small image, then the full one.

        The small image keeps the rows it takes from the known part, ``ceil(known_rows / factor)``.
        """
        return self.complete_stages(x, known_rows, seed, batch_size=batch_size, cached=cached)[1]

    def complete_stages(self, x, known_rows, seed=None, *, batch_size=64, cached=True):
        """``(small_images, images)`` of ``complete``: what each of the two stages completed."""
        x = self.check_images(x)
        height = self.image_shape[0]
        known_rows = check_known_rows(known_rows, height)
        seed = check_int("seed", resolve_seed(seed), minimum=0)
        small_known = math.ceil(known_rows / self.factor)
        small = self.small_model.complete(self.subsample(x), small_known, seed, batch_size=batch_size, cached=cached)
        images = self.conditional_model.complete(
            x, known_rows, seed + 1, batch_size=batch_size, cached=cached, small_image=small
        )
        return small, images

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, **self.stage_config()}
