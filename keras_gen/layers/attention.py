"""DRAW's read and write operations, without and with Gaussian attention (Gregor et al., 2015, sec. 3).

Read layers are called on ``[x, x_hat, h_dec]`` (the image, the error image and the
previous decoder state) and return a flat glimpse; write layers are called on ``h_dec``
and return an additive canvas update of the image's shape. The attentive layers also
return their attention window, one row of ``WINDOW_FIELDS`` per image, in pixels.
"""

import math

import keras
from keras import ops

from keras_gen.layers.policy import share_dtype_policy
from keras_gen.ops.filterbank import gaussian_filterbank
from keras_gen.validation import check_image_shape, check_int, input_spec_like

WINDOW_FIELDS = ("center_x", "center_y", "stride", "variance", "intensity")


@keras.saving.register_keras_serializable(package="keras_gen")
class AttentionWindow(keras.layers.Layer):
    """Where an N×N grid of Gaussian filters looks, from a linear map of ``h_dec`` (eq. 21–24).

    ``(g~_X, g~_Y, log sigma^2, log delta~, log gamma) = W(h_dec)``, then
    ``g_X = (A - 1)/2 (g~_X + 1)``, ``g_Y = (B - 1)/2 (g~_Y + 1)`` and
    ``delta = (max(A, B) - 1)/(N - 1) delta~`` for an image of width A and height B. Pixels
    are counted from 0 (the paper counts from 1 and writes ``(A + 1)/2``), so ``g~ = 0`` is
    the image centre ``(A - 1)/2``, ``g~ = ±1`` are the first and last pixels, and
    ``delta~ = 1`` spans the image exactly. Returns ``(g_X, g_Y, delta, sigma^2, gamma)``
    per image, shape (B, 5), in ``WINDOW_FIELDS`` order.

    The paper leaves the initial window open. The bias of W starts every window as a coarse
    view of the whole image: centred, ``delta = max(A, B) / N`` so that the N filters tile
    the image, ``sigma = delta / 2`` so that together they cover it, and ``gamma =
    initial_intensity``. (With ``delta~ = 1`` a 2×2 grid would sit on the empty corners of a
    digit, and the encoder would learn nothing from its first glimpses.)

    Reference:
        - Gregor, Danihelka, Graves, Rezende and Wierstra (2015). DRAW: A Recurrent Neural Network
          for Image Generation. ICML 2015.
          https://arxiv.org/abs/1502.04623

    Example::

        import numpy as np
        from keras_gen import layers

        h_dec = np.random.default_rng(0).normal(size=(2, 32)).astype("float32")
        window_layer = layers.AttentionWindow(grid_size=5, image_shape=(28, 28, 1))
        window = window_layer(h_dec)                         # (2, 5): centre x, centre y, stride, variance, intensity
        filters_x, filters_y, gamma = window_layer.filterbanks(window)   # (2, 5, 28), (2, 5, 28), (2, 1, 1, 1)
    """

    def __init__(self, grid_size, image_shape, initial_intensity=1.0, **kwargs):
        super().__init__(**kwargs)
        self.grid_size = check_int("grid_size", grid_size)
        self.image_shape = check_image_shape(image_shape)
        if not initial_intensity > 0:
            raise ValueError(f"initial_intensity must be positive, got {initial_intensity!r}.")
        self.initial_intensity = float(initial_intensity)
        start = keras.initializers.Constant(self.initial_bias())
        self.linear = keras.layers.Dense(5, bias_initializer=start, name="window_parameters")

    def initial_bias(self):
        """``(g~_X, g~_Y, log sigma^2, log delta~, log gamma)`` of the whole-image window described above."""
        height, width, _ = self.image_shape
        stride = max(height, width) / self.grid_size
        stride_tilde = stride / ((max(height, width) - 1) / max(self.grid_size - 1, 1))
        return [
            0.0,
            0.0,
            math.log(stride**2 / 4),
            math.log(stride_tilde),
            math.log(self.initial_intensity),
        ]

    def build(self, input_shape):
        share_dtype_policy(self)
        self.linear.build(input_shape)
        self.input_spec = input_spec_like(input_shape)

    def call(self, h_dec):
        height, width, _ = self.image_shape
        center_x, center_y, log_variance, log_stride, log_intensity = ops.unstack(self.linear(h_dec), 5, axis=-1)
        stride_scale = (max(height, width) - 1) / max(self.grid_size - 1, 1)
        return ops.stack(
            [
                (width - 1) / 2 * (center_x + 1.0),
                (height - 1) / 2 * (center_y + 1.0),
                stride_scale * ops.exp(log_stride),
                ops.exp(log_variance),
                ops.exp(log_intensity),
            ],
            axis=-1,
        )

    def filterbanks(self, window):
        """``(F_X, F_Y, gamma)`` of a window: (B, N, W), (B, N, H) and (B, 1, 1, 1).

        The filters are computed in float32 (pixel coordinates need its precision) and
        returned in the layer's compute dtype.
        """
        height, width, _ = self.image_shape
        center_x, center_y, stride, variance, intensity = ops.unstack(window, 5, axis=-1)
        filters_x, filters_y = gaussian_filterbank(center_x, center_y, stride, variance, self.grid_size, width, height)
        filters_x, filters_y = (ops.cast(f, self.compute_dtype) for f in (filters_x, filters_y))
        return filters_x, filters_y, ops.reshape(intensity, (-1, 1, 1, 1))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (5,)

    def get_config(self):
        return {
            **super().get_config(),
            "grid_size": self.grid_size,
            "image_shape": list(self.image_shape),
            "initial_intensity": self.initial_intensity,
        }


