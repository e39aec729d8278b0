"""Shifted convolutions: causal convolutions without masks (Salimans et al., 2017, section 2.3-2.4).

PixelCNN++ keeps two feature streams. The *down* stream at row i sees only rows
above i: a ``kh × kw`` kernel padded with ``kh - 1`` zero rows on top and centred
horizontally covers rows i - kh + 1 .. i, and the stream starts from the image
shifted down by one row (:func:`keras_gen.ops.down_shift`). The *down-right* stream at (i, j)
sees rows above and the pixels to the left in row i: the kernel is padded on top
and on the left, so it covers only positions up and to the left of (i, j), and the
stream starts from the image shifted right by one pixel (:func:`keras_gen.ops.right_shift`).
Because no kernel weight is masked, every weight is used and no blind spot opens.

Strided versions halve the resolution; the transposed versions double it back,
cropped so that fine position (i, j) reads only coarse positions that summarise
pixels at or above (and, for the down-right stream, at or left of) it. ``DownShift``
moves maps one row down, as a layer, so that a network's ``conv`` hook
(:mod:`keras_gen.layers.apply`) treats it like the convolutions.
"""

import keras
from keras import ops

from keras_gen.layers.policy import share_dtype_policy
from keras_gen.ops.shift import down_shift
from keras_gen.validation import check_choice, check_int, check_int_pair, input_spec_like

SHIFTS = ("down", "down_right")


class _ShiftedConvBase(keras.layers.Layer):
    """Arguments and configuration shared by the shifted convolution and its transpose."""

    def __init__(self, filters, kernel_size, shift, strides, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.shift = check_choice("shift", shift, SHIFTS)
        self.kernel_size = check_int_pair("kernel_size", kernel_size)
        if shift == "down" and self.kernel_size[1] % 2 == 0:
            raise ValueError(
                f"a down-shifted kernel is centred horizontally, so its width must be odd; got {self.kernel_size}."
            )
        self.strides = check_int("strides", strides)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "shift": self.shift,
            "strides": self.strides,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


@keras.saving.register_keras_serializable(package="keras_gen")
class ShiftedConv2D(_ShiftedConvBase):
    """A convolution whose output at (i, j) sees only rows <= i and, for ``shift="down_right"``,
    columns <= j; for ``shift="down"`` columns within half the kernel width of j.

    Args:
        filters: output feature maps.
        kernel_size: (height, width); (2, 3) for the down stream and (2, 2) for the
            down-right stream, as in the paper.
        shift: ``"down"`` or ``"down_right"``.
        strides: 2 halves height and width (``ceil(H / 2)``).

    Reference:
        - Salimans, Karpathy, Chen and Kingma (2017). PixelCNN++: Improving the PixelCNN with Discretized
          Logistic Mixture Likelihood and Other Modifications. ICLR 2017.
          https://arxiv.org/abs/1701.05517

    Example::

        import numpy as np
        from keras_gen import layers

        x = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
        layers.ShiftedConv2D(16, (2, 3), "down")(x).shape    # (2, 8, 8, 16): rows at or above i
        layers.ShiftedConv2D(16, (2, 2), "down_right", strides=2)(x).shape   # (2, 4, 4, 16)
    """

    def __init__(self, filters, kernel_size=(2, 3), shift="down", strides=1, **kwargs):
        super().__init__(filters, kernel_size, shift, strides, **kwargs)
        self.conv = keras.layers.Conv2D(
            self.filters,
            self.kernel_size,
            strides=self.strides,
            kernel_initializer=self.kernel_initializer,
            name="conv",
        )

    def _pad(self, x):
        height, width = self.kernel_size
        left = (width - 1) // 2 if self.shift == "down" else width - 1
        return ops.pad(x, [[0, 0], [height - 1, 0], [left, width - 1 - left], [0, 0]])

    def build(self, input_shape):
        share_dtype_policy(self)
        height, width = self.kernel_size
        padded = list(input_shape)
        padded[1] = None if padded[1] is None else padded[1] + height - 1
        padded[2] = None if padded[2] is None else padded[2] + width - 1
        self.conv.build(tuple(padded))
        self.input_spec = input_spec_like(input_shape)

    def call(self, inputs):
        return self.conv(self._pad(inputs))

    def compute_output_shape(self, input_shape):
        batch, *spatial, _ = input_shape
        spatial = [None if n is None else -(-n // self.strides) for n in spatial]  # ceil(n / strides)
        return (batch, *spatial, self.filters)


@keras.saving.register_keras_serializable(package="keras_gen")
class ShiftedConv2DTranspose(_ShiftedConvBase):
    """The transposed shifted convolution: (B, H, W, C) → (B, sH, sW, filters).

    Coarse position (I, J) writes to fine rows sI .. sI + kh - 1 and, for the
    down-right stream, columns sJ .. sJ + kw - 1 (centred on sJ for the down stream);
    the crop keeps the first sH rows and the matching sW columns, so a fine position
    reads only coarse positions at or above (and left of) it.

    Reference:
        - Salimans, Karpathy, Chen and Kingma (2017). PixelCNN++: Improving the PixelCNN with Discretized
          Logistic Mixture Likelihood and Other Modifications. ICLR 2017.
          https://arxiv.org/abs/1701.05517

    Example::

        import numpy as np
        from keras_gen import layers

        x = np.random.default_rng(0).random((2, 4, 4, 16)).astype("float32")
        layers.ShiftedConv2DTranspose(16, (2, 3), "down")(x).shape   # (2, 8, 8, 16), doubled
    """

    def __init__(self, filters, kernel_size=(2, 3), shift="down", strides=2, **kwargs):
        super().__init__(filters, kernel_size, shift, strides, **kwargs)
        self.deconv = keras.layers.Conv2DTranspose(
            self.filters,
            self.kernel_size,
            strides=self.strides,
            kernel_initializer=self.kernel_initializer,
            name="deconv",
        )

    def build(self, input_shape):
        share_dtype_policy(self)
        self.deconv.build(input_shape)
        self.input_spec = input_spec_like(input_shape)

    def call(self, inputs):
        height, width = inputs.shape[1], inputs.shape[2]
        left = (self.kernel_size[1] - 1) // 2 if self.shift == "down" else 0
        out = self.deconv(inputs)
        return out[:, : height * self.strides, left : left + width * self.strides]

    def compute_output_shape(self, input_shape):
        batch, *spatial, _ = input_shape
        spatial = [None if n is None else n * self.strides for n in spatial]
        return (batch, *spatial, self.filters)


@keras.saving.register_keras_serializable(package="keras_gen")
class DownShift(keras.layers.Layer):
    """Maps moved one row down (:func:`keras_gen.ops.down_shift`): row i holds row i - 1, row 0 zeros.

    PixelCNN++ starts its down stream this way. As a layer it goes through the network's
    ``conv`` hook like the shifted convolutions, so the cached sampler can keep its input
    of the row above (:class:`keras_gen.layers.shifted_rows.ShiftedRows`).

    Reference:
        - Salimans, Karpathy, Chen and Kingma (2017). PixelCNN++: Improving the PixelCNN with Discretized
          Logistic Mixture Likelihood and Other Modifications. ICLR 2017.
          https://arxiv.org/abs/1701.05517

    Example::

        import numpy as np
        from keras_gen import layers

        x = np.arange(6, dtype="float32").reshape(1, 3, 2, 1)
        layers.DownShift()(x)[0, :, :, 0]                    # [[0, 0], [0, 1], [2, 3]]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def call(self, inputs):
        return down_shift(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
