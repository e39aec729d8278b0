"""The residual block around a PixelRNN layer (van den Oord et al., 2016a, section 3.3, figure 5).

The block takes 2h feature maps, runs an LSTM layer with h units on them and maps
its h hidden states back up to 2h features with a 1×1 convolution (mask B), which
is added to the block's input. The residual connection lets the signal and its
gradient pass the recurrence unchanged, which speeds up training of deep stacks.
"""

import keras

from keras_gen.layers.diagonal_lstm import DiagonalBiLSTM
from keras_gen.layers.masked_conv import MaskedConv2D
from keras_gen.layers.policy import share_dtype_policy
from keras_gen.layers.row_lstm import RowLSTM
from keras_gen.validation import check_bool, check_choice, check_int, input_spec_like

LAYER_TYPES = ("row_lstm", "diagonal_bilstm")


@keras.saving.register_keras_serializable(package="keras_gen")
class ResidualLSTMBlock(keras.layers.Layer):
    """``x + conv1x1(lstm(x))``: (B, H, W, 2·units) → (B, H, W, 2·units).

    Args:
        layer_type: ``"row_lstm"`` (``RowLSTM``) or ``"diagonal_bilstm"`` (``DiagonalBiLSTM``).
        units: hidden units h of the LSTM; the block's input and output have 2h maps.
        kernel_size: width k of the Row LSTM's convolutions; the Diagonal BiLSTM's kernels
            are fixed at 1×1 and 2×1, so it takes only the default 3 (anything else is an error).
        color_channels: 1 (grey) or 3 (R, G, B groups; units divisible by 3).
        condition_channels: channels of an optional conditioning map passed to the LSTM.
        residual: add the input to the output (True, figure 5) or not (the ablation).

    Call as ``block(x)`` or ``block(x, condition=map)``.

    Reference:
        - van den Oord, Kalchbrenner and Kavukcuoglu (2016a). Pixel Recurrent Neural Networks. ICML 2016.
          https://arxiv.org/abs/1601.06759

    Example::

        import numpy as np
        from keras_gen import layers

        x = np.random.default_rng(0).random((2, 6, 5, 8)).astype("float32")   # 2h = 8 maps
        layers.ResidualLSTMBlock("row_lstm", units=4)(x).shape                # (2, 6, 5, 8), x + up(LSTM(x))
    """

    def __init__(
        self, layer_type, units, kernel_size=3, color_channels=1, condition_channels=None, residual=True, **kwargs
    ):
        super().__init__(**kwargs)
        self.layer_type = check_choice("layer_type", layer_type, LAYER_TYPES)
        self.units = check_int("units", units)
        self.kernel_size = check_int("kernel_size", kernel_size)
        if self.layer_type == "diagonal_bilstm" and self.kernel_size != 3:
            raise ValueError(
                "kernel_size is the width of the Row LSTM's convolutions; the Diagonal BiLSTM's kernels are fixed "
                f"(1×1 input-to-state, 2×1 state-to-state), so with layer_type='diagonal_bilstm' kernel_size must "
                f"stay 3 (the default), got {kernel_size!r}."
            )
        self.color_channels = check_int("color_channels", color_channels)
        self.condition_channels = (
            None if condition_channels is None else check_int("condition_channels", condition_channels)
        )
        self.residual = check_bool("residual", residual)
        settings = dict(color_channels=color_channels, condition_channels=condition_channels, name="lstm")
        self.lstm = (
            RowLSTM(units, kernel_size=kernel_size, **settings)
            if layer_type == "row_lstm"
            else DiagonalBiLSTM(units, **settings)
        )
        self.up = MaskedConv2D(2 * self.units, 1, "B", self.color_channels, name="up")

    def build(self, input_shape):
        share_dtype_policy(self)
        if len(input_shape) != 4 or input_shape[-1] != 2 * self.units:
            raise ValueError(
                f"ResidualLSTMBlock with units={self.units} expects feature maps of shape "
                f"(batch, height, width, {2 * self.units}), got {tuple(input_shape)}."
            )
        self.lstm.build(input_shape)
        self.input_spec = input_spec_like(input_shape)
        self.up.build(tuple(input_shape[:3]) + (self.units,))

    def call(self, inputs, condition=None):
        return self.from_hidden(inputs, self.lstm(inputs, condition=condition))

    def from_hidden(self, inputs, hidden):
        """The block's output from its input and the LSTM's hidden states there (a map, or one pixel)."""
        outputs = self.up(hidden)
        return inputs + outputs if self.residual else outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "layer_type": self.layer_type,
            "units": self.units,
            "kernel_size": self.kernel_size,
            "color_channels": self.color_channels,
            "condition_channels": self.condition_channels,
            "residual": self.residual,
        }