def glimpse(image, filters_x, filters_y):
    """``F_Y x F_X^T`` for every channel: (B, H, W, C) images to (B, N, N, C) glimpses."""
    return ops.einsum("bnh,bhwc,bmw->bnmc", filters_y, image, filters_x)


def spread(patch, filters_x, filters_y):
    """``F_Y^T w F_X`` for every channel, the transpose of :func:`glimpse`: (B, N, N, C) to (B, H, W, C)."""
    return ops.einsum("bnh,bnmc,bmw->bhwc", filters_y, patch, filters_x)


@keras.saving.register_keras_serializable(package="keras_gen")
class AttentiveRead(keras.layers.Layer):
    """``read(x, x_hat, h_dec) = gamma [F_Y x F_X^T, F_Y x_hat F_X^T]`` (eq. 27).

    Returns the flat glimpse of shape (B, 2·N·N·C) and the read window (B, 5).

    Reference:
        - Gregor, Danihelka, Graves, Rezende and Wierstra (2015). DRAW: A Recurrent Neural Network
          for Image Generation. ICML 2015.
          https://arxiv.org/abs/1502.04623

    Example::

        import numpy as np
        from keras_gen import layers

        rng = np.random.default_rng(0)
        x, x_hat = rng.random((2, 28, 28, 1), "float32"), rng.random((2, 28, 28, 1), "float32")
        h_dec = rng.normal(size=(2, 32)).astype("float32")
        glimpse, window = layers.AttentiveRead(2, (28, 28, 1))([x, x_hat, h_dec])   # (2, 8), (2, 5)
    """

    def __init__(self, grid_size, image_shape, **kwargs):
        super().__init__(**kwargs)
        self.window = AttentionWindow(grid_size, image_shape, name="read_window")

    def build(self, input_shape):
        share_dtype_policy(self)
        self.window.build(input_shape[2])
        image = input_spec_like((None,) + self.window.image_shape, axes=(1, 2, 3))  # known from the constructor
        self.input_spec = [image, image, input_spec_like(input_shape[2])]

    def call(self, inputs):
        x, x_hat, h_dec = inputs
        window = self.window(h_dec)
        filters_x, filters_y, intensity = self.window.filterbanks(window)
        glimpses = [intensity * glimpse(image, filters_x, filters_y) for image in (x, x_hat)]
        size = math.prod(glimpses[0].shape[1:])
        return ops.concatenate([ops.reshape(g, (-1, size)) for g in glimpses], axis=-1), window

    def compute_output_shape(self, input_shape):
        n, channels = self.window.grid_size, self.window.image_shape[2]
        return (input_shape[0][0], 2 * n * n * channels), (input_shape[0][0], 5)

    def get_config(self):
        return {
            **super().get_config(),
            "grid_size": self.window.grid_size,
            "image_shape": list(self.window.image_shape),
        }


