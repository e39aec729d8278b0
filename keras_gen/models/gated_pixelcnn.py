"""Gated PixelCNN (van den Oord et al., 2016b): gated vertical and horizontal stacks, optionally conditional
on a class label (eq. 4) or on a map of the image's size (eq. 5)."""

import keras
from keras import ops

from keras_gen.layers.gated_pixelcnn import GatedPixelCNNBlock, gate
from keras_gen.layers.masked_conv import PixelMaskedConv2D
from keras_gen.models.autoregressive import AutoregressiveModel, pad_maps, write_row
from keras_gen.models.conditions import Condition
from keras_gen.validation import check_int, check_kernel_size


def output_layer(filters, kernel_size, mask_type, color_channels, **kwargs):
    """A convolution with ``mask_type`` over the colour groups, or a plain ``Conv2D`` for a 1×1 B on one group.

    A weights file keys a model's own layers by their class name, so the grey model
    keeps ``Conv2D`` (the same layer: mask B with one group keeps every weight) and
    loads the checkpoints trained before colour groups existed.
    """
    if color_channels == 1 and mask_type == "B" and kernel_size == 1:
        return keras.layers.Conv2D(filters, kernel_size, **kwargs)
    return PixelMaskedConv2D(filters, kernel_size, mask_type, color_channels, **kwargs)


