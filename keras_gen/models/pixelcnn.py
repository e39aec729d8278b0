"""PixelCNN (van den Oord et al., 2016a, section 3.5 and table 2): a stack of masked convolutions."""

import keras

from keras_gen.layers.masked_conv import MaskedConv2D
from keras_gen.models.autoregressive import AutoregressiveModel
from keras_gen.validation import check_int, check_kernel_size


@keras.saving.register_keras_serializable(package="keras_gen")
class PixelCNNResidualBlock(keras.layers.Layer):
    """The residual block of figure 5: ReLU, 1×1 to ``h``, ReLU, k×k, ReLU, 1×1 back to ``2h``, plus the input.

    Every convolution has mask B, so the block keeps the causal order of its input.
    """

    def __init__(self, filters, kernel_size=3, color_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.color_channels = int(filters), kernel_size, color_channels
        half = self.filters // 2
        self.reduce = MaskedConv2D(half, 1, "B", color_channels, activation="relu", name="reduce")
        self.spatial = MaskedConv2D(half, kernel_size, "B", color_channels, activation="relu", name="spatial")
        self.expand = MaskedConv2D(self.filters, 1, "B", color_channels, name="expand")

    def build(self, input_shape):
        self.reduce.build(input_shape)
        bottleneck = tuple(input_shape[:-1]) + (self.filters // 2,)
        self.spatial.build(bottleneck)
        self.expand.build(bottleneck)

    def call(self, inputs):
        return inputs + self.expand(self.spatial(self.reduce(keras.ops.relu(inputs))))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "color_channels": self.color_channels,
        }


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
        self.filters, self.residual = int(filters), bool(residual)
        self.num_layers = check_int("num_layers", num_layers, minimum=0)
        self.kernel_size = check_kernel_size(kernel_size)
        self.input_kernel_size = check_kernel_size(input_kernel_size, "input_kernel_size")
        channels = self.image_shape[2]
        groups = channels if self.head.per_channel else 1
        divisor = 2 * groups if self.residual else groups
        if self.filters < divisor or self.filters % divisor:
            raise ValueError(
                f"filters must be a positive multiple of {divisor} for {channels} colour group(s)"
                f"{' and residual blocks (a bottleneck of filters // 2 maps)' if self.residual else ''}, "
                f"got {filters!r}."
            )
        self.input_conv = MaskedConv2D(self.filters, self.input_kernel_size, "A", groups, name="input_conv")
        self.blocks = [
            PixelCNNResidualBlock(self.filters, self.kernel_size, groups, name=f"block_{k}")
            if self.residual
            else MaskedConv2D(self.filters, self.kernel_size, "B", groups, name=f"block_{k}")
            for k in range(self.num_layers)
        ]
        self.output_hidden = MaskedConv2D(self.filters, 1, "B", groups, activation="relu", name="output_hidden")
        self.output_conv = MaskedConv2D(self.head.num_outputs(channels), 1, "B", groups, name="output_conv")
        self.create_weights()

    @property
    def rows_above(self):
        return self.input_kernel_size[0] // 2 + self.num_layers * (self.kernel_size[0] // 2)

    @property
    def columns_around(self):
        return self.input_kernel_size[1] // 2 + self.num_layers * (self.kernel_size[1] // 2)

    def hidden_features(self, x, depth=None):
        """Feature maps after the mask-A layer and the first ``depth - 1`` blocks (all by default)."""
        h = self.input_conv(self.scale_image(x))
        for block in self.blocks[: None if depth is None else depth - 1]:
            h = block(h) if self.residual else block(keras.ops.relu(h))
        return h

    def call(self, inputs, training=False):
        h = self.output_hidden(keras.ops.relu(self.hidden_features(inputs)))
        return self.head.params(self.output_conv(h), self.image_shape[2])

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "num_layers": self.num_layers,
            "kernel_size": self.kernel_size,
            "input_kernel_size": self.input_kernel_size,
            "residual": self.residual,
        }
