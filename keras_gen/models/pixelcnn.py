"""PixelCNN (van den Oord et al., 2016a, section 3.5 and table 2): a stack of masked convolutions."""

import keras
from keras import ops

from keras_gen.layers.apply import apply_layer
from keras_gen.layers.masked_conv import MaskedConv2D
from keras_gen.layers.pixelcnn_residual import PixelCNNResidualBlock
from keras_gen.models.autoregressive import AutoregressiveModel, pad_maps, write_row
from keras_gen.validation import check_bool, check_int, check_kernel_size


@keras.saving.register_keras_serializable(package="keras_gen")
class PixelCNN(AutoregressiveModel):
    """A k×k mask-A convolution, ``num_layers`` mask-B blocks, two 1×1 mask-B layers, the head.

    Args:
        image_shape: (H, W, C).
        filters: feature maps between the layers (the paper's 2h).
        num_layers: number of mask-B blocks, each with one ``kernel_size`` convolution.
        kernel_size: odd size of the blocks' spatial convolutions (3 in the paper).
        input_kernel_size: odd size of the first, mask-A convolution (7 in the paper).
        output: ``"bernoulli"`` (sigmoid, binary data) or ``"categorical"``
            (256-way softmax per colour, 8-bit data).
        residual: residual blocks of figure 5 (True) or plain ReLU + mask-B convolutions.

    With a per-channel head and C > 1 the feature maps are split into C colour
    groups, so ``filters`` must be divisible by C (by 2C with residual blocks,
    whose bottleneck has ``filters // 2`` maps).

    Reference:
        - van den Oord, Kalchbrenner and Kavukcuoglu (2016a). Pixel Recurrent Neural Networks. ICML 2016.
          https://arxiv.org/abs/1601.06759

    Example::

        import numpy as np
        from keras_gen import models

        x = (np.random.default_rng(0).random((8, 8, 8, 1)) < 0.3).astype("float32")
        model = models.PixelCNN(image_shape=(8, 8, 1), filters=16, num_layers=2)
        # model.compile(optimizer="adam"); model.fit(x, ...) trains on the exact NLL
        model(x).shape                                       # Bernoulli logits (8, 8, 8, 1)
        model.log_prob(x)                                    # exact log p(x) per image, nats
        model.sample(2, seed=0)                              # (2, 8, 8, 1) in {0, 1}
        model.complete(x[:2], known_rows=4, seed=0)          # keeps rows 0..3, samples the rest
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        filters=64,
        num_layers=7,
        kernel_size=3,
        input_kernel_size=7,
        output="bernoulli",
        residual=True,
        **kwargs,
    ):
        super().__init__(image_shape, output=output, **kwargs)
        self.residual = check_bool("residual", residual)
        self.filters = self.check_color_groups(
            "filters",
            check_int("filters", filters),
            per_group=2 if self.residual else 1,
            reason=" and residual blocks (a bottleneck of filters // 2 maps)" if self.residual else "",
        )
        self.num_layers = check_int("num_layers", num_layers, minimum=0)
        self.kernel_size = check_kernel_size(kernel_size)
        self.input_kernel_size = check_kernel_size(input_kernel_size, "input_kernel_size")
        groups = self.color_groups
        self.input_conv = MaskedConv2D(self.filters, self.input_kernel_size, "A", groups, name="input_conv")
        self.blocks = [
            PixelCNNResidualBlock(self.filters, self.kernel_size, groups, name=f"block_{k}")
            if self.residual
            else MaskedConv2D(self.filters, self.kernel_size, "B", groups, name=f"block_{k}")
            for k in range(self.num_layers)
        ]
        self.add_output_layers(self.filters)
        self.create_weights()

    @property
    def rows_above(self):
        return self.input_kernel_size[0] // 2 + self.num_layers * (self.kernel_size[0] // 2)

    @property
    def columns_around(self):
        return self.input_kernel_size[1] // 2 + self.num_layers * (self.kernel_size[1] // 2)

    def hidden_features(self, x, depth=None, conv=apply_layer):
        """Feature maps after the mask-A layer and the first ``depth - 1`` blocks (all by default)."""
        h = conv(self.input_conv, self.scale_image(x))
        for block in self.blocks[: None if depth is None else depth - 1]:
            h = block(h, conv=conv) if self.residual else conv(block, ops.relu(h))
        return h

    def call(self, inputs, training=False, conv=apply_layer):
        """The head's parameters; ``conv(layer, inputs)`` applies each masked convolution.

        By default every layer runs on whole feature maps; the cached sampler passes a
        ``conv`` that evaluates each layer at one pixel from its cache.
        """
        image, _ = self.split_inputs(inputs)
        return self.output_params(self.hidden_features(image, conv=conv), conv=conv)

    # ------------------------------------------------------------ the cached sampler
    #
    # Each masked convolution with a kernel larger than 1×1 keeps its input of the
    # finished rows in the cache, padded with kh // 2 zero rows above and kw // 2 zero
    # columns on each side, and its input of the current row in the row state (padded
    # alike). At every step each layer is evaluated at the current pixel alone, on
    # the kh × kw patch around it; the mask zeroes the taps not yet drawn, as in the
    # whole-map convolution of the reference sampler.

    has_cached_sampler = True

    def buffered_layers(self):
        """The masked convolutions that see more than the current pixel, so need their past inputs."""
        layers = [self.input_conv] + [block.spatial if self.residual else block for block in self.blocks]
        return [layer for layer in layers if layer.kernel_size != (1, 1)]

    def sampling_cache(self, canvas, conditions, first_row):
        cache = {}

        def record(layer, inputs):
            if layer in self.buffered_layers():
                kh, kw = layer.kernel_size
                cache[layer.path] = pad_maps(inputs, kh // 2, kw // 2)
            return layer(inputs)

        self.call(canvas, conv=record)
        return cache

    def start_row(self, cache, row):
        row_state = {}
        for layer in self.buffered_layers():
            rows = cache[layer.path]
            row_state[layer.path] = ops.zeros((ops.shape(rows)[0],) + tuple(rows.shape[2:]), rows.dtype)
        return cache, row_state

    def cached_params(self, cache, row_state, image_row, row, column):
        row_state = dict(row_state)

        def at_pixel(layer, inputs):
            """``layer`` at (row, column).

            ``inputs`` is its input there (B, 1, 1, C), or the whole row for the image.
            """
            batch, channels = ops.shape(inputs)[0], inputs.shape[-1]
            if layer not in self.buffered_layers():
                pixel = (
                    inputs if inputs.shape[2] == 1 else ops.slice(inputs, [0, 0, column, 0], [batch, 1, 1, channels])
                )
                return layer(pixel)
            half = layer.kernel_size[1] // 2
            if inputs.shape[2] == 1:
                current = ops.slice_update(row_state[layer.path], [0, column + half, 0], inputs[:, 0])
            else:
                current = pad_maps(inputs[:, 0], 0, half)
            row_state[layer.path] = current
            return layer.at_pixel(current, column, cache[layer.path], row)

        params = self.call(ops.expand_dims(image_row, 1), conv=at_pixel)
        return params, row_state

    def finish_row(self, cache, row_state, image_row, row):
        cache = dict(cache)
        for layer in self.buffered_layers():
            kh, kw = layer.kernel_size
            # the image's last sub-pixel is drawn after the network's last step on the row
            current = (
                pad_maps(self.scale_image(image_row), 0, kw // 2) if layer is self.input_conv else row_state[layer.path]
            )
            cache[layer.path] = write_row(cache[layer.path], row + kh // 2, current)
        return cache

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "num_layers": self.num_layers,
            "kernel_size": self.kernel_size,
            "input_kernel_size": self.input_kernel_size,
            "residual": self.residual,
        }
