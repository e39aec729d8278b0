"""The Row LSTM (van den Oord et al., 2016a, section 3.1, eq. 3).

The image is processed row by row from top to bottom, a whole row per step. The
input-to-state part is a k×1 convolution along the row (masked, mask B) computed for
all rows before the loop; the state-to-state part is a k×1 convolution of the
previous row's hidden state. Hidden state (i, j) thus sees the states (i-1, j-1..j+1)
of the row above, and by recursion a triangle of the rows above it, which widens by
(k - 1) / 2 pixels per row: the far ends of the rows just above stay out of reach.
"""

import keras
from keras import ops

from keras_gen.layers.policy import share_dtype_policy
from keras_gen.layers.spatial_lstm import GATES, SpatialLSTM, line_convolution, lstm_update
from keras_gen.ops.remat import recompute_in_backward
from keras_gen.validation import check_int


@keras.saving.register_keras_serializable(package="keras_gen")
class RowLSTM(SpatialLSTM):
    """Row LSTM layer: (B, H, W, C) features → (B, H, W, units) hidden states.

    Args:
        units: number h of hidden units (divisible by 3 with colour).
        kernel_size: odd width k ≥ 3 of both row convolutions.
        color_channels: 1 (grey) or 3 (R, G, B unit groups, as in ``MaskedConv2D``).
        condition_channels: channels of an optional conditioning map added to the
            input-to-state map through a 1×1 convolution (multi-scale PixelRNN).

    The loop over rows is one ``keras.ops.scan``, so it compiles into a single graph
    on every backend. Call as ``layer(x)`` or ``layer(x, condition=map)``.

    Initialisation (not Keras's ``LSTM`` defaults; the shipped checkpoints were trained
    from it): both convolutions glorot-uniform, the state-to-state one included (Keras
    uses an orthogonal recurrent kernel), and every gate bias zero, the forget gate's
    too (no ``unit_forget_bias``), so every gate starts near sigmoid(0) = 1/2.

    Reference:
        - van den Oord, Kalchbrenner and Kavukcuoglu (2016a). Pixel Recurrent Neural Networks. ICML 2016.
          https://arxiv.org/abs/1601.06759

    Example::

        import numpy as np
        from keras_gen import layers

        x = np.random.default_rng(0).random((2, 6, 5, 8)).astype("float32")
        layers.RowLSTM(4, kernel_size=3)(x).shape            # hidden states (2, 6, 5, 4), row by row
    """

    def __init__(self, units, kernel_size=3, color_channels=1, condition_channels=None, **kwargs):
        kernel_size = check_int("kernel_size", kernel_size, minimum=3, odd=True)
        super().__init__(units, (1, kernel_size), color_channels, condition_channels, **kwargs)
        self.kernel_size = kernel_size

    def build(self, input_shape):
        share_dtype_policy(self)
        super().build(input_shape)
        self.state_to_state = self.add_weight(
            name="state_to_state",
            shape=(self.kernel_size, self.units, GATES * self.units),
            initializer="glorot_uniform",
        )

    def sweep(self, input_to_state):
        """Run the recurrence down the rows of the (B, H, W, 4h) input-to-state map."""
        return self.states(input_to_state, with_cells=False)

    def states(self, input_to_state, with_cells=True):
        """The hidden and cell states ``(h, c)`` of every row, each (B, H, W, h) (``with_cells=False``: h alone)."""
        rows = ops.transpose(input_to_state, (1, 0, 2, 3))  # (H, B, W, 4h): a loop over rows

        def step(state, row):
            h_prev, c_prev = state
            h, c = self.update(row, self.from_row_above(h_prev), c_prev)
            return (h, c), (h, c)  # Keras's TensorFlow scan needs outputs shaped like the carry

        zeros = ops.zeros_like(rows[0, :, :, : self.units])
        _, states = ops.scan(recompute_in_backward(step), (zeros, zeros), rows)
        if with_cells:
            return tuple(ops.transpose(maps, (1, 0, 2, 3)) for maps in states)
        return ops.transpose(states[0], (1, 0, 2, 3))

    def from_row_above(self, h_prev):
        """The state-to-state term ``K^ss ⊛ h_{i-1}`` of eq. 3 on a row: (B, W, h) → (B, W, 4h)."""
        return line_convolution(h_prev, self.state_to_state, -(self.kernel_size // 2))

    def update(self, input_to_state, from_above, c_prev):
        """Eq. 3 on a row, or on the pixels of one: ``(h, c)`` from ``K^is ⊛ x``, ``K^ss ⊛ h_{i-1}`` and ``c_{i-1}``."""
        return lstm_update(input_to_state + from_above, c_prev, self.color_channels)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}
