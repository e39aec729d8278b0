"""Run a model's tensor function over many inputs inside Keras's compiled predict loop.

Keras compiles ``predict`` on every backend (``tf.function`` on TensorFlow, ``jax.jit``
on JAX), so wrapping a function in a tiny ``keras.Model`` gives compiled, batched
evaluation and sampling without touching a backend directly. Each wrapper is made
once per model and purpose, so its graph is traced once and reused.
"""

import logging

import keras
import numpy as np

from keras_gen.validation import check_int, resolve_seed


class _SkipRetracingNotice(logging.Filter):
    """Each runner compiles its own predict function by design; TensorFlow counts those
    as "retracing" of one function and warns. Drop only that notice."""

    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


logging.getLogger("tensorflow").addFilter(_SkipRetracingNotice())


class GraphRunner(keras.Model):
    """Calls ``fn(inputs, seed_generator)``, where ``fn`` uses the layers of ``target``.

    ``jit_compile`` as for ``Model.compile``: ``"auto"`` lets Keras choose (XLA on JAX and
    on TensorFlow with an accelerator, not on a TensorFlow CPU), ``True`` asks for XLA.
    """

    def __init__(self, target, fn, jit_compile="auto"):
        super().__init__(name=f"{target.name}_runner")
        self.target = target
        self.fn = fn
        self.seed_generator = keras.random.SeedGenerator(0)
        # No weights of its own to create: marked built, so that JAX's ``predict`` does not
        # first run ``fn`` eagerly on one batch (slow for graphs with traced loops).
        self.built = True
        if jit_compile != "auto":
            self.jit_compile = jit_compile

    def call(self, inputs):
        return self.fn(inputs, self.seed_generator)


def forget_runners(model):
    """Drop the runners of ``model`` and of the models inside it (they are made again when needed).

    A runner tracks its model's layers, and Keras's weight files walk every attribute:
    without this, saving writes the runners too and loading recurses through the cycle
    model → runner → model (a ``RecursionError`` in ``load_weights`` after ``log_prob``).
    """
    for layer in model._flatten_layers(include_self=True, recursive=True):
        layer.__dict__.pop("_graph_runners", None)


def run_compiled(model, key, fn, inputs, *, batch_size, seed=None, jit_compile="auto"):
    """Apply ``fn`` batch by batch to the dict of arrays ``inputs``; returns NumPy.

    ``key`` names the purpose (with any static settings) so the compiled graph is
    reused across calls; ``seed`` fixes the random numbers that ``fn`` draws from its
    seed generator (``None`` draws a seed from NumPy's global generator, which
    ``keras.utils.set_random_seed`` also seeds). ``jit_compile`` as for :class:`GraphRunner`,
    fixed when the graph for ``key`` is first made.
    """
    batch_size = check_int("batch_size", batch_size)
    runners = model.__dict__.setdefault("_graph_runners", {})
    if key not in runners:
        runners[key] = GraphRunner(model, fn, jit_compile)
    runner = runners[key]
    runner.seed_generator.state.assign(np.array([resolve_seed(seed), 0], dtype="uint32"))
    return runner.predict(inputs, batch_size=batch_size, verbose=0)
