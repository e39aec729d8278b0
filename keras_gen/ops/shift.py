"""Pixel shifts: a map moved one row down or one column right, zeros filling the gap.

The causal building block of the stacks that see only "above" or "left": the
Gated PixelCNN's horizontal stack takes the vertical stack shifted down
(van den Oord et al., 2016b, figure 2), PixelCNN++'s streams start from the image
shifted down and right (Salimans et al., 2017), and the Diagonal BiLSTM shifts its
right-to-left direction down one row (van den Oord et al., 2016a, section 3.2).
"""

from keras import ops


def down_shift(x):
    """(B, H, W, C) moved one row down: a zero row on top, the last row dropped."""
    return ops.pad(x, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]


def right_shift(x):
    """(B, H, W, C) moved one column right: a zero column on the left, the last column dropped."""
    return ops.pad(x, [[0, 0], [0, 0], [1, 0], [0, 0]])[:, :, :-1]
