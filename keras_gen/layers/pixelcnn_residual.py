"""The residual block of PixelCNN (van den Oord et al., 2016a, section 3.5 and figure 5)."""

import keras
from keras import ops

from keras_gen.layers.apply import apply_layer
from keras_gen.layers.masked_conv import MaskedConv2D
from keras_gen.layers.policy import share_dtype_policy
from keras_gen.validation import check_int, check_kernel_size, input_spec_like


@keras.saving.register_keras_serializable(package="keras_gen")
class PixelCNNResidualBlock(keras.layers.Layer):
    """The residual block of figure 5: ReLU, 1×1 to ``h``, ReLU, k×k, ReLU, 1×1 back to ``2h``, plus the input.

    Every convolution has mask B, so the block keeps the causal order of its input.

    Args:
        filters: feature maps 2h of the input and output (the bottleneck has h).
        kernel_size: odd size of the spatial convolution (3 in the paper), or a pair.
        color_channels: 1, or C colour groups (R → G → B) that every mask keeps apart.

    Example::

        import numpy as np
        from keras_gen import layers

        h = np.random.default_rng(0).normal(size=(2, 5, 5, 8)).astype("float32")
        block = layers.PixelCNNResidualBlock(8, kernel_size=3)
        block(h).shape                                       # (2, 5, 5, 8): the input plus the residual

    Reference:
        - van den Oord, Kalchbrenner and Kavukcuoglu (2016a). Pixel Recurrent Neural Networks. ICML 2016.
          https://arxiv.org/abs/1601.06759
    """

    def __init__(self, filters, kernel_size=3, color_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.kernel_size = check_kernel_size(kernel_size)
        self.color_channels = check_int("color_channels", color_channels)
        half = self.filters // 2
        self.reduce = MaskedConv2D(half, 1, "B", color_channels, activation="relu", name="reduce")
        self.spatial = MaskedConv2D(half, kernel_size, "B", color_channels, activation="relu", name="spatial")
        self.expand = MaskedConv2D(self.filters, 1, "B", color_channels, name="expand")

    def build(self, input_shape):
        share_dtype_policy(self)
        self.input_spec = input_spec_like(input_shape)
        self.reduce.build(input_shape)
        bottleneck = tuple(input_shape[:-1]) + (self.filters // 2,)
        self.spatial.build(bottleneck)
        self.expand.build(bottleneck)

    def call(self, inputs, conv=apply_layer):
        """The block; ``conv(layer, inputs)`` applies each masked convolution (see ``PixelCNN.call``)."""
        return inputs + conv(self.expand, conv(self.spatial, conv(self.reduce, ops.relu(inputs))))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "color_channels": self.color_channels,
        }
