"""Masked convolutions (van den Oord et al., 2016a, section 3.4 and figure 2).

A masked convolution zeroes the kernel weights that would let an output at pixel
(i, j) see inputs at or after (i, j) in raster order. Mask ``"A"`` (first layer)
also hides the current pixel's own colour; mask ``"B"`` (every later layer) lets a
colour see itself. With colour, the feature maps are split into ``color_channels``
contiguous groups (R, G, B): at the centre of the kernel, group g may read the input
groups before it (mask A) or up to and including it (mask B).
"""

import keras
import numpy as np
from keras import ops

from keras_gen.validation import check_choice, check_int, check_kernel_size

MASK_TYPES = ("A", "B")


def color_groups(num_channels, color_channels):
    """The colour group (0 = R, 1 = G, 2 = B) of each of ``num_channels`` feature maps.

    Groups are contiguous blocks: the first third of the maps is R, and so on.
    """
    return np.arange(num_channels) * color_channels // num_channels


def conv_mask(kernel_size, mask_type, in_channels, out_channels, color_channels=1):
    """The 0/1 mask of shape ``(kh, kw, in_channels, out_channels)`` for a kernel.

    Taps in the rows above the centre, and left of the centre in its row, are kept;
    taps right of and below the centre are removed. At the centre tap, input group
    ``g_in`` feeds output group ``g_out`` when ``g_in < g_out`` (mask A) or
    ``g_in <= g_out`` (mask B).
    """
    kh, kw = check_kernel_size(kernel_size)
    check_choice("mask_type", mask_type, MASK_TYPES)
    for name, count in (("input channels", in_channels), ("filters", out_channels)):
        if count % color_channels:
            raise ValueError(
                f"{name} ({count}) must be divisible by color_channels ({color_channels}) so the "
                f"feature maps split into equal colour groups."
            )
    mask = np.zeros((kh, kw, in_channels, out_channels), dtype="float32")
    mask[: kh // 2] = 1.0
    mask[kh // 2, : kw // 2] = 1.0
    mask[kh // 2, kw // 2] = pixel_mask(mask_type, in_channels, out_channels, color_channels)
    return mask


def pixel_mask(mask_type, in_channels, out_channels, color_channels=1, out_halves=1):
    """The 0/1 mask of shape ``(in_channels, out_channels)`` of the current pixel's tap.

    Input group ``g_in`` feeds output group ``g_out`` when ``g_in < g_out`` (mask A)
    or ``g_in <= g_out`` (mask B). With ``out_halves=2`` the outputs are two halves
    (the f and g of a gate, ``tanh(f) ⊙ sigmoid(g)``), each split into the groups
    alike, so that the gate's element-wise product keeps the groups.
    """
    check_choice("mask_type", mask_type, MASK_TYPES)
    g_in = color_groups(in_channels, color_channels)[:, None]
    g_out = np.tile(color_groups(out_channels // out_halves, color_channels), out_halves)[None, :]
    return ((g_in < g_out) if mask_type == "A" else (g_in <= g_out)).astype("float32")


@keras.saving.register_keras_serializable(package="keras_gen")
class MaskedConv2D(keras.layers.Layer):
    """A stride-1, 'same'-padded 2-D convolution whose kernel is multiplied by a causal mask.

    Args:
        filters: number of output feature maps (divisible by ``color_channels``).
        kernel_size: odd int or pair of odd ints; 1×1 keeps only the colour mask.
        mask_type: ``"A"`` (excludes the current colour, first layer) or ``"B"``.
        color_channels: 1 for grey or no colour ordering, 3 for R → G → B.
        activation, use_bias, kernel_initializer, bias_initializer: as in ``Conv2D``.

    Reference:
        - van den Oord, Kalchbrenner and Kavukcuoglu (2016a). Pixel Recurrent Neural Networks. ICML 2016.
          https://arxiv.org/abs/1601.06759

    Example::

        import numpy as np
        from keras_gen import layers

        first = layers.MaskedConv2D(12, 7, mask_type="A", color_channels=3)   # sees only pixels before (i, j)
        later = layers.MaskedConv2D(12, 3, mask_type="B", color_channels=3)   # also its own colour group
        x = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
        later(first(x)).shape                                # (2, 8, 8, 12)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        mask_type="B",
        color_channels=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.kernel_size = check_kernel_size(kernel_size)
        self.mask_type = check_choice("mask_type", mask_type, MASK_TYPES)
        self.color_channels = check_int("color_channels", color_channels)
        self.filters = check_int("filters", filters)
        if self.filters % self.color_channels:
            raise ValueError(
                f"filters must be a positive integer divisible by color_channels ({color_channels}), got {filters!r}."
            )
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        in_channels = input_shape[-1]
        if in_channels is None or len(input_shape) != 4:
            raise ValueError(f"MaskedConv2D expects inputs (batch, height, width, channels), got {input_shape}.")
        self.mask = conv_mask(self.kernel_size, self.mask_type, in_channels, self.filters, self.color_channels)
        self.kernel = self.add_weight(name="kernel", shape=self.mask.shape, initializer=self.kernel_initializer)
        self.bias = (
            self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer)
            if self.use_bias
            else None
        )

    def masked_kernel(self):
        """The kernel the convolution really uses: weights times the mask."""
        return self.kernel * ops.convert_to_tensor(self.mask, dtype=self.kernel.dtype)

    def call(self, inputs, padding="same"):
        """The convolution; ``padding="valid"`` on a kh×kw patch gives the output at its centre alone."""
        outputs = ops.conv(inputs, self.masked_kernel(), strides=1, padding=padding)
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def at_pixel(self, row_inputs, column, rows=None, row=None):
        """The output at one pixel (B, 1, 1, filters), from its inputs only (for cached sampling).

        ``row_inputs`` (B, W + kw - 1, C) is the input on the pixel's row, padded with
        kw // 2 zero columns on both sides; with kh > 1, ``rows`` (B, H + kh // 2, W + kw - 1, C)
        is the input of the rows above, padded alike and with kh // 2 zero rows on top, and
        ``row`` the pixel's row. The rows below are masked; zeros stand in for them.
        """
        kh, kw = self.kernel_size
        batch, channels = ops.shape(row_inputs)[0], row_inputs.shape[-1]
        patch = ops.expand_dims(ops.slice(row_inputs, [0, column, 0], [batch, kw, channels]), 1)
        if kh > 1:
            above = ops.slice(rows, [0, row, column, 0], [batch, kh // 2, kw, channels])
            patch = ops.pad(ops.concatenate([above, patch], axis=1), [[0, 0], [0, kh // 2], [0, 0], [0, 0]])
        return self(patch, padding="valid")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "mask_type": self.mask_type,
            "color_channels": self.color_channels,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@keras.saving.register_keras_serializable(package="keras_gen")
class PixelMaskedConv2D(keras.layers.Conv2D):
    """A ``Conv2D`` whose last tap (bottom right of the kernel) is the current pixel, colour-masked.

    For stacks that pad their inputs themselves so that a 'valid' convolution ends at
    the current pixel, such as the horizontal stack of the gated PixelCNN (van den
    Oord et al., 2016b): the other taps read earlier pixels and stay whole; at the
    last one, input group ``g_in`` feeds output group ``g_out`` by mask A (``g_in <
    g_out``) or B (``g_in <= g_out``), see :func:`pixel_mask`. The mask is a constant
    multiplied into the kernel; with one colour group and mask B it keeps every tap,
    and the layer is a plain ``Conv2D`` (same weights, same outputs).

    Args:
        filters, kernel_size: as in ``Conv2D`` (stride 1; ``padding`` and the rest as keywords).
        mask_type: ``"A"`` or ``"B"``.
        color_channels: 1, or C colour groups (R → G → B) of the input and output maps.
        out_halves: 2 when the outputs are the two halves f, g of a gate, grouped alike.

    Reference:
        - van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves and Kavukcuoglu (2016b). Conditional
          Image Generation with PixelCNN Decoders. NeurIPS 2016.
          https://arxiv.org/abs/1606.05328

    Example::

        import numpy as np
        from keras_gen.layers.masked_conv import PixelMaskedConv2D

        conv = PixelMaskedConv2D(12, (1, 2), mask_type="A", color_channels=3)  # the pixel to the left, and R → G → B
        x = np.random.default_rng(0).random((2, 4, 5, 3)).astype("float32")
        conv(np.pad(x, [(0, 0), (0, 0), (1, 0), (0, 0)])).shape  # (2, 4, 5, 12)
    """

    def __init__(self, filters, kernel_size, mask_type="B", color_channels=1, out_halves=1, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        self.mask_type = check_choice("mask_type", mask_type, MASK_TYPES)
        self.color_channels = check_int("color_channels", color_channels)
        self.out_halves = check_int("out_halves", out_halves)
        if filters % (self.color_channels * self.out_halves):
            raise ValueError(
                f"filters ({filters}) must split into {self.out_halves} half(s) of {self.color_channels} equal "
                f"colour groups, so be divisible by {self.color_channels * self.out_halves}."
            )
        self.mask = None

    def build(self, input_shape):
        in_channels = input_shape[-1]
        if in_channels is None or in_channels % self.color_channels:
            raise ValueError(
                f"the input channels ({in_channels}) must be divisible by color_channels "
                f"({self.color_channels}) so the feature maps split into equal colour groups."
            )
        super().build(input_shape)
        mask = np.ones(tuple(self.kernel.shape), dtype="float32")
        mask[-1, -1] = pixel_mask(self.mask_type, in_channels, self.filters, self.color_channels, self.out_halves)
        self.mask = None if mask.all() else mask

    def convolution_op(self, inputs, kernel):
        if self.mask is not None:
            kernel = kernel * ops.convert_to_tensor(self.mask, dtype=kernel.dtype)
        return super().convolution_op(inputs, kernel)

    def get_config(self):
        return {
            **super().get_config(),
            "mask_type": self.mask_type,
            "color_channels": self.color_channels,
            "out_halves": self.out_halves,
        }
