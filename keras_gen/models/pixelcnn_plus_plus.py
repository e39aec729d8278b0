"""PixelCNN++ (Salimans et al., 2017): shifted convolutions, gated ResNet blocks and a
discretised logistic mixture over whole pixels.

The network (figure 2 of the paper) runs two passes over two streams, *down*
(rows above) and *down-right* (rows above and the pixels to the left):

* first pass: ``blocks_per_stage`` gated ResNet blocks at full resolution, then a
  stride-2 shifted convolution and more blocks, ``num_downsamplings`` times;
* second pass: back up with stride-2 transposed shifted convolutions, every block
  receiving the matching output of the first pass (the long short-cuts);
* a 1×1 layer maps the down-right stream to the mixture parameters.

The head conditions on whole pixels: the input image is shifted one row down
(down stream) and one pixel right (down-right stream), so no channel of pixel
(i, j) reaches its own distribution; the channels are coupled inside the
likelihood instead (eq. 3).
"""

import itertools

import keras
from keras import ops

from keras_gen import heads
from keras_gen.layers.apply import apply_layer
from keras_gen.layers.gated_resnet import GatedResNetBlock
from keras_gen.layers.shifted_conv import DownShift, ShiftedConv2D, ShiftedConv2DTranspose
from keras_gen.layers.shifted_rows import ShiftedRows
from keras_gen.models.autoregressive import AutoregressiveModel
from keras_gen.ops.shift import right_shift
from keras_gen.validation import check_bool, check_float, check_int


