"""The check every cached sampler's tests run: cached and reference samplers draw the same images.

For the same seed, ``sample`` and ``complete`` must give exactly the same images
with ``cached=True`` (per-layer state, only what each new sub-pixel changes) as
with ``cached=False`` (the reference sampler, which reruns the network). Images are
compared for exact equality; random biases keep every layer's units active, so
that the caches of all layers matter.
"""

import numpy as np
from keras import ops


def randomise_biases(model, rng, scale=0.3):
    """Random biases, so that no ReLU or gate is idle for every input and hides a stale cache."""
    for weight in model.weights:
        if weight.path.endswith("bias"):
            weight.assign(rng.normal(scale=scale, size=weight.shape).astype("float32"))


def assert_cached_equals_reference(model, n=3, seed=11, known_rows=None, batch_size=2, **conditions):
    """Cached and reference samplers agree on ``sample`` and on ``complete`` for every ``known_rows``."""
    assert model.has_cached_sampler
    reference = model.sample(n, seed=seed, batch_size=batch_size, cached=False, **conditions)
    np.testing.assert_array_equal(model.sample(n, seed=seed, batch_size=batch_size, **conditions), reference)
    height = model.image_shape[0]
    for rows in known_rows if known_rows is not None else (1, height // 2, height - 1):
        expected = model.complete(reference, rows, seed=seed + rows, batch_size=batch_size, cached=False, **conditions)
        completed = model.complete(reference, rows, seed=seed + rows, batch_size=batch_size, cached=True, **conditions)
        np.testing.assert_array_equal(completed, expected)
        np.testing.assert_array_equal(completed[:, :rows], reference[:, :rows])


def assert_cached_params_equal_the_network(model, images, **conditions):
    """Fed ``images`` sub-pixel by sub-pixel, the cached sampler's parameters at every pixel are the network's.

    A finer check than equal images: a slightly stale state seldom changes a draw.
    The parameters at a pixel are taken at its last step, when every channel they
    may depend on is in place.
    """
    height, width, channels = model.image_shape
    steps = channels if model.head.per_channel else 1
    expected = ops.convert_to_numpy(model(model.join_inputs(images, conditions)))
    cache = model.sampling_cache(ops.zeros(images.shape), conditions, 0)
    for row in range(height):
        cache, row_state = model.start_row(cache, row)
        for column in range(width):
            for step in range(steps):
                image_row = np.array(images[:, row], "float32")
                image_row[:, column:] = 0.0
                image_row[:, column, :step] = images[:, row, column, :step]
                params, row_state = model.cached_params(cache, row_state, ops.convert_to_tensor(image_row), row, column)
            np.testing.assert_allclose(
                ops.convert_to_numpy(params)[:, 0, 0], expected[:, row, column], rtol=1e-5, atol=1e-5
            )
        cache = model.finish_row(cache, row_state, ops.convert_to_tensor(images[:, row], "float32"), row)
