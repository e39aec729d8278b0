"""PixelRNN (van den Oord et al., 2016a, sections 3.1–3.4 and table 1).

A 7×7 mask-A convolution, a stack of residual LSTM blocks (Row LSTM or Diagonal
BiLSTM), two ReLU + 1×1 mask-B layers, and the output head. Optionally the network
is conditioned on a smaller image, upsampled by a learned deconvolution and added
as a bias to the input-to-state map of every LSTM layer: the conditional network of
the multi-scale PixelRNN (section 3.4, ``keras_gen.models.MultiScalePixelRNN``).
"""

import keras
from keras import layers, ops

from keras_gen.layers.masked_conv import MaskedConv2D
from keras_gen.layers.residual_lstm import LAYER_TYPES, ResidualLSTMBlock
from keras_gen.models.autoregressive import AutoregressiveModel
from keras_gen.validation import check_choice, check_image_shape, check_int, check_kernel_size


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
        self.num_layers, self.units = check_int("num_layers", num_layers), int(units)
        self.kernel_size = int(kernel_size)
        self.input_kernel_size = check_kernel_size(input_kernel_size, "input_kernel_size")
        self.residual, self.skip = bool(residual), bool(skip)
        channels = self.image_shape[2]
        groups = channels if self.head.per_channel else 1
        if self.units < groups or self.units % groups:
            raise ValueError(
                f"units must be a positive multiple of {groups} (the colour groups of a {channels}-channel "
                f"image), got {units!r}."
            )
        self.small_image_shape = None if small_image_shape is None else check_image_shape(small_image_shape)
        if self.small_image_shape is not None:
            self.condition_names = ("small_image",)
            self.upsample = self._upsampler()
        condition_channels = None if self.small_image_shape is None else 2 * self.units
        self.input_conv = MaskedConv2D(2 * self.units, self.input_kernel_size, "A", groups, name="input_conv")
        self.blocks = [
            ResidualLSTMBlock(
                self.layer_type, self.units, self.kernel_size, groups, condition_channels, self.residual,
                name=f"block_{k}",
            )
            for k in range(self.num_layers)
        ]
        if self.skip:
            self.skip_convs = [
                MaskedConv2D(2 * self.units, 1, "B", groups, name=f"skip_{k}") for k in range(self.num_layers)
            ]
        self.output_hidden = MaskedConv2D(2 * self.units, 1, "B", groups, activation="relu", name="output_hidden")
        self.output_conv = MaskedConv2D(self.head.num_outputs(channels), 1, "B", groups, name="output_conv")
        self.create_weights()

    def _upsampler(self):
        """The learned deconvolution from the small image to a (H, W, 2h) conditioning map."""
        height, width, channels = self.image_shape
        small_height, small_width, small_channels = self.small_image_shape
        if small_channels != channels or height % small_height or width % small_width:
            raise ValueError(
                f"small_image_shape must have the image's {channels} channel(s) and a height and width that "
                f"divide {height}×{width}, got {self.small_image_shape}."
            )
        factor = (height // small_height, width // small_width)
        return keras.Sequential(
            [
                layers.Conv2D(2 * self.units, 3, padding="same", activation="relu"),
                layers.Conv2DTranspose(
                    2 * self.units, tuple(2 * f for f in factor), strides=factor, padding="same", activation="relu"
                ),
            ],
            name="upsample",
        )

    def create_weights(self):
        """Create every weight with one symbolic call: traced, never run (recurrent loops compile slowly)."""
        dtype = "float32" if self.data_type == "binary" else "int32"
        shapes = {"image": self.image_shape, "small_image": self.small_image_shape}
        inputs = {name: keras.KerasTensor((1,) + shape, dtype) for name, shape in shapes.items() if shape}
        self(self.join_inputs(inputs.pop("image"), inputs))

    def hidden_features(self, inputs, depth=None):
        """Feature maps after the mask-A layer and the first ``depth`` blocks (all by default).

        With ``skip=True`` the sum of those blocks' skip convolutions.
        """
        image, conditions = self.split_inputs(inputs)
        condition = None
        if self.small_image_shape is not None:
            condition = self.upsample(self.scale_image(conditions["small_image"]))
        h = self.input_conv(self.scale_image(image))
        skipped = []
        for k, block in enumerate(self.blocks[:depth]):
            h = block(h, condition=condition)
            if self.skip:
                skipped.append(self.skip_convs[k](h))
        return ops.sum(ops.stack(skipped), axis=0) if skipped else h

    def call(self, inputs, training=False):
        h = self.output_hidden(ops.relu(self.hidden_features(inputs)))
        return self.head.params(self.output_conv(h), self.image_shape[2])

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
