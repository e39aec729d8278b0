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

from keras_gen.validation import check_choice, check_int, check_kernel_size, input_spec_like

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
    centre = pixel_mask(mask_type, in_channels, out_channels, color_channels)
    mask = np.zeros((kh, kw, in_channels, out_channels), dtype="float32")
    mask[: kh // 2] = 1.0
    mask[kh // 2, : kw // 2] = 1.0
    mask[kh // 2, kw // 2] = centre
    return mask


def pixel_mask(mask_type, in_channels, out_channels, color_channels=1, out_halves=1):
    """The 0/1 mask of shape ``(in_channels, out_channels)`` of the current pixel's tap.

    Input group ``g_in`` feeds output group ``g_out`` when ``g_in < g_out`` (mask A)
    or ``g_in <= g_out`` (mask B). With ``out_halves=2`` the outputs are two halves
    (the f and g of a gate, ``tanh(f) ⊙ sigmoid(g)``), each split into the groups
    alike, so that the gate's element-wise product keeps the groups.
    """
    check_choice("mask_type", mask_type, MASK_TYPES)
    check_color_groups("input channels", in_channels, color_channels)
    check_color_groups("filters", out_channels, color_channels, out_halves)
    g_in = color_groups(in_channels, color_channels)[:, None]
    g_out = np.tile(color_groups(out_channels // out_halves, color_channels), out_halves)[None, :]
    return ((g_in < g_out) if mask_type == "A" else (g_in <= g_out)).astype("float32")


def check_color_groups(name, count, color_channels, halves=1):
    """Raise unless ``count`` feature maps split into ``halves`` halves of ``color_channels`` equal groups."""
    if count % (color_channels * halves):
        split = f"{halves} halves of {color_channels}" if halves > 1 else f"{color_channels}"
        raise ValueError(
            f"{name} ({count}) must be divisible by color_channels ({color_channels})"
            + (f" times out_halves ({halves})" if halves > 1 else "")
            + f" so the feature maps split into {split} equal colour groups."
        )


class KernelMaskedConv2D(keras.layers.Conv2D):
    """A ``Conv2D`` whose kernel is multiplied by a constant 0/1 mask, ``self.mask``, at every call.

    The base of :class:`MaskedConv2D` and :class:`PixelMaskedConv2D`, which say where the
    mask goes (``kernel_mask``). Weights, arguments and the rest are ``Conv2D``'s; the input
    must be a (batch, height, width, channels) map with the channels it was built for.
    """

    def __init__(self, filters, kernel_size, mask_type="B", color_channels=1, **kwargs):
        super().__init__(check_int("filters", filters), kernel_size, **kwargs)
        self.mask_type = check_choice("mask_type", mask_type, MASK_TYPES)
        self.color_channels = check_int("color_channels", color_channels)
        self.mask = None

    def kernel_mask(self, in_channels):
        """The 0/1 mask of shape ``(kh, kw, in_channels, filters)`` (raises if the channels do not fit)."""
        raise NotImplementedError

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} expects inputs (batch, height, width, channels) with known channels, "
                f"got {tuple(input_shape)}."
            )
        mask = self.kernel_mask(input_shape[-1])
        super().build(input_shape)
        self.input_spec = input_spec_like(input_shape)
        self.mask = mask

    def masked_kernel(self, kernel=None):
        """The kernel the convolution really uses: the weights (or ``kernel``) times the mask."""
        kernel = self.kernel if kernel is None else kernel
        return kernel * ops.convert_to_tensor(self.mask, dtype=kernel.dtype)

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, self.masked_kernel(kernel))

    def get_config(self):
        return {**super().get_config(), "mask_type": self.mask_type, "color_channels": self.color_channels}


@keras.saving.register_keras_serializable(package="keras_gen")
class MaskedConv2D(KernelMaskedConv2D):
    """A stride-1, 'same'-padded ``Conv2D`` whose kernel is multiplied by a causal mask (:func:`conv_mask`).

    Args:
        filters: number of output feature maps (divisible by ``color_channels``).
        kernel_size: odd int or pair of odd ints; 1×1 keeps only the colour mask.
        mask_type: ``"A"`` (excludes the current colour, first layer) or ``"B"``.
        color_channels: 1 for grey or no colour ordering, 3 for R → G → B.
        **kwargs: the other arguments of ``Conv2D`` (``activation``, ``use_bias``,
            initializers, regularizers, constraints); strides, dilation and groups stay 1.

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

    def __init__(self, filters, kernel_size, mask_type="B", color_channels=1, **kwargs):
        kwargs.setdefault("padding", "same")
        super().__init__(filters, check_kernel_size(kernel_size), mask_type, color_channels, **kwargs)
        fixed = {"padding": "same", "strides": (1, 1), "dilation_rate": (1, 1), "groups": 1}
        for name, value in fixed.items():
            if getattr(self, name) != value:
                raise ValueError(
                    f"MaskedConv2D is a stride-1, 'same'-padded convolution: {name} must be {value!r}, "
                    f"got {kwargs[name]!r}."
                )
        if self.data_format != "channels_last":
            raise ValueError(f"MaskedConv2D takes channels-last maps, got data_format={self.data_format!r}.")
        check_color_groups("filters", self.filters, self.color_channels)

    def kernel_mask(self, in_channels):
        return conv_mask(self.kernel_size, self.mask_type, in_channels, self.filters, self.color_channels)

    def call(self, inputs, padding="same"):
        """``Conv2D.call``; ``padding="valid"`` on a kh×kw patch gives the output at its centre alone (``at_pixel``)."""
        if padding == "same":
            return super().call(inputs)
        outputs = ops.conv(inputs, self.masked_kernel(), padding=padding)
        return self.activation(outputs + self.bias if self.use_bias else outputs)

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


@keras.saving.register_keras_serializable(package="keras_gen")
class PixelMaskedConv2D(KernelMaskedConv2D):
    """A ``Conv2D`` whose last tap (bottom right of the kernel) is the current pixel, colour-masked.

    For stacks that pad their inputs themselves so that a 'valid' convolution ends at
    the current pixel, such as the horizontal stack of the gated PixelCNN (van den
    Oord et al., 2016b): the other taps read earlier pixels and stay whole; at the
    last one, input group ``g_in`` feeds output group ``g_out`` by mask A (``g_in <
    g_out``) or B (``g_in <= g_out``), see :func:`pixel_mask`. With one colour group
    and mask B the mask keeps every tap, and the layer computes a plain ``Conv2D``.

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
        super().__init__(filters, kernel_size, mask_type, color_channels, **kwargs)
        self.out_halves = check_int("out_halves", out_halves)
        check_color_groups("filters", self.filters, self.color_channels, self.out_halves)

    def kernel_mask(self, in_channels):
        mask = np.ones(self.kernel_size + (in_channels, self.filters), dtype="float32")
        mask[-1, -1] = pixel_mask(self.mask_type, in_channels, self.filters, self.color_channels, self.out_halves)
        return mask

    def get_config(self):
        return {**super().get_config(), "out_halves": self.out_halves}