@keras.saving.register_keras_serializable(package="keras_gen")
class AttentiveWrite(keras.layers.Layer):
    """``write(h_dec) = (1 / gamma^) F^_Y^T w_t F^_X`` with the patch ``w_t = W(h_dec)`` (eq. 28–29).

    Returns the canvas update of shape (B, H, W, C) and the write window (B, 5).

    The write window starts with ``gamma^ = N^2 / (H W)``. The rows of the filterbanks sum
    to 1 over the pixels, so ``F^_Y^T w F^_X`` spreads a patch value over the window with a
    gain of about ``N^2 / (H W)`` per pixel; dividing by that ``gamma^`` starts the write at
    unit gain, as strong as a linear write of the whole canvas, instead of some 30 times
    weaker (5×5 patch on 28×28), which would leave the first epochs writing almost nothing.

    Reference:
        - Gregor, Danihelka, Graves, Rezende and Wierstra (2015). DRAW: A Recurrent Neural Network
          for Image Generation. ICML 2015.
          https://arxiv.org/abs/1502.04623

    Example::

        import numpy as np
        from keras_gen import layers

        h_dec = np.random.default_rng(0).normal(size=(2, 32)).astype("float32")
        update, window = layers.AttentiveWrite(5, (28, 28, 1))(h_dec)   # canvas update (2, 28, 28, 1), window (2, 5)
    """

    def __init__(self, grid_size, image_shape, **kwargs):
        super().__init__(**kwargs)
        height, width, _ = check_image_shape(image_shape)
        self.window = AttentionWindow(
            grid_size, image_shape, initial_intensity=grid_size**2 / (height * width), name="write_window"
        )
        n, channels = self.window.grid_size, self.window.image_shape[2]
        self.patch_shape = (n, n, channels)
        self.patch = keras.layers.Dense(n * n * channels, name="write_patch")

    def build(self, input_shape):
        share_dtype_policy(self)
        self.window.build(input_shape)
        self.patch.build(input_shape)
        self.input_spec = input_spec_like(input_shape)

    def call(self, h_dec):
        window = self.window(h_dec)
        filters_x, filters_y, intensity = self.window.filterbanks(window)
        patch = ops.reshape(self.patch(h_dec), (-1,) + self.patch_shape)
        return spread(patch, filters_x, filters_y) / intensity, window

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.window.image_shape, (input_shape[0], 5)

    def get_config(self):
        return {
            **super().get_config(),
            "grid_size": self.window.grid_size,
            "image_shape": list(self.window.image_shape),
        }


@keras.saving.register_keras_serializable(package="keras_gen")
class FullRead(keras.layers.Layer):
    """``read(x, x_hat, h_dec) = [x, x_hat]``: the whole image and error image, flattened (eq. 17).

    Reference:
        - Gregor, Danihelka, Graves, Rezende and Wierstra (2015). DRAW: A Recurrent Neural Network
          for Image Generation. ICML 2015.
          https://arxiv.org/abs/1502.04623

    Example::

        import numpy as np
        from keras_gen import layers

        rng = np.random.default_rng(0)
        x, x_hat = rng.random((2, 28, 28, 1), "float32"), rng.random((2, 28, 28, 1), "float32")
        layers.FullRead()([x, x_hat, np.zeros((2, 32), "float32")]).shape   # (2, 1568): both images, flat
    """

    def build(self, input_shape):
        image = input_spec_like(input_shape[0], axes=(1, 2, 3))
        self.input_spec = [image, image, keras.layers.InputSpec(ndim=2)]

    def call(self, inputs):
        x, x_hat, _ = inputs
        size = math.prod(x.shape[1:])
        return ops.concatenate([ops.reshape(x, (-1, size)), ops.reshape(x_hat, (-1, size))], axis=-1)

    def compute_output_shape(self, input_shape):
        image = input_shape[0]
        return (image[0], 2 * image[1] * image[2] * image[3])


@keras.saving.register_keras_serializable(package="keras_gen")
class FullWrite(keras.layers.Layer):
    """``write(h_dec) = W(h_dec)``: a linear map to a canvas update of the whole image (eq. 18).

    Reference:
        - Gregor, Danihelka, Graves, Rezende and Wierstra (2015). DRAW: A Recurrent Neural Network
          for Image Generation. ICML 2015.
          https://arxiv.org/abs/1502.04623

    Example::

        import numpy as np
        from keras_gen import layers

        h_dec = np.random.default_rng(0).normal(size=(2, 32)).astype("float32")
        layers.FullWrite((28, 28, 1))(h_dec).shape           # canvas update (2, 28, 28, 1)
    """

    def __init__(self, image_shape, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = check_image_shape(image_shape)
        height, width, channels = self.image_shape
        self.linear = keras.layers.Dense(height * width * channels, name="write_image")

    def build(self, input_shape):
        share_dtype_policy(self)
        self.linear.build(input_shape)
        self.input_spec = input_spec_like(input_shape)

    def call(self, h_dec):
        return ops.reshape(self.linear(h_dec), (-1,) + self.image_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.image_shape

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape)}
