"""Pictures of DRAW's attention: each step's canvas with its read and write windows drawn as boxes."""

import numpy as np

from keras_gen.book.plotting import tile, to_display

READ_COLOR = (1.0, 0.2, 0.2)
WRITE_COLOR = (0.2, 1.0, 0.2)
MARGIN_GREY = 0.3


def window_box(window, grid_size):
    """``(left, top, right, bottom)`` in pixel coordinates of what an N×N window covers.

    ``window`` holds ``(center_x, center_y, stride, ...)`` as the DRAW model reports it;
    the N filter centres lie ``stride`` apart around the centre, so the box is
    ``N · stride`` wide: half a stride beyond the outermost centres on either side.
    """
    center_x, center_y, stride = (float(v) for v in np.asarray(window)[:3])
    half = grid_size * stride / 2
    return center_x - half, center_y - half, center_x + half, center_y + half


def draw_box(frame, box, color, scale):
    """Draw the outline of ``box`` (pixel coordinates) on an RGB ``frame`` enlarged ``scale`` times, in place.

    Pixel ``a`` covers ``[a - 0.5, a + 0.5]``; the parts of the box outside the frame are left out.
    """
    height, width = frame.shape[:2]
    left, top, right, bottom = (int(round((value + 0.5) * scale)) for value in box)
    rows = slice(max(top, 0), min(bottom, height - 1) + 1)
    cols = slice(max(left, 0), min(right, width - 1) + 1)
    for x in (left, right):
        if 0 <= x < width:
            frame[rows, x] = color
    for y in (top, bottom):
        if 0 <= y < height:
            frame[y, cols] = color
    return frame


def attention_frames(canvases, windows=(), *, scale=4, margin=0, ncols=None):
    """One picture per drawing step: every image's canvas, enlarged, with its windows as boxes.

    Args:
        canvases: (B, T, H, W, C) canvases in [0, 1], e.g. ``trace["canvases"]`` of a
            DRAW generation or reconstruction trace.
        windows: pairs ``(window, grid_size)`` or triples ``(window, grid_size, color)``
            where ``window`` is (B, T, 5) as in ``trace["write_window"]``; the read window
            is conventionally red and the write window green.
        scale: enlargement of each canvas, so that boxes can fall between pixels.
        margin: a grey border of this many pixels around each canvas, where the parts of
            windows that reach beyond the image stay visible.
        ncols: images per row of the grid.

    Returns:
        (T, height, width, 3) RGB frames in [0, 1], for ``keras_gen.book.plotting.save_gif``.
    """
    canvases = np.asarray(canvases)
    if canvases.ndim != 5:
        raise ValueError(f"canvases must have shape (batch, steps, height, width, channels), got {canvases.shape}.")
    batch, steps = canvases.shape[:2]
    boxes = []
    for entry in windows:
        window, grid_size, color = entry if len(entry) == 3 else (*entry, WRITE_COLOR)
        window = np.asarray(window)
        if window.shape[:2] != (batch, steps):
            raise ValueError(
                f"a window must have shape ({batch}, {steps}, 5) to match the canvases, got {window.shape}."
            )
        boxes.append((window, grid_size, color))
    frames = []
    border = ((0, 0), (margin * scale, margin * scale), (margin * scale, margin * scale), (0, 0))
    for step in range(steps):
        images = to_display(canvases[:, step])
        images = np.repeat(np.repeat(images, scale, axis=1), scale, axis=2)
        rgb = np.repeat(images[..., None], 3, axis=-1) if images.ndim == 3 else images
        rgb = np.pad(rgb, border, constant_values=MARGIN_GREY)
        for window, grid_size, color in boxes:
            for image, box_window in zip(rgb, window[:, step], strict=True):
                box = tuple(value + margin for value in window_box(box_window, grid_size))
                draw_box(image, box, color, scale)
        frames.append(tile(rgb, ncols))
    return np.stack(frames)
