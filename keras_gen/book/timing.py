"""Wall-clock timings for the chapters: a call timed twice, and the two samplers of a model compared."""

import time

import numpy as np


def timed_twice(call):
    """Run ``call()`` twice: its (second) result and the wall-clock seconds of each call.

    The first call of a compiled function also traces and compiles it; the second reuses
    the compiled graph, so the pair separates compilation from running.

    Example::

        samples, (first, second) = timed_twice(lambda: model.sample(4, seed=1))
    """
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - start)
    return result, seconds


def compare_samplers(model, num_samples, seed=0):
    """Time an autoregressive model's cached and reference samplers on the same images.

    Each sampler draws ``num_samples`` images twice (:func:`timed_twice`) with ``seed``;
    every pixel has its own fixed noise, so the two must draw the same images. Returns
    ``(lines, same)``: a few lines of text giving both calls of each sampler and the ratio
    of the second calls, and whether the images were the same.
    """
    draws, seconds = {}, {}
    for name, cached in (("cached", True), ("reference", False)):
        draws[name], seconds[name] = timed_twice(
            lambda cached=cached: model.sample(num_samples, seed=seed, batch_size=num_samples, cached=cached)
        )
    same = bool(np.array_equal(draws["cached"], draws["reference"]))
    lines = [
        f"{num_samples} samples, {name} sampler: first call {first:.1f} s (tracing and compilation included), "
        f"second call {second:.1f} s"
        for name, (first, second) in seconds.items()
    ]
    ratio = seconds["reference"][1] / seconds["cached"][1]
    lines.append(
        f"second calls: the reference sampler takes {ratio:.1f} times as long as the cached one; "
        f"the two drew the same images: {same}"
    )
    return lines, same
