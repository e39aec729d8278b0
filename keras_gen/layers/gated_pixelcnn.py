"""The gated PixelCNN block: a vertical and a horizontal stack (van den Oord et al., 2016b).

A masked 3×3 convolution stacked on itself never sees the pixels up and to the right
of its reach (the "blind spot"). The block splits the receptive field in two:

* the **vertical stack** sees every pixel in the rows at and above the current one,
  within reach; its features enter the horizontal stack only after a shift down by
  one row, so the horizontal stack gets the rows strictly above;
* the **horizontal stack** sees the current row to the left of the pixel (and the
  pixel itself after the first block, whose input is already causal).

With colour (R → G → B, as in section 2 of the paper), the horizontal stack's maps
are split into C groups, and its taps on the current pixel carry the PixelCNN's
masks (van den Oord et al., 2016a, section 3.4): group c reads the input groups < c
in the first block (mask A) and ≤ c after it (mask B). The vertical stack needs no
masks: the horizontal stack only takes it from the rows strictly above.

Both stacks use the gated activation of eq. (2) of the paper,
``y = tanh(W_f * x + V_f h) ⊙ sigmoid(W_g * x + V_g h)``, where the optional
condition h (eq. 4; a vector such as a one-hot class label, or a map of the image's
height and width as in eq. 5) is added inside both gates. The horizontal stack ends
with a 1×1 convolution and a residual connection (Figure 2 of the paper).
"""

import keras
from keras import ops

from keras_gen.layers.masked_conv import MASK_TYPES, PixelMaskedConv2D
from keras_gen.layers.policy import share_dtype_policy
from keras_gen.ops.shift import down_shift, right_shift
from keras_gen.validation import check_choice, check_int, check_kernel_size, input_spec_like


def gate(features):
    """``tanh(f) ⊙ sigmoid(g)`` for the two halves f, g of the last axis (eq. 2)."""
    f, g = ops.split(features, 2, axis=-1)
    return ops.tanh(f) * ops.sigmoid(g)


