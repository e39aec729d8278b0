"""The gated ResNet block of PixelCNN++ (Salimans et al., 2017, section 2.4-2.5 and figure 2).

With ``f`` = concat-ELU and shifted convolutions ``W1``, ``W2`` of one stream:

    c = f(W1 * f(x) + V f(a))        (a: an optional auxiliary input, V a 1×1 layer)
    [g_a, g_b] = W2 * dropout(c)     (2 × filters maps, split in two)
    out = x + g_a ⊙ sigmoid(g_b)

The auxiliary input carries the down stream into the down-right stream and the
short-cuts from the first pass into the second. All parts are either 1×1 or
shifted convolutions of the block's own stream, so the block is as causal as they are.
"""

import keras
from keras import ops

from keras_gen.layers.apply import apply_layer
from keras_gen.layers.policy import share_dtype_policy
from keras_gen.layers.shifted_conv import ShiftedConv2D
from keras_gen.validation import check_float, check_int, input_spec_like

DEFAULT_KERNELS = {"down": (2, 3), "down_right": (2, 2)}


def concat_elu(x):
    """``elu([x, -x])`` along the channels: an ELU that keeps both signs, doubling the maps."""
    return ops.elu(ops.concatenate([x, -x], axis=-1))


@keras.saving.register_keras_serializable(package="keras_gen")
class GatedResNetBlock(keras.layers.Layer):
    """One gated residual block of a shifted-convolution stream; keeps the input's shape.

    Args:
        filters: feature maps of the stream (the input must have this many).
        shift: ``"down"`` or ``"down_right"``, the stream's shifted convolution.
        kernel_size: its kernel; (2, 3) for down and (2, 2) for down-right by default.
        dropout: rate of the dropout before the second convolution (0.5 in the paper).
        seed: seed of the dropout.

    Call on ``x`` or on ``[x, a]`` with an auxiliary map ``a`` of the same height and width;
    ``conv(layer, inputs)`` applies the two shifted convolutions (:mod:`keras_gen.layers.apply`).

    Reference:
        - Salimans, Karpathy, Chen and Kingma (2017). PixelCNN++: Improving the PixelCNN with Discretized
          Logistic Mixture Likelihood and Other Modifications. ICLR 2017.
          https://arxiv.org/abs/1701.05517

    Example::

        import numpy as np
        from keras_gen import layers

        x = np.random.default_rng(0).random((2, 8, 8, 16)).astype("float32")
        a = np.random.default_rng(1).random((2, 8, 8, 16)).astype("float32")   # a short-cut from the first pass
        block = layers.GatedResNetBlock(16, "down_right", dropout=0.5, seed=0)
        block([x, a]).shape                                  # (2, 8, 8, 16); dropout only with training=True
    """

    def __init__(self, filters, shift="down", kernel_size=None, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        kernel_size = DEFAULT_KERNELS.get(shift, (2, 3)) if kernel_size is None else kernel_size
        self.conv_in = ShiftedConv2D(self.filters, kernel_size, shift, name="conv_in")
        # a small start for the residual branch, like the paper's init scale of 0.1
        small = keras.initializers.VarianceScaling(0.1, mode="fan_avg", distribution="uniform")
        self.conv_out = ShiftedConv2D(2 * self.filters, kernel_size, shift, kernel_initializer=small, name="conv_out")
        self.shift, self.kernel_size = self.conv_in.shift, self.conv_in.kernel_size
        self.dropout, self.seed = check_float("dropout", dropout, minimum=0.0), seed
        if self.dropout >= 1.0:
            raise ValueError(f"dropout must be a rate in [0, 1), got {dropout!r}.")
        self.drop = keras.layers.Dropout(self.dropout, seed=seed, name="dropout")
        self.auxiliary = None

    def build(self, input_shape):
        share_dtype_policy(self)
        has_auxiliary = isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple))
        x_shape = tuple(input_shape[0]) if has_auxiliary else tuple(input_shape)
        if x_shape[-1] != self.filters:
            raise ValueError(f"GatedResNetBlock expects {self.filters} input maps, got shape {x_shape}.")
        doubled = x_shape[:-1] + (2 * self.filters,)
        self.conv_in.build(doubled)
        self.conv_out.build(doubled)
        if has_auxiliary:
            self.auxiliary = keras.layers.Dense(self.filters, dtype=self.dtype_policy, name="auxiliary")
            self.auxiliary.build(tuple(input_shape[1][:-1]) + (2 * input_shape[1][-1],))
        spec = input_spec_like(x_shape)
        self.input_spec = [spec, input_spec_like(input_shape[1])] if has_auxiliary else spec

    def call(self, inputs, training=False, conv=apply_layer):
        x, a = inputs if isinstance(inputs, (list, tuple)) else (inputs, None)
        hidden = conv(self.conv_in, concat_elu(x))
        if a is not None:
            hidden = hidden + self.auxiliary(concat_elu(a))
        gates = conv(self.conv_out, self.drop(concat_elu(hidden), training=training))
        return x + gates[..., : self.filters] * ops.sigmoid(gates[..., self.filters :])

    def compute_output_shape(self, input_shape):
        is_pair = isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple))
        return tuple(input_shape[0]) if is_pair else tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "shift": self.shift,
            "kernel_size": self.kernel_size,
            "dropout": self.dropout,
            "seed": self.seed,
        }
