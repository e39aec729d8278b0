"""Figures for the book: image grids, training curves and animated GIFs."""

import math

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from keras_gen.validation import to_numpy


def to_display(images):
    """Images as floats in [0, 1] with shape (N, H, W) for grey or (N, H, W, 3) for colour.

    Accepts binary or [0, 1] floats and 0..255 integers (any values above 1 mean 8-bit).
    """
    images = to_numpy(images).astype("float32")
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images must have shape (N, H, W, 1) or (N, H, W, 3), got {images.shape}.")
    if images.max(initial=0.0) > 1.0:
        images = images / 255.0
    images = np.clip(images, 0.0, 1.0)
    return images[..., 0] if images.shape[-1] == 1 else images


def tile(images, ncols=None, pad=1, pad_value=1.0):
    """One array with the images laid out on a grid, ``pad`` pixels apart."""
    images = to_display(images)
    n, h, w = images.shape[:3]
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    canvas = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad) + images.shape[3:], pad_value, "float32")
    for k, image in enumerate(images):
        r, c = divmod(k, ncols)
        canvas[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = image
    return canvas


def image_grid(images, ncols=None, title=None, ax=None, scale=0.6):
    """Show a batch of images as one grid; returns the matplotlib ``Axes``."""
    grid = tile(images, ncols)
    if ax is None:
        height, width = grid.shape[:2]
        _, ax = plt.subplots(figsize=(max(2.0, width * scale / 30), max(2.0, height * scale / 30)))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_history(history, keys=("nll",), ax=None, ylabel="nats per image"):
    """Training (and validation, when logged) curves of ``keys`` from a Keras ``History``
    or a dict of per-epoch lists (a checkpoint's stored history)."""
    logs = history.history if hasattr(history, "history") else history
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for key in keys:
        if key not in logs:
            raise ValueError(f"history has no {key!r}; it logged {sorted(logs)}.")
        epochs = np.arange(1, len(logs[key]) + 1)
        few = len(epochs) <= 30  # markers only where they can be told apart
        ax.plot(epochs, logs[key], marker="o" if few else None, label=f"train {key}")
        if f"val_{key}" in logs:
            ax.plot(epochs, logs[f"val_{key}"], marker="s" if few else None, label=f"test {key}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def save_gif(frames, path, *, fps=8, scale=4, hold_last=8):
    """Write frames (a sequence of images, grey or RGB, [0, 1] or 0..255) as a looping GIF.

    Each frame is enlarged ``scale`` times without smoothing; the last frame is shown
    ``hold_last`` times longer so the finished picture can be seen. Returns ``path``.
    """
    if len(frames) == 0:
        raise ValueError("save_gif needs at least one frame.")
    pictures = []
    for frame in frames:
        frame = to_display(np.asarray(frame)[..., None] if np.asarray(frame).ndim == 2 else frame)[0]
        pixels = (frame * 255).round().astype("uint8")
        picture = Image.fromarray(pixels, mode="L" if pixels.ndim == 2 else "RGB")
        pictures.append(picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST))
    durations = [1000 // fps] * len(pictures)
    durations[-1] *= hold_last
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=durations, loop=0)
    return path