@keras.saving.register_keras_serializable(package="keras_gen")
class GatedPixelCNN(AutoregressiveModel):
    """A type A gated block on the image, ``num_layers`` type B gated blocks, two 1×1 layers, the head.

    Args:
        image_shape: (H, W, C). With a per-channel head (``"bernoulli"``,
            ``"categorical"``) and C > 1 the channels are drawn R → G → B: the
            horizontal stacks and the output layers are split into C colour groups
            with the PixelCNN's masks at the current pixel (section 2 of the paper;
            see :class:`~keras_gen.layers.GatedPixelCNNBlock`). Heads that draw a whole
            pixel at once (``"logistic_mixture"``) need no groups.
        filters: feature maps p of both stacks (divisible by C with colour groups).
        num_layers: number of type B blocks after the first block.
        kernel_size: odd n of the type B blocks (3 in the paper).
        input_kernel_size: odd n of the first, type A block (7 in the paper).
        output: the output head, ``"bernoulli"`` for binary data.
        num_classes: ``None`` for an unconditional model; otherwise the model is
            ``p(x | y)`` for a class label y in 0..num_classes-1, given to every gate
            as the one-hot vector h (eq. 4): call it on ``{"image": x, "label": y}``,
            ``log_prob(x, label=y)``, ``sample(n, label=y)`` (one class per image, or one for all).
        map_channels: ``None``, or the model is ``p(x | s)`` for a map s of shape
            (H, W, ``map_channels``) that every gate reads through a 1×1 convolution
            V * s (eq. 5; PixelVAE's decoder): call it on ``{"image": x, "map": s}``,
            ``sample(n, map=s)``. The map does not depend on x, so the model stays causal
            in x. At most one of ``num_classes`` and ``map_channels``.

    The output at pixel (i, j) sees every earlier pixel in the r + 1 rows above and
    within r columns either side, and r + 1 pixels to the left, where
    ``r = input_kernel_size // 2 + num_layers * (kernel_size // 2)``: no blind spot.
    With colour groups, r pixels to the left (the first block's current-pixel tap is
    masked rather than shifted away) and, for channel c, the channels < c of (i, j).

    The cached sampler (``sample(..., cached=True)``) works for grey and colour alike:
    it steps through the sub-pixels of a row, and the horizontal stacks at the current
    pixel are recomputed at every sub-pixel.

    Reference:
        - van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves and Kavukcuoglu (2016b). Conditional
          Image Generation with PixelCNN Decoders. NeurIPS 2016.
          https://arxiv.org/abs/1606.05328

    Example::

        import numpy as np
        from keras_gen import models

        x = (np.random.default_rng(0).random((4, 8, 8, 1)) < 0.3).astype("float32")
        labels = np.array([0, 1, 2, 1])
        model = models.GatedPixelCNN(image_shape=(8, 8, 1), filters=16, num_layers=2, num_classes=3)
        model({"image": x, "label": labels}).shape            # Bernoulli logits (4, 8, 8, 1)
        model.log_prob(x, label=labels)                      # exact log p(x | class) per image
        model.sample(3, seed=0, label=[0, 1, 2])             # one image of each class

        rgb = np.random.default_rng(1).integers(0, 256, (2, 6, 6, 3))
        colour = models.GatedPixelCNN(image_shape=(6, 6, 3), filters=12, num_layers=2, output="categorical")
        colour(rgb).shape                                    # 256-way logits per sub-pixel (2, 6, 6, 3, 256)
        colour.log_prob(rgb)                                 # sum over pixels and R, G, B given R → G → B
        colour.sample(2, seed=0)                             # (2, 6, 6, 3) uint8, drawn sub-pixel by sub-pixel
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        filters=64,
        num_layers=7,
        kernel_size=3,
        input_kernel_size=7,
        output="bernoulli",
        num_classes=None,
        map_channels=None,
        **kwargs,
    ):
        super().__init__(image_shape, output=output, **kwargs)
        self.filters = self.check_color_groups("filters", check_int("filters", filters))
        self.num_layers = check_int("num_layers", num_layers, minimum=0)
        self.kernel_size = check_kernel_size(kernel_size, square=True)
        self.input_kernel_size = check_kernel_size(input_kernel_size, "input_kernel_size", square=True)
        self.num_classes = None if num_classes is None else check_int("num_classes", num_classes)
        self.map_channels = None if map_channels is None else check_int("map_channels", map_channels)
        if self.num_classes and self.map_channels:
            raise ValueError(
                f"a GatedPixelCNN takes one condition, a class label (num_classes) or a map (map_channels), "
                f"got num_classes={num_classes!r} and map_channels={map_channels!r}."
            )
        groups = self.color_groups
        self.blocks = [GatedPixelCNNBlock(self.filters, self.input_kernel_size, "A", groups, name="block_0")] + [
            GatedPixelCNNBlock(self.filters, self.kernel_size, "B", groups, name=f"block_{k}")
            for k in range(1, self.num_layers + 1)
        ]
        self.add_output_layers(self.filters, layer=output_layer)
        self.create_weights()

    def condition_specs(self):
        if self.num_classes:
            return {"label": Condition.label(self.num_classes)}
        if self.map_channels:
            return {"map": Condition.map(self.image_shape[:2] + (self.map_channels,))}
        return {}

    @property
    def reach(self):
        """r: the stacks see r + 1 rows above (within r columns either side), r + 1 pixels left (r with colour)."""
        return self.input_kernel_size // 2 + self.num_layers * (self.kernel_size // 2)

    @property
    def rows_above(self):
        return self.reach + 1

    @property
    def columns_around(self):
        return self.reach + self.blocks[0].horizontal_shift

    def condition_input(self, conditions):
        """The condition each block adds inside its gates: the one-hot label h (eq. 4), the map s (eq. 5), or None."""
        if self.num_classes:
            return ops.one_hot(ops.cast(conditions["label"], "int32"), self.num_classes)
        if self.map_channels:
            return ops.cast(conditions["map"], self.compute_dtype)
        return None

    def stacks(self, x, conditions, depth=None):
        """The vertical and horizontal stacks' feature maps after the first ``depth`` blocks (all by default)."""
        h = self.condition_input(conditions)
        extra = [] if h is None else [h]
        vertical = horizontal = self.scale_image(x)
        for block in self.blocks[:depth]:
            vertical, horizontal = block([vertical, horizontal] + extra)
        return vertical, horizontal

    def call(self, inputs, training=False):
        image, conditions = self.split_inputs(inputs)
        _, horizontal = self.stacks(image, conditions)
        return self.output_params(horizontal)

    # ------------------------------------------------------------ the cached sampler
    #
    # The vertical stack at row i - 1 is all the horizontal stack takes from the rows
    # above, so it runs once per row, on the finished row, for the whole width; the
    # horizontal stack runs once per sub-pixel, at the current pixel alone (with
    # colour, the pixel's horizontal maps are rewritten at each of its sub-pixels; the
    # last write, before its last channel is drawn, is exact, since no group reads
    # the last channel of its own pixel). The cache
    # holds each block's vertical input for the finished rows (padded by n // 2 above
    # and on both sides), the condition terms V h of every block (computed once per
    # image) and the current row's vertical contributions to the horizontal stacks;
    # the row state holds the type B blocks' horizontal inputs of the current row.

    has_cached_sampler = True

    def sampling_cache(self, canvas, conditions, first_row):
        condition = self.condition_input(conditions)
        cache = {"vertical": [], "terms": []}
        vertical = horizontal = self.scale_image(canvas)
        for block in self.blocks:
            half = block.kernel_size // 2
            cache["vertical"].append(pad_maps(vertical, half, half))
            if condition is not None:
                cache["terms"].append(block.condition_terms(condition))
            vertical, horizontal = block([vertical, horizontal] + ([] if condition is None else [condition]))
        batch, width = ops.shape(canvas)[0], self.image_shape[1]
        cache["from_vertical"] = [ops.zeros((batch, width, 2 * block.filters)) for block in self.blocks]
        return cache

    def condition_terms_at(self, cache, index, row, column=None):
        """Block ``index``'s condition terms on ``row`` (B, 1, W, 2p), or at (row, column) (B, 1, 1, 2p)."""
        if not cache["terms"]:
            return None, None
        terms = cache["terms"][index]
        if tuple(terms[0].shape[1:3]) == (1, 1):  # one vector per image, the same at every pixel
            return terms
        batch, width, depth = ops.shape(terms[0])[0], terms[0].shape[2], terms[0].shape[3]
        if column is None:
            return tuple(ops.slice(term, [0, row, 0, 0], [batch, 1, width, depth]) for term in terms)
        return tuple(ops.slice(term, [0, row, column, 0], [batch, 1, 1, depth]) for term in terms)

    def start_row(self, cache, row):
        """Run the vertical stacks on row - 1; their contribution is zero on the first row, as ``down_shift`` gives."""
        above = ops.maximum(row - 1, 0)
        verticals, from_vertical = list(cache["vertical"]), []
        for index, block in enumerate(self.blocks):
            half = block.kernel_size // 2
            padded = verticals[index]
            rows = ops.slice(padded, [0, above, 0, 0], [ops.shape(padded)[0], half + 1] + list(padded.shape[2:]))
            features = block.vertical_features(rows, self.condition_terms_at(cache, index, above)[0])
            features = ops.where(row > 0, features, ops.zeros_like(features))
            from_vertical.append(block.vertical_to_horizontal(features)[:, 0])
            if index + 1 < len(self.blocks):
                next_half = self.blocks[index + 1].kernel_size // 2
                output = pad_maps(gate(features)[:, 0], 0, next_half)
                verticals[index + 1] = write_row(verticals[index + 1], above + next_half, output)
        width = self.image_shape[1]
        row_state = [  # the horizontal inputs of the type B blocks on this row, padded by n // 2 on the left
            ops.zeros((ops.shape(from_vertical[0])[0], width + block.kernel_size // 2, block.filters))
            for block in self.blocks[1:]
        ]
        return {**cache, "vertical": verticals, "from_vertical": from_vertical}, row_state

    def cached_params(self, cache, row_state, image_row, row, column):
        row_state = list(row_state)
        batch = ops.shape(image_row)[0]
        image = self.scale_image(image_row)
        horizontal = None
        for index, block in enumerate(self.blocks):
            half = block.kernel_size // 2
            if block.mask_type == "A":  # the image row: columns j - n//2 .. j, or j - n//2 - 1 .. j - 1 for grey
                padded = ops.pad(image, [[0, 0], [half + block.horizontal_shift, 0], [0, 0]])
                channels = image.shape[-1]
            else:
                padded = ops.slice_update(row_state[index - 1], [0, column + half, 0], horizontal[:, 0])
                row_state[index - 1], channels = padded, block.filters
            window = ops.expand_dims(ops.slice(padded, [0, column, 0], [batch, half + 1, channels]), 1)
            from_vertical = ops.slice(cache["from_vertical"][index], [0, column, 0], [batch, 1, 2 * block.filters])
            term = self.condition_terms_at(cache, index, row, column)[1]
            horizontal = block.horizontal_stack(window, term, from_vertical[:, None], horizontal)
        return self.output_params(horizontal), row_state

    def finish_row(self, cache, row_state, image_row, row):
        half = self.blocks[0].kernel_size // 2
        image = pad_maps(self.scale_image(image_row), 0, half)
        return {**cache, "vertical": [write_row(cache["vertical"][0], row + half, image)] + cache["vertical"][1:]}

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "num_layers": self.num_layers,
            "kernel_size": self.kernel_size,
            "input_kernel_size": self.input_kernel_size,
            "num_classes": self.num_classes,
            "map_channels": self.map_channels,
        }
