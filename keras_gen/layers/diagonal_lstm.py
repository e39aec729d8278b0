"""The Diagonal LSTM and the Diagonal BiLSTM (van den Oord et al., 2016a, section 3.2).

The Diagonal LSTM sweeps over the image one diagonal at a time. The input map is
skewed (``keras_gen.ops.skew``: row i moved i positions right), so that each
diagonal becomes a column; the input-to-state part is a 1×1 masked convolution
(mask B), and the state-to-state part a 2×1 convolution down the previous column.
In image coordinates, state (i, j) then reads the states of the pixel above,
(i-1, j), and of the pixel to the left, (i, j-1): by recursion it sees the whole
quadrant above and to the left.

The Diagonal BiLSTM adds a second Diagonal LSTM that sweeps from the top right: it
runs on the left-right mirrored map. Its state (i, j) sees the pixels to the right
of j in row i, which come later in raster order, so its output is shifted down by
one row before it is added to the first: row i then receives the state of row i-1,
which sees only rows above i. Together the two directions see the whole past but one
pixel: the last pixel of the row above, which no feature of that row contains, reaches
(i, j) only through the first layer's mask-A features of row i, from near the right edge.
"""

import keras
from keras import ops

from keras_gen.layers.policy import share_dtype_policy
from keras_gen.layers.spatial_lstm import GATES, LSTMMapLayer, SpatialLSTM, lstm_update
from keras_gen.ops import skew, unskew
from keras_gen.ops.remat import recompute_in_backward
from keras_gen.ops.shift import down_shift
from keras_gen.validation import input_spec_like


def diagonal_sweep(input_to_state, kernels, color_channels, with_cells=False):
    """The states of D Diagonal LSTMs that sweep their maps together, one column of the skewed map per step.

    Args:
        input_to_state: ``(D, B, H, W, 4h)``, the input-to-state map of each LSTM.
        kernels: ``(D, 2, h, 4h)``, each LSTM's 2×1 state-to-state kernel (taps: the row above, the row).
        color_channels: 1 or 3, the unit groups of ``lstm_update``.
        with_cells: also return the cell states.

    Returns the hidden states ``(D, B, H, W, h)`` (and the cell states, of the same shape).
    The D directions share one loop of W + H - 1 steps, each a batched matrix product of
    their states with their kernels, so two directions cost one sweep's loop overhead.
    """
    directions, _, height, width, gates = input_to_state.shape
    units = gates // GATES
    skewed = skew(ops.reshape(input_to_state, (-1, height, width, gates)))
    columns = ops.reshape(skewed, (directions, -1, height, width + height - 1, gates))
    columns = ops.transpose(columns, (3, 0, 1, 2, 4))  # (W + H - 1, D, B, H, 4h)
    kernel = ops.reshape(kernels, (directions, 2 * units, gates))

    def step(state, column):
        h_prev, c_prev = state
        # the 2×1 convolution down the previous column: rows i-1 and i (above and left in the image)
        above = ops.pad(h_prev[:, :, :-1], ((0, 0), (0, 0), (1, 0), (0, 0)))
        neighbours = ops.reshape(ops.concatenate([above, h_prev], axis=-1), (directions, -1, 2 * units))
        pre = column + ops.reshape(ops.matmul(neighbours, kernel), (directions, -1, height, gates))
        h, c = lstm_update(pre, c_prev, color_channels)
        return (h, c), (h, c)  # Keras's TensorFlow scan needs outputs shaped like the carry

    zeros = ops.zeros_like(columns[0, ..., :units])
    _, states = ops.scan(recompute_in_backward(step), (zeros, zeros), columns)
    states = states if with_cells else states[0]

    def unskewed(maps):  # (W + H - 1, D, B, H, h) → (D, B, H, W, h)
        maps = ops.reshape(ops.transpose(maps, (1, 2, 3, 0, 4)), (-1, height, width + height - 1, units))
        return ops.reshape(unskew(maps, width=width), (directions, -1, height, width, units))

    return tuple(unskewed(maps) for maps in states) if with_cells else unskewed(states)


