"""How a network applies its convolutions: ``conv(layer, inputs)``.

PixelCNN, its residual blocks, PixelCNN++ and its gated ResNet blocks take a ``conv``
argument and apply every convolution that looks beyond the current pixel through it. By
default (:func:`apply_layer`) each runs on whole feature maps; a cached sampler passes a
hook that runs it on one pixel or one row from the inputs it kept (``PixelCNN.cached_params``,
:class:`keras_gen.layers.shifted_rows.ShiftedRows`), so one definition of the network serves both.
"""


def apply_layer(layer, inputs):
    """``layer(inputs)``: the layer on whole feature maps."""
    return layer(inputs)
