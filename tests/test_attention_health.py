"""DRAW's attention-health statistics on hand-made windows give the values worked out by hand."""

import math

import numpy as np
import pytest

from keras_gen.attention_health import attention_health, border_share

IMAGE = (28, 28, 1)


def window(center_x, center_y, stride=1.0, variance=0.01, intensity=1.0):
    return [center_x, center_y, stride, variance, intensity]


def test_border_share_of_sharp_windows_is_where_their_filters_sit():
    # 2×2 filters one pixel apart, sharp enough to fall on single pixels (i - N/2 - 0.5 = -0.5, +0.5)
    inside = window(13.5, 13.5)  # filters on pixels 13 and 14: all mass inside
    corner = window(0.5, 0.5)  # filters on pixels 0 and 1: all mass on the border
    edge = window(0.5, 13.5)  # on the border in x only: still all on the border
    shares = border_share(np.array([inside, corner, edge]), 2, IMAGE)
    np.testing.assert_allclose(shares, [0.0, 1.0, 1.0], atol=1e-6)


def test_border_share_of_a_window_half_on_the_border():
    # 2×2 filters on pixels 1 and 2 in x (1 is border, 2 interior), 13 and 14 in y: half the mass on the border
    np.testing.assert_allclose(border_share(np.array(window(1.5, 13.5)), 2, IMAGE), 0.5, atol=1e-6)


def test_attention_health_summarises_hand_made_windows():
    # three digits, two steps; the read centres differ between digits in x only
    read = np.array([[window(cx, 13.5, stride=2.0, variance=4.0)] * 2 for cx in (10.0, 12.0, 14.0)])
    write = np.array([[window(13.5, 13.5, stride=3.0, variance=1e-4), window(0.5, 0.5, stride=1.0, variance=1e-4)]] * 3)
    kl = np.array([[1.0, 3.0]] * 3)  # the running sum: 1 nat at step 1, 2 at step 2
    stats = attention_health({"read_window": read, "write_window": write, "kl": kl}, 2, 2, IMAGE)
    assert stats["read_center_spread"] == pytest.approx(math.sqrt((8 / 3) / 2))  # var_x = 8/3, var_y = 0
    assert stats["write_center_spread"] == pytest.approx(0.0)
    assert stats["read_stride"] == pytest.approx(2.0) and stats["read_sigma"] == pytest.approx(2.0)
    assert stats["write_stride"] == pytest.approx(2.0) and stats["write_sigma"] == pytest.approx(0.01)
    assert stats["write_border_share"] == pytest.approx(0.5, abs=1e-6)  # step 1 inside, step 2 in the corner
    assert stats["kl_per_step"] == pytest.approx([1.0, 2.0])


def test_attention_health_rejects_windows_of_the_wrong_shape():
    with pytest.raises(ValueError, match="digits, steps, 5"):
        attention_health(
            {"read_window": np.zeros((3, 5)), "write_window": np.zeros((3, 2, 5)), "kl": np.zeros((3, 2))}, 2, 2, IMAGE
        )