@keras.saving.register_keras_serializable(package="keras_gen")
class DiagonalLSTM(SpatialLSTM):
    """One direction of the Diagonal BiLSTM, sweeping from the top left.

    Args:
        units: number h of hidden units (divisible by 3 with colour).
        color_channels: 1 (grey) or 3 (R, G, B unit groups, as in ``MaskedConv2D``).
        condition_channels: channels of an optional conditioning map added to the
            input-to-state map through a 1×1 convolution (multi-scale PixelRNN).

    (B, H, W, C) → (B, H, W, units). The loop over the W + H - 1 columns of the
    skewed map is one ``keras.ops.scan``.

    Initialisation (not Keras's ``LSTM`` defaults; the shipped checkpoints were trained
    from it): both convolutions glorot-uniform, the 2×1 state-to-state one included
    (Keras uses an orthogonal recurrent kernel), and every gate bias zero, the forget
    gate's too (no ``unit_forget_bias``), so every gate starts near sigmoid(0) = 1/2.

    Reference:
        - van den Oord, Kalchbrenner and Kavukcuoglu (2016a). Pixel Recurrent Neural Networks. ICML 2016.
          https://arxiv.org/abs/1601.06759

    Example::

        import numpy as np
        from keras_gen import layers

        x = np.random.default_rng(0).random((2, 6, 5, 8)).astype("float32")
        layers.DiagonalLSTM(4)(x).shape                      # (2, 6, 5, 4), one diagonal at a time, left to right
    """

    def __init__(self, units, color_channels=1, condition_channels=None, **kwargs):
        super().__init__(units, 1, color_channels, condition_channels, **kwargs)

    def build(self, input_shape):
        share_dtype_policy(self)
        super().build(input_shape)
        self.state_to_state = self.add_weight(
            name="state_to_state",
            shape=(2, self.units, GATES * self.units),
            initializer="glorot_uniform",
        )

    def sweep(self, input_to_state):
        """Run the recurrence along the columns of the skewed (B, H, W + H - 1, 4h) map."""
        return diagonal_sweep(input_to_state[None], self.state_to_state[None], self.color_channels)[0]

    def states(self, input_to_state):
        """The hidden and cell states ``(h, c)`` at every pixel, each (B, H, W, h)."""
        hidden, cells = diagonal_sweep(input_to_state[None], self.state_to_state[None], self.color_channels, True)
        return hidden[0], cells[0]

    def update(self, input_to_state, h_above, h_left, c_left):
        """The states ``(h, c)`` at pixels (i, j), (B, N, h) each, from their input-to-state terms (B, N, 4h),
        the hidden states above, (i-1, j), and the hidden and cell states on the left, (i, j-1): one step of
        ``states``, for the cached sampler."""
        neighbours = ops.concatenate([h_above, h_left], axis=-1)  # the 2×1 convolution's two taps, as in sweep
        pre = input_to_state + ops.matmul(neighbours, ops.reshape(self.state_to_state, (2 * self.units, -1)))
        return lstm_update(pre, c_left, self.color_channels)

    def row_states(self, input_to_state, h_above):
        """The hidden states of one row, (B, W, h), from its input-to-state terms (B, W, 4h) and the hidden
        states of the row above (B, W, h), left to right: what ``states`` computes on that row."""
        zeros = ops.zeros_like(h_above[:, 0])
        gates = input_to_state.shape[-1]

        def step(state, column):
            h_left, c_left = state
            column = column[:, None]
            h, c = self.update(column[..., :gates], column[..., gates:], h_left[:, None], c_left[:, None])
            return (h[:, 0], c[:, 0]), (h[:, 0], c[:, 0])

        columns = ops.transpose(ops.concatenate([input_to_state, h_above], axis=-1), (1, 0, 2))  # (W, B, 4h + h)
        _, (hidden, _) = ops.scan(step, (zeros, zeros), columns)
        return ops.transpose(hidden, (1, 0, 2))


@keras.saving.register_keras_serializable(package="keras_gen")
class DiagonalBiLSTM(LSTMMapLayer):
    """Two Diagonal LSTMs, from the top left and from the top right (mirrored, shifted down a row).

    Args:
        units: number h of hidden units of each direction (divisible by 3 with colour).
        color_channels: 1 (grey) or 3 (R, G, B unit groups).
        condition_channels: channels of an optional conditioning map, given to both
            directions (multi-scale PixelRNN).

    (B, H, W, C) → (B, H, W, units):
    ``left_to_right(x) + down_shift(mirror(right_to_left(mirror(x))))``, the two
    directions swept together in one loop (``diagonal_sweep``). Each direction is
    initialised as a ``DiagonalLSTM`` (glorot-uniform kernels, zero gate biases).

    Reference:
        - van den Oord, Kalchbrenner and Kavukcuoglu (2016a). Pixel Recurrent Neural Networks. ICML 2016.
          https://arxiv.org/abs/1601.06759

    Example::

        import numpy as np
        from keras_gen import layers

        x = np.random.default_rng(0).random((2, 6, 5, 8)).astype("float32")
        layers.DiagonalBiLSTM(4)(x).shape                    # (2, 6, 5, 4): both directions, causal
    """

    def __init__(self, units, color_channels=1, condition_channels=None, **kwargs):
        super().__init__(**kwargs)
        settings = dict(units=units, color_channels=color_channels, condition_channels=condition_channels)
        self.left_to_right = DiagonalLSTM(**settings, name="left_to_right")
        self.right_to_left = DiagonalLSTM(**settings, name="right_to_left")
        self.units = self.left_to_right.units
        self.color_channels = self.left_to_right.color_channels
        self.condition_channels = self.left_to_right.condition_channels

    def build(self, input_shape):
        share_dtype_policy(self)
        self.left_to_right.build(input_shape)
        self.right_to_left.build(input_shape)
        self.input_spec = input_spec_like(input_shape)

    def call(self, inputs, condition=None):
        def mirror(x):
            return None if x is None else ops.flip(x, axis=2)

        for direction in (self.left_to_right, self.right_to_left):
            direction.check_condition(condition)
        both = ops.stack(
            [
                self.left_to_right.gate_inputs(inputs, condition),
                self.right_to_left.gate_inputs(mirror(inputs), mirror(condition)),
            ]
        )
        kernels = ops.concatenate([d.state_to_state[None] for d in (self.left_to_right, self.right_to_left)])
        left_to_right, right_to_left = ops.unstack(diagonal_sweep(both, kernels, self.color_channels), 2)
        return left_to_right + down_shift(mirror(right_to_left))
