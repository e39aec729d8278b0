"""A shifted-convolution network evaluated one image row at a time (PixelCNN++'s cached sampler).

PixelCNN++ (Salimans et al., 2017, figure 2) is built from layers whose row r depends on
a few rows of their input at the same resolution: a stride-1 shifted convolution with a
kernel of height k on rows r - k + 1 .. r, :class:`DownShift` on row r - 1, a stride-2
one on rows 2r - 1 and 2r of the finer map, a stride-2 transposed one (kernel height 2) on
row r // 2 of the coarser map. Everything else acts on each position alone. So while
image row i is drawn, every map of resolution level l (2**l times smaller) changes only
in its row i // 2**l, and that row follows from the current rows of its inputs and a few
rows above them that are already final.

:class:`ShiftedRows` is the ``conv`` hook (:mod:`keras_gen.layers.apply`) that evaluates
each layer on that one row, taking the rows above from a cache of every layer's past
inputs. A step then costs about 1/H of a pass over the whole image, and the network is
written once, in ``PixelCNNPlusPlus.call``.
"""

from keras import ops

from keras_gen.layers.shifted_conv import DownShift, ShiftedConv2DTranspose


class ShiftedRows:
    """The ``conv`` hook evaluating a shifted-convolution network on image row ``row`` alone.

    Args:
        cache: every layer's past inputs, ``{key: (B, k, W_l, C)}`` as :meth:`advance`
            returns them, or ``None`` for the zeros above the image (and to discover
            the layers: :meth:`advance` then returns the cache of the first row).
        row: the image row (an integer, or an integer tensor in a compiled loop).
        width: the image width W; a map W / 2**l wide is at level l.

    Each layer receives its input's current row, (B, 1, W_l, C), and returns its output's.

    References:
        - Salimans, Karpathy, Chen and Kingma (2017). PixelCNN++: Improving the PixelCNN with Discretized
          Logistic Mixture Likelihood and Other Modifications. ICLR 2017.
          https://arxiv.org/abs/1701.05517
        - Ramachandran, Paine, Khorrami, Babaeizadeh, Chang, Zhang, Hasegawa-Johnson, Campbell and Huang
          (2017). Fast Generation for Convolutional Autoregressive Models. ICLR 2017 workshop.
          https://arxiv.org/abs/1704.06001

    Example::

        rows = ShiftedRows(cache, row, width=32)
        params = model.call(image_row[:, None], conv=rows)   # (B, 1, W, P): parameters of row `row`
        cache = rows.advance()                               # once the row is final
    """

    def __init__(self, cache, row, width):
        self.cache, self.row, self.width = cache, row, width
        self.past, self.inputs, self.levels = {}, {}, {}

    def __call__(self, layer, inputs):
        level = (self.width // inputs.shape[2]).bit_length() - 1
        if isinstance(layer, ShiftedConv2DTranspose):
            return self._upsample(layer, inputs, level)
        if isinstance(layer, DownShift):
            return self._past(layer, inputs, level, rows=1)
        if layer.strides == 1 and layer.kernel_size[0] == 1:
            return layer(inputs)
        if layer.strides == 1:
            past = self._past(layer, inputs, level, rows=layer.kernel_size[0] - 1)
            return layer(ops.concatenate([past, inputs], axis=1))[:, -1:]
        return self._downsample(layer, inputs, level)

    def _past(self, layer, inputs, level, rows):
        """The input rows above the current one that ``layer`` reads; records the current one."""
        key = str(id(layer))
        if self.cache is None:
            past = ops.repeat(ops.zeros_like(inputs), rows, axis=1)
        else:
            past = self.cache[key]
        self.past[key], self.inputs[key], self.levels[key] = past, inputs, level
        return past

    def _downsample(self, layer, inputs, level):
        """A stride-2 layer: output row r // 2 from input rows 2 (r // 2) - 1 and 2 (r // 2) of level ``level``."""
        if layer.strides != 2 or layer.kernel_size[0] != 2:
            raise ValueError(f"ShiftedRows takes stride-2 layers of kernel height 2, got {layer.name}.")
        past = self._past(layer, inputs, level, rows=2)
        odd = ops.equal((self.row // 2**level) % 2, 1)  # on an odd row both input rows are above it
        above = ops.where(odd, past[:, :1], past[:, 1:])
        below = ops.where(odd, past[:, 1:], inputs)
        # padded with one zero row, [0, 0, above, below]: output row 1 reads (above, below)
        return layer(ops.concatenate([ops.zeros_like(above), above, below], axis=1))[:, 1:]

    def _upsample(self, layer, inputs, level):
        """A stride-2 transposed layer: coarse row R writes fine rows 2R and 2R + 1; the one of ``row``."""
        if layer.strides != 2 or layer.kernel_size[0] != 2:
            raise ValueError(f"ShiftedRows takes transposed layers of stride 2 and kernel height 2, got {layer.name}.")
        both = layer(inputs)
        fine_row = self.row // 2 ** (level - 1)
        return ops.where(ops.equal(fine_row % 2, 0), both[:, :1], both[:, 1:])

    def advance(self):
        """The cache for the next image row, once this row is final.

        A layer at level l moves its past inputs on by the current row when this image
        row is the last of its level's row, (row + 1) % 2**l == 0; otherwise it keeps them.
        """
        cache = {}
        for key, past in self.past.items():
            moved = ops.concatenate([past[:, 1:], self.inputs[key]], axis=1)
            finished = ops.equal((self.row + 1) % 2 ** self.levels[key], 0)
            cache[key] = ops.where(finished, moved, past)
        return cache