@keras.saving.register_keras_serializable(package="keras_gen")
class PixelCNNPlusPlus(AutoregressiveModel):
    """PixelCNN++ for 8-bit images.

    Args:
        image_shape: (H, W, C); H and W divisible by ``2 ** num_downsamplings``.
        filters: feature maps of both streams (160 in the paper).
        blocks_per_stage: gated ResNet blocks per resolution and pass (5 in the paper).
        num_downsamplings: stride-2 steps of the first pass (2 in the paper: 32, 16, 8).
        num_components: logistic mixture components K (10 in the paper; ``None``: the
            head's own, 10 for ``output="logistic_mixture"``).
        dropout: dropout rate inside the blocks (0.5 in the paper on CIFAR-10).
        shortcuts: the long short-cuts from every block of the first pass to its mirror
            in the second (the paper's ablation turns them off). With ``False`` the blocks
            stay and only the connections go; the stride-2 path alone then joins the
            input to the output, and some pixels no longer see their left neighbour.
        seed: seed of the dropout.
        output: the head, a name, an ``OutputHead`` or its config (``keras_gen.heads.get``):
            the network shifts whole pixels and has no colour masks, so the head must
            draw a whole pixel at once (``per_channel = False``), as the logistic mixture does.

    The stride-2 layers treat even and odd rows differently, so the reference sampler
    (``cached=False``) runs the network on the whole image at every step (``rows_above``
    stays ``None``). The cached sampler runs every layer on the current row of its
    resolution alone, from the rows above that it keeps
    (:class:`keras_gen.layers.shifted_rows.ShiftedRows`).

    Reference:
        - Salimans, Karpathy, Chen and Kingma (2017). PixelCNN++: Improving the PixelCNN with Discretized
          Logistic Mixture Likelihood and Other Modifications. ICLR 2017.
          https://arxiv.org/abs/1701.05517

    Example::

        import numpy as np
        from keras_gen import models

        x = np.random.default_rng(0).integers(0, 256, (2, 4, 4, 3))   # 8-bit colour images
        model = models.PixelCNNPlusPlus(image_shape=(4, 4, 3), filters=8, blocks_per_stage=1, num_downsamplings=1,
                                        num_components=2)
        model(x).shape                                       # mixture parameters (2, 4, 4, 20)
        model.log_prob(x)                                    # exact log p(x), nats; bits/dim = -log_prob / (4*4*3*ln 2)
        model.sample(1, seed=0)                              # (1, 4, 4, 3) uint8
    """

    def __init__(
        self,
        image_shape=(32, 32, 3),
        filters=160,
        blocks_per_stage=5,
        num_downsamplings=2,
        num_components=None,
        dropout=0.5,
        shortcuts=True,
        seed=None,
        output="logistic_mixture",
        **kwargs,
    ):
        head = heads.get(output, **({} if num_components is None else {"num_components": num_components}))
        if head.per_channel:
            raise ValueError(
                f"PixelCNN++ shifts whole pixels and has no colour masks, so its head must draw a whole pixel at "
                f"once (per_channel=False), such as 'logistic_mixture'; got output={output!r}."
            )
        super().__init__(image_shape, output=head, **kwargs)
        self.num_components = getattr(self.head, "num_components", None)
        self.filters = check_int("filters", filters)
        self.blocks_per_stage = check_int("blocks_per_stage", blocks_per_stage, minimum=0)
        self.num_downsamplings = check_int("num_downsamplings", num_downsamplings, minimum=0)
        self.dropout, self.seed = check_float("dropout", dropout, minimum=0.0), seed
        self.shortcuts = check_bool("shortcuts", shortcuts)
        factor = 2**self.num_downsamplings
        if self.image_shape[0] % factor or self.image_shape[1] % factor:
            raise ValueError(
                f"{self.num_downsamplings} stride-2 steps need height and width divisible by {factor}; "
                f"got image_shape={self.image_shape}."
            )
        f, n, levels = self.filters, self.blocks_per_stage, self.num_downsamplings
        self.down_input = ShiftedConv2D(f, (2, 3), "down", name="down_input")
        self.down_input_shift = DownShift(name="down_input_shift")
        self.down_right_input_above = ShiftedConv2D(f, (1, 3), "down", name="down_right_input_above")
        self.down_right_input_shift = DownShift(name="down_right_input_shift")
        self.down_right_input_left = ShiftedConv2D(f, (2, 1), "down_right", name="down_right_input_left")
        block_seeds = itertools.count(seed) if seed is not None else itertools.repeat(None)

        def blocks(shift, count, stage):
            return [
                GatedResNetBlock(f, shift, dropout=self.dropout, seed=next(block_seeds), name=f"{stage}_{shift}_{k}")
                for k in range(count)
            ]

        # first pass: stages at resolution 0 .. levels, strided convolutions between them
        self.first_down = [blocks("down", n, f"first{level}") for level in range(levels + 1)]
        self.first_down_right = [blocks("down_right", n, f"first{level}") for level in range(levels + 1)]
        self.downsample_down = [ShiftedConv2D(f, (2, 3), "down", 2, name=f"halve{k}_down") for k in range(levels)]
        self.downsample_down_right = [
            ShiftedConv2D(f, (2, 2), "down_right", 2, name=f"halve{k}_down_right") for k in range(levels)
        ]
        # second pass: from the coarsest stage back up; stages after an upsampling
        # take one more block, for the short-cut from the strided convolution's output
        counts = [n + 1] * levels + [n]
        self.second_down = [blocks("down", counts[level], f"second{level}") for level in range(levels + 1)]
        self.second_down_right = [blocks("down_right", counts[level], f"second{level}") for level in range(levels + 1)]
        self.upsample_down = [
            ShiftedConv2DTranspose(f, (2, 3), "down", 2, name=f"double{k}_down") for k in range(levels)
        ]
        self.upsample_down_right = [
            ShiftedConv2DTranspose(f, (2, 2), "down_right", 2, name=f"double{k}_down_right") for k in range(levels)
        ]
        self.output_layer = keras.layers.Dense(self.head.num_outputs(self.image_shape[2]), name="mixture_params")
        self.create_weights()

    def call(self, inputs, training=False, conv=apply_layer):
        """The mixture parameters; ``conv(layer, inputs)`` applies every shifted convolution and row shift.

        By default each runs on whole feature maps; the cached sampler passes
        :class:`~keras_gen.layers.shifted_rows.ShiftedRows`, which runs it on one row.
        """
        x = self.scale_image(self.split_inputs(inputs)[0])
        # a channel of ones tells the zero padding of the shifted convolutions from the image
        x = ops.concatenate([x, ops.ones_like(x[..., :1])], axis=-1)
        down = conv(self.down_input_shift, conv(self.down_input, x))
        down_right = conv(self.down_right_input_shift, conv(self.down_right_input_above, x)) + right_shift(
            conv(self.down_right_input_left, x)
        )
        down_skips, down_right_skips = [down], [down_right]
        for level in range(self.num_downsamplings + 1):
            if level > 0:
                down_skips.append(conv(self.downsample_down[level - 1], down_skips[-1]))
                down_right_skips.append(conv(self.downsample_down_right[level - 1], down_right_skips[-1]))
            for block_down, block_down_right in zip(self.first_down[level], self.first_down_right[level], strict=True):
                down_skips.append(block_down(down_skips[-1], training=training, conv=conv))
                down_right_skips.append(
                    block_down_right([down_right_skips[-1], down_skips[-1]], training=training, conv=conv)
                )
        down, down_right = down_skips.pop(), down_right_skips.pop()
        for level in reversed(range(self.num_downsamplings + 1)):
            if level < self.num_downsamplings:
                down = conv(self.upsample_down[level], down)
                down_right = conv(self.upsample_down_right[level], down_right)
            for block_down, block_down_right in zip(
                self.second_down[level], self.second_down_right[level], strict=True
            ):
                if self.shortcuts:
                    down = block_down([down, down_skips.pop()], training=training, conv=conv)
                    auxiliary = ops.concatenate([down, down_right_skips.pop()], axis=-1)
                else:
                    down = block_down(down, training=training, conv=conv)
                    auxiliary = down
                down_right = block_down_right([down_right, auxiliary], training=training, conv=conv)
        return self.head.outputs_to_params(self.output_layer(ops.elu(down_right)), self.image_shape[2])

    # ------------------------------------------------------------ the cached sampler
    #
    # The cache holds, for every shifted convolution and row shift, its inputs of the
    # rows above the current row of its resolution (ShiftedRows). Each step runs the
    # network on the current image row alone and takes the parameters at the current
    # pixel; once the row is drawn, one more run on the finished row moves the caches on.

    has_cached_sampler = True

    def row_params(self, cache, image_row, row):
        """The mixture parameters of image row ``row`` (B, 1, W, P), and the hook that computed them."""
        rows = ShiftedRows(cache, row, width=self.image_shape[1])
        return self.call(ops.expand_dims(image_row, 1), conv=rows), rows

    def sampling_cache(self, canvas, conditions, first_row):
        _, discovery = self.row_params(None, ops.zeros_like(canvas[:, 0]), 0)  # finds the layers
        cache = dict(discovery.past)  # every layer's zero inputs above the image: the cache of row 0
        return ops.fori_loop(
            0, first_row, lambda row, cache: self.finish_row(cache, (), ops.take(canvas, row, axis=1), row), cache
        )

    def start_row(self, cache, row):
        return cache, ()

    def cached_params(self, cache, row_state, image_row, row, column):
        params, _ = self.row_params(cache, image_row, row)
        return ops.expand_dims(ops.take(params, column, axis=2), 2), row_state

    def finish_row(self, cache, row_state, image_row, row):
        return self.row_params(cache, image_row, row)[1].advance()

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "blocks_per_stage": self.blocks_per_stage,
            "num_downsamplings": self.num_downsamplings,
            "num_components": self.num_components,
            "dropout": self.dropout,
            "shortcuts": self.shortcuts,
            "seed": self.seed,
        }
