"""PixelRNN (van den Oord et al., 2016a, sections 3.1–3.4 and table 1).

A 7×7 mask-A convolution, a stack of residual LSTM blocks (Row LSTM or Diagonal
BiLSTM), two ReLU + 1×1 mask-B layers, and the output head. Optionally the network
is conditioned on a smaller image, upsampled by a learned deconvolution and added
as a bias to the input-to-state map of every LSTM layer: the conditional network of
the multi-scale PixelRNN (section 3.4, ``keras_gen.models.MultiScalePixelRNN``).

Both networks have a cached sampler (see the comment above ``has_cached_sampler``).
"""

import keras
import numpy as np
from keras import ops

from keras_gen.layers.masked_conv import MaskedConv2D
from keras_gen.layers.residual_lstm import LAYER_TYPES, ResidualLSTMBlock
from keras_gen.models.autoregressive import AutoregressiveModel, pad_maps, write_row
from keras_gen.models.conditions import Condition
from keras_gen.ops.shift import down_shift
from keras_gen.validation import check_bool, check_choice, check_image_shape, check_int, check_kernel_size


@keras.saving.register_keras_serializable(package="keras_gen")
class PixelRNN(AutoregressiveModel):
    """A PixelRNN with Row LSTM or Diagonal BiLSTM layers.

    Args:
        image_shape: (H, W, C).
        layer_type: ``"row_lstm"`` or ``"diagonal_bilstm"``.
        num_layers: number of LSTM layers (residual blocks).
        units: hidden units h of each LSTM; the maps between the layers have 2h features.
        kernel_size: width k of the Row LSTM's row convolutions (3 in the paper).
        input_kernel_size: odd size of the first, mask-A convolution (7 in the paper).
        output: ``"bernoulli"`` (binary data) or ``"categorical"`` (256-way softmax per
            colour, 8-bit data).
        residual: residual connections around each LSTM (figure 5), or none.
        skip: if True, every block's output also reaches the output layers through a
            learned 1×1 convolution (mask B) of its own, and the output layers read the
            sum of these (the paper's skip connections, section 3.3); otherwise they read
            the last block's output alone.
        small_image_shape: (s, s', C) of a smaller image to condition on (the
            multi-scale conditional network); ``H`` and ``W`` must be multiples of it.
            The model then takes ``{"image": x, "small_image": small}``.

    With a per-channel head and C > 1 the units are split into C colour groups, so
    ``units`` must be divisible by C.

    Reference:
        - van den Oord, Kalchbrenner and Kavukcuoglu (2016a). Pixel Recurrent Neural Networks. ICML 2016.
          https://arxiv.org/abs/1601.06759

    Example::

        import numpy as np
        from keras_gen import models

        x = (np.random.default_rng(0).random((4, 6, 6, 1)) < 0.3).astype("float32")
        model = models.PixelRNN(image_shape=(6, 6, 1), layer_type="diagonal_bilstm", num_layers=2, units=8)
        model.log_prob(x)                                    # exact log p(x) per image, nats
        model.sample(2, seed=0)                              # (2, 6, 6, 1) in {0, 1}
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        layer_type="diagonal_bilstm",
        num_layers=7,
        units=16,
        kernel_size=3,
        input_kernel_size=7,
        output="bernoulli",
        residual=True,
        skip=False,
        small_image_shape=None,
        **kwargs,
    ):
        super().__init__(image_shape, output=output, **kwargs)
        self.layer_type = check_choice("layer_type", layer_type, LAYER_TYPES)
        self.num_layers = check_int("num_layers", num_layers)
        self.units = self.check_color_groups("units", check_int("units", units))
        self.kernel_size = check_int("kernel_size", kernel_size)
        self.input_kernel_size = check_kernel_size(input_kernel_size, "input_kernel_size")
        self.residual, self.skip = check_bool("residual", residual), check_bool("skip", skip)
        groups = self.color_groups
        self.small_image_shape = None if small_image_shape is None else check_image_shape(small_image_shape)
        if self.small_image_shape is not None:
            self.factor = self._small_image_factor()
            self.upsample = self._upsampler()
        condition_channels = None if self.small_image_shape is None else 2 * self.units
        self.input_conv = MaskedConv2D(2 * self.units, self.input_kernel_size, "A", groups, name="input_conv")
        self.blocks = [
            ResidualLSTMBlock(
                self.layer_type,
                self.units,
                self.kernel_size,
                groups,
                condition_channels,
                self.residual,
                name=f"block_{k}",
            )
            for k in range(self.num_layers)
        ]
        if self.skip:
            self.skip_convs = [
                MaskedConv2D(2 * self.units, 1, "B", groups, name=f"skip_{k}") for k in range(self.num_layers)
            ]
        self.add_output_layers(2 * self.units)
        self.create_weights()

    def condition_specs(self):
        if self.small_image_shape is None:
            return {}
        return {"small_image": Condition.image(self.small_image_shape, self.data_type)}

    def _small_image_factor(self):
        """(f, f'): the small image is every f-th pixel of every f-th row."""
        height, width, channels = self.image_shape
        small_height, small_width, small_channels = self.small_image_shape
        if small_channels != channels or height % small_height or width % small_width:
            raise ValueError(
                f"small_image_shape must have the image's {channels} channel(s) and a height and width that "
                f"divide {height}×{width}, got {self.small_image_shape}."
            )
        return (height // small_height, width // small_width)

    def _upsampler(self):
        """The learned deconvolution from the small image to a (H, W, 2h) conditioning map."""
        factor = self.factor
        return keras.Sequential(
            [
                keras.layers.Conv2D(2 * self.units, 3, padding="same", activation="relu"),
                keras.layers.Conv2DTranspose(
                    2 * self.units, tuple(2 * f for f in factor), strides=factor, padding="same", activation="relu"
                ),
            ],
            name="upsample",
        )

    def condition_map(self, conditions):
        """The upsampled (B, H, W, 2h) map of the small image, or ``None`` for an unconditional model."""
        if self.small_image_shape is None:
            return None
        return self.upsample(self.scale_image(conditions["small_image"]))

    def hidden_features(self, inputs, depth=None):
        """Feature maps after the mask-A layer and the first ``depth`` blocks (all by default).

        With ``skip=True`` the sum of those blocks' skip convolutions.
        """
        image, conditions = self.split_inputs(inputs)
        condition = self.condition_map(conditions)
        h = self.input_conv(self.scale_image(image))
        return self.run_blocks(h, lambda index, block, h: block(h, condition=condition), depth)

    def run_blocks(self, h, run_block, depth=None):
        """``h`` through the first ``depth`` blocks, each applied as ``run_block(index, block, h)``.

        With ``skip=True`` the sum of the blocks' skip convolutions, else the last block's output.
        """
        skipped = []
        for index, block in enumerate(self.blocks[:depth]):
            h = run_block(index, block, h)
            if self.skip:
                skipped.append(self.skip_convs[index](h))
        return ops.sum(ops.stack(skipped), axis=0) if skipped else h

    def call(self, inputs, training=False):
        return self.output_params(self.hidden_features(inputs))

    # ------------------------------------------------------------ the cached sampler
    #
    # Row LSTM: row i's states depend on row i - 1's hidden states through the unmasked
    # state-to-state convolution and on the layer's input on row i through the masked
    # 1 × k input-to-state convolution (eq. 3), which at pixel j reads the inputs up to j
    # alone. The row state holds every block's state-to-state term K^ss ⊛ h_{i-1} for the
    # whole row (computed once per row), its input on the current row (padded for its
    # input-to-state convolution) and its new hidden and cell states, filled in pixel by
    # pixel.
    #
    # Diagonal BiLSTM: the left-to-right state at (i, j) depends on the states at (i - 1, j)
    # and (i, j - 1) and on the input at (i, j) alone (a 1×1 input-to-state convolution),
    # so it is computed pixel by pixel; the right-to-left direction reaches row i only from
    # row i - 1, so it runs once per finished row, right to left along it. The row state
    # holds every block's input on the current row and its left-to-right hidden and cell
    # states (with a zero column on the left, the states before column 0).
    #
    # Both: the cache holds the scaled image (padded for the k×k mask-A layer, as in
    # PixelCNN), every block's hidden and cell states of the finished rows (with a zero row
    # on top, the states before row 0; for the Diagonal BiLSTM those of the left-to-right
    # direction and the right-to-left hidden states) and the condition terms (once per image).

    has_cached_sampler = True

    def given_subpixels(self):
        """The conditional network's given sub-pixels: those of the small image, every f-th of every f-th row.

        They are known context, as in the paper's multi-scale model (section 3.4): ``log_prob``
        leaves them out and ``sample``/``complete`` copy them from the small image, so that
        ``log p(x) = log p(s) + log p(x | s)`` is exact for ``s = x[:, ::f, ::f]``.
        """
        given = super().given_subpixels()
        if self.small_image_shape is not None:
            given[:: self.factor[0], :: self.factor[1]] = True
        return given

    def write_given(self, canvas, conditions):
        if self.small_image_shape is None:
            return canvas
        canvas = np.array(canvas, dtype="float32")
        canvas[:, :: self.factor[0], :: self.factor[1]] = conditions["small_image"]
        return canvas

    def _directions(self, block):
        """The block's LSTMs that the condition reaches: the Row LSTM, or both Diagonal LSTMs."""
        lstm = block.lstm
        return [lstm] if self.layer_type == "row_lstm" else [lstm.left_to_right, lstm.right_to_left]

    def sampling_cache(self, canvas, conditions, first_row):
        condition, image = self.condition_map(conditions), self.scale_image(canvas)
        kh, kw = self.input_conv.kernel_size
        cache = {"image": pad_maps(image, kh // 2, kw // 2), "hidden": [], "cells": [], "backward": []}
        cache["condition_terms"] = [
            [lstm.condition_to_state(condition) for lstm in self._directions(block)]
            for block in self.blocks
            if condition is not None
        ]

        def run_block(index, block, h):
            forward = self._directions(block)[0]
            hidden, cells = forward.states(forward.gate_inputs(h, condition))
            cache["hidden"].append(pad_maps(hidden, 1, 0))
            cache["cells"].append(pad_maps(cells, 1, 0))
            if self.layer_type == "diagonal_bilstm":
                backward = block.lstm.right_to_left
                flipped = None if condition is None else ops.flip(condition, axis=2)
                behind = ops.flip(backward.sweep(backward.gate_inputs(ops.flip(h, axis=2), flipped)), axis=2)
                cache["backward"].append(pad_maps(behind, 1, 0))
                hidden = hidden + down_shift(behind)
            return block.from_hidden(h, hidden)

        self.run_blocks(self.input_conv(image), run_block)
        return cache

    def start_row(self, cache, row):
        """Blank states for the row; for the Row LSTM also every block's state-to-state term from the row above."""
        batch, width = ops.shape(cache["image"])[0], self.image_shape[1]
        if self.layer_type == "diagonal_bilstm":
            return cache, {
                "inputs": [ops.zeros((batch, width, 2 * self.units)) for _ in self.blocks],
                "hidden": [ops.zeros((batch, width + 1, self.units)) for _ in self.blocks],
                "cells": [ops.zeros((batch, width + 1, self.units)) for _ in self.blocks],
            }
        row_state = {
            "from_above": [
                block.lstm.from_row_above(ops.take(hidden, row, axis=1))
                for block, hidden in zip(self.blocks, cache["hidden"], strict=True)
            ],
            "inputs": [ops.zeros((batch, width + block.kernel_size - 1, 2 * self.units)) for block in self.blocks],
            "hidden": [ops.zeros((batch, width, self.units)) for _ in self.blocks],
            "cells": [ops.zeros((batch, width, self.units)) for _ in self.blocks],
        }
        return cache, row_state

    def cached_params(self, cache, row_state, image_row, row, column):
        row_state = {name: list(states) for name, states in row_state.items()}
        batch, half = ops.shape(image_row)[0], self.input_conv.kernel_size[1] // 2
        image = pad_maps(self.scale_image(image_row), 0, half)
        diagonal = self.layer_type == "diagonal_bilstm"

        def pixel_of(tensor, at=column):
            """A row (B, W, d) at column ``at``, or maps (B, H, W, d) at (``row``, ``at``), as (B, 1, d)."""
            if len(tensor.shape) == 3:
                return ops.slice(tensor, [0, at, 0], [batch, 1, tensor.shape[-1]])
            return ops.slice(tensor, [0, row, at, 0], [batch, 1, 1, tensor.shape[-1]])[:, 0]

        def run_block(index, block, h):
            forward = self._directions(block)[0]
            offset = 0 if diagonal else block.kernel_size // 2  # the Row LSTM's inputs are padded
            inputs = ops.slice_update(row_state["inputs"][index], [0, column + offset, 0], h[:, 0])
            row_state["inputs"][index] = inputs
            input_to_state = forward.input_to_state.at_pixel(inputs, column)[:, 0]
            if cache["condition_terms"]:
                input_to_state = input_to_state + pixel_of(cache["condition_terms"][index][0])
            above = pixel_of(cache["hidden"][index])  # padded: its row i holds row i - 1
            if diagonal:  # the left neighbour's states sit at ``column`` (a zero column comes first)
                left = [pixel_of(row_state[name][index]) for name in ("hidden", "cells")]
                hidden, cells = forward.update(input_to_state, above, *left)
            else:
                from_above = pixel_of(row_state["from_above"][index])
                hidden, cells = forward.update(input_to_state, from_above, pixel_of(cache["cells"][index]))
            for name, state in (("hidden", hidden), ("cells", cells)):
                at = [0, column + (1 if diagonal else 0), 0]
                row_state[name][index] = ops.slice_update(row_state[name][index], at, state)
            if diagonal:  # the right-to-left states of the row above
                hidden = hidden + pixel_of(cache["backward"][index])
            return block.from_hidden(h, ops.expand_dims(hidden, 1))

        features = self.run_blocks(self.input_conv.at_pixel(image, column, cache["image"], row), run_block)
        return self.output_params(features), row_state

    def finish_row(self, cache, row_state, image_row, row):
        kh, kw = self.input_conv.kernel_size
        cache = dict(cache)
        cache["image"] = write_row(cache["image"], row + kh // 2, pad_maps(self.scale_image(image_row), 0, kw // 2))
        first = 1 if self.layer_type == "diagonal_bilstm" else 0  # the diagonal's zero column
        for name in ("hidden", "cells"):
            cache[name] = [
                write_row(maps, row + 1, new[:, first:]) for maps, new in zip(cache[name], row_state[name], strict=True)
            ]
        if self.layer_type == "diagonal_bilstm":
            cache["backward"] = [
                write_row(behind, row + 1, self._right_to_left_row(cache, index, row_state["inputs"][index], row))
                for index, behind in enumerate(cache["backward"])
            ]
        return cache

    def _right_to_left_row(self, cache, index, inputs, row):
        """Block ``index``'s right-to-left hidden states on the finished ``row`` (B, W, h), from its inputs there."""
        backward = self.blocks[index].lstm.right_to_left
        input_to_state = backward.input_to_state(ops.flip(inputs, axis=1)[:, None])[:, 0]
        if cache["condition_terms"]:
            input_to_state = input_to_state + ops.flip(ops.take(cache["condition_terms"][index][1], row, axis=1), 1)
        above = ops.flip(ops.take(cache["backward"][index], row, axis=1), axis=1)  # padded: row i holds row i - 1
        return ops.flip(backward.row_states(input_to_state, above), axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "layer_type": self.layer_type,
            "num_layers": self.num_layers,
            "units": self.units,
            "kernel_size": self.kernel_size,
            "input_kernel_size": self.input_kernel_size,
            "residual": self.residual,
            "skip": self.skip,
            "small_image_shape": self.small_image_shape,
        }