@keras.saving.register_keras_serializable(package="keras_gen")
class GatedPixelCNNBlock(keras.layers.Layer):
    """One gated block; call on ``[vertical, horizontal]`` or ``[vertical, horizontal, condition]``.

    Args:
        filters: number of feature maps p of each stack's output.
        kernel_size: odd width n of the n×n receptive field the block adds: the
            vertical convolution is (n//2 + 1)×n (the current row and n//2 rows above),
            the horizontal one 1×(n//2 + 1) (the pixel and n//2 pixels to its left).
        mask_type: ``"A"`` for the first block, whose inputs are the image itself: the
            horizontal stack excludes the current pixel (grey: shifted right by one
            pixel; colour: group c sees only the channels < c of the current pixel),
            and there is no residual connection. ``"B"`` for every later block.
        color_channels: 1, or C colour groups (R → G → B): the horizontal stack's
            maps are split into C equal consecutive groups (``filters`` divisible by
            C; each half f, g of the gate's 2p maps alike), and its convolutions,
            1×(n//2 + 1) and 1×1, are masked at the current pixel.

    The condition is either a vector per image, shape (B, D), added everywhere
    (``V^T h``, eq. 4), or a map of shape (B, H, W, D), added pixel by pixel
    (``V * s`` with a 1×1 convolution, eq. 5). Returns ``(vertical, horizontal)``,
    both of shape (B, H, W, filters). The horizontal output at (i, j) depends only on
    image pixels before (i, j) in raster order (type A) and on horizontal inputs at or
    before (i, j) (type B), and with colour, group c only on the groups < c (type A)
    or ≤ c (type B) at (i, j) itself; the vertical output depends on rows ≤ i only.

    Reference:
        - van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves and Kavukcuoglu (2016b). Conditional
          Image Generation with PixelCNN Decoders. NeurIPS 2016.
          https://arxiv.org/abs/1606.05328

    Example::

        import numpy as np
        from keras_gen import layers

        x = np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32")
        labels = np.eye(3, dtype="float32")[[0, 2]]          # a one-hot class per image
        vertical, horizontal = layers.GatedPixelCNNBlock(16, 7, "A")([x, x])
        vertical, horizontal = layers.GatedPixelCNNBlock(16, 3, "B")([vertical, horizontal, labels])
        horizontal.shape                                     # (2, 8, 8, 16)

        rgb = np.random.default_rng(1).random((2, 8, 8, 3)).astype("float32")
        vertical, horizontal = layers.GatedPixelCNNBlock(12, 7, "A", color_channels=3)([rgb, rgb])
        vertical, horizontal = layers.GatedPixelCNNBlock(12, 3, "B", color_channels=3)([vertical, horizontal])
        horizontal.shape                                     # (2, 8, 8, 12): R, G, B groups of 4 maps
    """

    def __init__(self, filters, kernel_size=3, mask_type="B", color_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.kernel_size = check_kernel_size(kernel_size, square=True)
        self.mask_type = check_choice("mask_type", mask_type, MASK_TYPES)
        self.color_channels = check_int("color_channels", color_channels)
        if self.filters % self.color_channels:
            raise ValueError(
                f"filters ({filters}) must be divisible by color_channels ({color_channels}) so that the "
                f"horizontal stack's maps split into equal colour groups."
            )
        # mask A on the current pixel's tap hides all of it for one group: grey shifts right instead, so
        # that the 1×(n//2 + 1) kernel reads the n//2 + 1 pixels to the left
        self.horizontal_shift = int(self.mask_type == "A" and self.color_channels == 1)
        tap_mask = "B" if self.horizontal_shift else self.mask_type
        half = self.kernel_size // 2
        self.vertical_conv = keras.layers.Conv2D(2 * self.filters, (half + 1, self.kernel_size), name="vertical_conv")
        self.horizontal_conv = PixelMaskedConv2D(
            2 * self.filters, (1, half + 1), tap_mask, self.color_channels, out_halves=2, name="horizontal_conv"
        )
        self.vertical_to_horizontal = keras.layers.Conv2D(2 * self.filters, 1, name="vertical_to_horizontal")
        self.horizontal_output = PixelMaskedConv2D(self.filters, 1, "B", self.color_channels, name="horizontal_output")
        self.vertical_condition = None
        self.horizontal_condition = None

    def build(self, input_shape):
        share_dtype_policy(self)
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) not in (2, 3)
            or not all(isinstance(s, (list, tuple)) for s in input_shape)
        ):
            raise ValueError(
                "GatedPixelCNNBlock is called on [vertical, horizontal] or [vertical, horizontal, condition], "
                f"got input shapes {input_shape}."
            )
        vertical_shape, horizontal_shape = tuple(input_shape[0]), tuple(input_shape[1])
        for name, shape in (("vertical", vertical_shape), ("horizontal", horizontal_shape)):
            if len(shape) != 4:
                raise ValueError(f"the {name} input must have shape (batch, height, width, channels), got {shape}.")
        if vertical_shape[1:3] != horizontal_shape[1:3]:
            raise ValueError(
                f"the vertical and horizontal inputs must share height and width, got {vertical_shape} "
                f"and {horizontal_shape}."
            )
        if self.mask_type == "B" and horizontal_shape[-1] != self.filters:
            raise ValueError(
                f"a type B block adds its input to its output (residual), so the horizontal input needs "
                f"{self.filters} channels, got {horizontal_shape[-1]}."
            )
        if horizontal_shape[-1] % self.color_channels:
            raise ValueError(
                f"the horizontal input's {horizontal_shape[-1]} channels must split into "
                f"{self.color_channels} equal colour groups."
            )
        batch, height, width = vertical_shape[:3]
        condition_shape = tuple(input_shape[2]) if len(input_shape) == 3 else None
        if condition_shape is not None and (
            len(condition_shape) not in (2, 4)
            or (len(condition_shape) == 4 and condition_shape[1:3] != (height, width))
        ):
            raise ValueError(
                f"the condition must be a vector (batch, features) or a map (batch, {height}, {width}, "
                f"features), got shape {condition_shape}."
            )
        half = self.kernel_size // 2
        self.vertical_conv.build(
            (
                batch,
                None if height is None else height + half,
                None if width is None else width + 2 * half,
                vertical_shape[-1],
            )
        )
        self.horizontal_conv.build((batch, height, None if width is None else width + half, horizontal_shape[-1]))
        self.vertical_to_horizontal.build(vertical_shape[:3] + (2 * self.filters,))
        self.horizontal_output.build(horizontal_shape[:3] + (self.filters,))
        if condition_shape is not None:
            self.vertical_condition = keras.layers.Dense(
                2 * self.filters, use_bias=False, dtype=self.dtype_policy, name="vertical_condition"
            )
            self.horizontal_condition = keras.layers.Dense(
                2 * self.filters, use_bias=False, dtype=self.dtype_policy, name="horizontal_condition"
            )
            self.vertical_condition.build(condition_shape)
            self.horizontal_condition.build(condition_shape)
        self.input_spec = [input_spec_like(vertical_shape), input_spec_like(horizontal_shape)] + (
            [] if condition_shape is None else [input_spec_like(condition_shape)]
        )

    def _condition_term(self, dense, condition):
        term = dense(ops.cast(condition, self.compute_dtype))
        return term if len(term.shape) == 4 else term[:, None, None, :]

    def condition_terms(self, condition):
        """``(V_v h, V_h h)`` added inside the vertical and horizontal gates: (B, 1, 1, 2p) or (B, H, W, 2p) maps."""
        return self._condition_term(self.vertical_condition, condition), self._condition_term(
            self.horizontal_condition, condition
        )

    def vertical_features(self, padded, term=None):
        """The vertical stack before its gate, ``W * x (+ V h)``.

        ``padded`` is its input padded by n//2 above and on both sides.
        """
        features = self.vertical_conv(padded)
        return features if term is None else features + term

    def horizontal_stack(self, padded, term, from_vertical, horizontal):
        """The horizontal stack's output from its input padded by n//2 on the left (shifted for grey type A).

        ``from_vertical`` is the vertical stack's contribution (a 1×1 convolution of its
        features one row up); ``horizontal`` is the unpadded input, for the residual.
        """
        features = self.horizontal_conv(padded)
        if term is not None:
            features = features + term
        outputs = self.horizontal_output(gate(features + from_vertical))
        return outputs + horizontal if self.mask_type == "B" else outputs

    def call(self, inputs):
        vertical, horizontal = inputs[0], inputs[1]
        vertical_term, horizontal_term = self.condition_terms(inputs[2]) if len(inputs) == 3 else (None, None)
        half = self.kernel_size // 2
        # rows i - n//2 .. i and columns j - n//2 .. j + n//2 of the vertical input
        vertical_features = self.vertical_features(
            ops.pad(vertical, [[0, 0], [half, 0], [half, half], [0, 0]]), vertical_term
        )
        # columns j - n//2 .. j of the horizontal input (j - n//2 - 1 .. j - 1 for grey type A), masked at j
        horizontal_in = right_shift(horizontal) if self.horizontal_shift else horizontal
        # the vertical stack reaches the horizontal one only from the rows strictly above
        horizontal_out = self.horizontal_stack(
            ops.pad(horizontal_in, [[0, 0], [0, 0], [half, 0], [0, 0]]),
            horizontal_term,
            self.vertical_to_horizontal(down_shift(vertical_features)),
            horizontal,
        )
        return gate(vertical_features), horizontal_out

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[0][:3]) + (self.filters,)
        return shape, shape

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "mask_type": self.mask_type,
            "color_channels": self.color_channels,
        }
