"""What the Row LSTM and the Diagonal LSTM share (van den Oord et al., 2016a, section 3).

Both are LSTMs that sweep over an image one line at a time (a row, or a diagonal)
and update the whole line at once. Their gates come from two convolutions (eq. 3):

    [o, f, i, g] = σ(K^ss ⊛ h_prev + K^is ⊛ x),
    c = f ⊙ c_prev + i ⊙ g,        h = o ⊙ tanh(c),

with σ the logistic sigmoid for the output, forget and input gates o, f, i and tanh
for the content gate g. The input-to-state convolution K^is is masked (mask B) and
computed for the whole map before the sweep; the state-to-state convolution K^ss
only sees the previous line, which lies wholly in the past, so it is unmasked.

With colour (``color_channels=3``) the units are split into R, G and B groups like
the feature maps of ``MaskedConv2D``; every unit takes its four gates from its own
group, so the elementwise updates never mix the groups within a pixel.
"""

import keras
from keras import ops

from keras_gen.layers.masked_conv import MaskedConv2D
from keras_gen.layers.policy import share_dtype_policy
from keras_gen.validation import check_int, input_spec_like

GATES = 4  # o, f, i, g


def lstm_update(pre_activations, c_prev, color_channels):
    """One LSTM update (eq. 3): pre-activations ``(..., 4h)`` and cells ``(..., h)`` → ``(h, c)``, each ``(..., h)``.

    The 4h pre-activations are laid out as [colour group][gate o, f, i, g][unit]; with one
    group the three sigmoid gates are one slice, computed by one op.
    """
    units = c_prev.shape[-1]
    if color_channels == 1:
        sigmoid_gates = ops.sigmoid(pre_activations[..., : (GATES - 1) * units])
        o, f, i = (sigmoid_gates[..., k * units : (k + 1) * units] for k in range(GATES - 1))
        c = f * c_prev + i * ops.tanh(pre_activations[..., (GATES - 1) * units :])
        return o * ops.tanh(c), c
    per_group = units // color_channels
    leading = tuple(ops.shape(c_prev)[:-1])
    gates = ops.reshape(pre_activations, leading + (color_channels, GATES, per_group))
    sigmoid_gates = ops.sigmoid(gates[..., : GATES - 1, :])
    o, f, i = sigmoid_gates[..., 0, :], sigmoid_gates[..., 1, :], sigmoid_gates[..., 2, :]
    c = f * ops.reshape(c_prev, leading + (color_channels, per_group)) + i * ops.tanh(gates[..., GATES - 1, :])
    h = o * ops.tanh(c)
    return ops.reshape(h, leading + (units,)), ops.reshape(c, leading + (units,))


def line_convolution(h, kernel, first_offset):
    """A 1-D convolution along axis 1 of ``h`` (B, N, h) with the (taps, h, 4h) ``kernel``.

    ``out[:, n] = sum_t h[:, n + first_offset + t] @ kernel[t]``, with zeros outside the
    line. Computed as one matrix product of the shifted copies of ``h``, which is much
    faster inside a loop than a convolution op on such small maps.
    """
    taps, length = kernel.shape[0], h.shape[1]
    before, after = max(0, -first_offset), max(0, first_offset + taps - 1)
    padded = ops.pad(h, ((0, 0), (before, after), (0, 0)))
    start = before + first_offset
    shifted = [padded[:, start + t : start + t + length] for t in range(taps)]
    return ops.matmul(ops.concatenate(shifted, axis=-1), ops.reshape(kernel, (-1, kernel.shape[-1])))


class LSTMMapLayer(keras.layers.Layer):
    """A layer from (B, H, W, C) to the (B, H, W, ``units``) hidden states of LSTMs that sweep the image."""

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:3]) + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "color_channels": self.color_channels,
            "condition_channels": self.condition_channels,
        }


class SpatialLSTM(LSTMMapLayer):
    """Base of the Row and Diagonal LSTMs: the masked input-to-state map and the gates.

    Args:
        units: number h of hidden units (a multiple of 3 with colour).
        input_kernel_size: (height, width) of the masked input-to-state convolution.
        color_channels: 1 (grey) or 3 (R, G, B groups, see the module docstring).
        condition_channels: channels of an optional conditioning map (B, H, W, c)
            that a 1×1 unmasked convolution adds to the input-to-state map (the
            biasing of the multi-scale PixelRNN, section 3.4 of the paper).

    Subclasses implement ``sweep(input_to_state)``: the recurrence over lines, from
    the (B, H, W, 4h) input-to-state map to the (B, H, W, h) hidden states.
    """

    def __init__(self, units, input_kernel_size, color_channels=1, condition_channels=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.color_channels = check_int("color_channels", color_channels)
        self.condition_channels = (
            None if condition_channels is None else check_int("condition_channels", condition_channels)
        )
        if self.color_channels not in (1, 3):
            raise ValueError(f"color_channels must be 1 or 3, got {color_channels!r}.")
        if self.units % self.color_channels:
            raise ValueError(
                f"with color_channels=3 the units are split into R, G and B groups, so units must be "
                f"divisible by 3; got units={self.units}."
            )
        self.input_to_state = MaskedConv2D(
            GATES * self.units,
            input_kernel_size,
            mask_type="B",
            color_channels=self.color_channels,
            name="input_to_state",
        )
        self.condition_to_state = (
            None
            if self.condition_channels is None
            else keras.layers.Conv2D(GATES * self.units, 1, use_bias=False, name="condition_to_state")
        )

    def build(self, input_shape):
        share_dtype_policy(self)
        if len(input_shape) != 4 or None in tuple(input_shape[1:]):
            raise ValueError(
                f"{type(self).__name__} expects feature maps of shape (batch, height, width, channels) "
                f"with known height, width and channels, got shape {tuple(input_shape)}."
            )
        self.input_to_state.build(input_shape)
        self.input_spec = input_spec_like(input_shape)
        if self.condition_to_state is not None:
            self.condition_to_state.build(tuple(input_shape[:3]) + (self.condition_channels,))

    def call(self, inputs, condition=None):
        self.check_condition(condition)
        return self.sweep(self.gate_inputs(inputs, condition))

    def check_condition(self, condition):
        """A clear error unless a condition map is given exactly when the layer was built for one."""
        if (condition is None) != (self.condition_to_state is None):
            raise ValueError(
                f"{self.name} was built with condition_channels={self.condition_channels}; pass a condition "
                f"map of shape (batch, height, width, {self.condition_channels}) exactly when it is set."
            )

    def gate_inputs(self, inputs, condition=None):
        """The input-to-state map ``K^is ⊛ x`` of eq. 3 (B, H, W, 4h), plus the condition's term if given."""
        input_to_state = self.input_to_state(inputs)
        if condition is not None:
            input_to_state = input_to_state + self.condition_to_state(condition)
        return input_to_state
