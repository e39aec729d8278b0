"""Recompute a loop step's intermediate values in the backward pass instead of storing them.

The recurrent layers (Row and Diagonal LSTMs, DRAW's attentive steps) run ``keras.ops.scan``
over small tensors. On JAX, XLA's CPU loops spend more time storing every step's
intermediate values for the gradient and reading them back than computing them again
from the step's carry (``benchmarks/README.md`` has the measurements), so the step is
wrapped in ``keras.remat``. What is computed is unchanged. TensorFlow cannot take the
gradient of a rematerialised function inside a ``while`` loop (its captured variables
are lost), so there the step runs as it is.
"""

import keras


def recompute_in_backward(step):
    """``keras.remat(step)`` on JAX, ``step`` itself on the other backends.

    Example::

        import numpy as np
        from keras import ops
        from keras_gen.ops.remat import recompute_in_backward

        step = recompute_in_backward(lambda carry, x: (carry + x, carry * x))
        ops.scan(step, np.float32(0), np.arange(4, dtype="float32"))   # the same as without the wrapper
    """
    return keras.remat(step) if keras.backend.backend() == "jax" else step
