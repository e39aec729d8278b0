"""The dry run: ``KERAS_GEN_STEPS=N`` runs every chapter's full-size models for a few batches.

The models know nothing of it: :func:`keras_gen.book.profiles.current` installs it in a
dry run (:func:`install`), for the rest of the process, by wrapping the models' methods
from outside:

* ``fit`` trains one epoch of at most N batches (and at most N validation batches), then
  prints the model's size, the time and the process's peak memory (``.ci/dry_run_report.py``
  collects these lines);
* ``evaluate`` runs at most N batches;
* the autoregressive samplers draw the last row only: ``sample`` and ``complete`` leave the
  rows above blank (or as given) and run the same compiled loop from the last row, as
  ``complete(x, known_rows=H - 1)`` does.

The chapters trim their epochs and their numbers of evaluated and sampled images themselves
(:meth:`keras_gen.book.profiles.Profile.cap_epochs`, :meth:`~keras_gen.book.profiles.Profile.cap_images`).
Model sizes are never trimmed.
"""

import contextlib
import functools
import os
import time

import keras
import numpy as np

from keras_gen.models.autoregressive import AutoregressiveModel
from keras_gen.models.base import GenerativeModel, keras_arguments

STEPS_VAR = "KERAS_GEN_STEPS"

_ORIGINALS = {}  # (class, method name) -> the method the dry run wraps, while installed
_STATE = {"steps": None}


def dry_run_steps():
    """N of ``KERAS_GEN_STEPS=N`` (a dry run: at most N batches per ``fit``), else None."""
    value = os.environ.get(STEPS_VAR, "").strip()
    if not value:
        return None
    try:
        steps = int(value)
    except ValueError:
        steps = 0
    if steps < 1:
        raise ValueError(f"{STEPS_VAR} must be a positive number of batches, got {value!r}.")
    return steps


def installed_steps():
    """N of the dry run installed in this process, or None."""
    return _STATE["steps"]


def peak_memory_mib():
    """Peak resident memory of this process so far (``getrusage`` max RSS), in MiB; None where unknown."""
    try:
        import resource
        import sys
    except ImportError:  # not on Unix
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def fit_arguments(arguments, steps):
    """``fit``'s arguments (by name) for a dry run: one epoch of at most ``steps`` batches."""
    arguments = dict(arguments, epochs=1, initial_epoch=0)
    arguments["steps_per_epoch"] = min(steps, arguments.get("steps_per_epoch") or steps)
    if arguments.get("validation_data") is not None:
        arguments["validation_steps"] = min(steps, arguments.get("validation_steps") or steps)
    return arguments


def report(model, seconds):
    """The line a dry run prints after each ``fit``: the model's size and the process's peak memory."""
    peak = peak_memory_mib()
    memory = f"{peak:,.0f} MiB" if peak is not None else "unknown"
    print(
        f"dry run ({STEPS_VAR}={installed_steps()}): {model.name}, {model.count_params():,} parameters, "
        f"fit in {seconds:.0f} s; peak memory of this process {memory}",
        flush=True,
    )


def _fit(fit):
    @functools.wraps(fit)
    def dry_fit(model, *args, **kwargs):
        arguments = keras_arguments(keras.Model.fit.__get__(model), args, kwargs)
        start = time.time()
        history = fit(model, **fit_arguments(arguments, installed_steps()))
        report(model, time.time() - start)
        return history

    return dry_fit


def _evaluate(evaluate):
    @functools.wraps(evaluate)
    def dry_evaluate(model, *args, **kwargs):
        arguments = keras_arguments(keras.Model.evaluate.__get__(model), args, kwargs)
        arguments["steps"] = min(installed_steps(), arguments.get("steps") or installed_steps())
        return evaluate(model, **arguments)

    return dry_evaluate


def _complete(complete):
    @functools.wraps(complete)
    def dry_complete(model, x, known_rows, seed=None, **kwargs):
        last_row = model.image_shape[0] - 1
        if isinstance(known_rows, (int, np.integer)) and 0 <= known_rows < last_row:
            x = np.array(model.check_images(x))
            x[:, known_rows:] = 0  # the rows to draw start blank; only the last one is drawn
            known_rows = last_row
        return complete(model, x, known_rows, seed, **kwargs)

    return dry_complete


def _sample(sample):
    @functools.wraps(sample)
    def dry_sample(model, n, seed=None, **kwargs):
        blank = np.zeros((n,) + model.image_shape, "float32" if model.data_type == "binary" else "uint8")
        return model.complete(blank, model.image_shape[0] - 1, seed, **kwargs)

    return dry_sample


_WRAPPERS = {
    (GenerativeModel, "fit"): _fit,
    (GenerativeModel, "evaluate"): _evaluate,
    (AutoregressiveModel, "complete"): _complete,
    (AutoregressiveModel, "sample"): _sample,
}


def install(steps):
    """Make this process a dry run of ``steps`` batches per ``fit`` (see the module docstring)."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive number of batches, got {steps!r}.")
    _STATE["steps"] = int(steps)
    for (cls, name), wrap in _WRAPPERS.items():
        if (cls, name) not in _ORIGINALS:
            _ORIGINALS[cls, name] = cls.__dict__[name]
            setattr(cls, name, wrap(_ORIGINALS[cls, name]))


def uninstall():
    """Undo :func:`install`: the models' own methods again."""
    for (cls, name), original in list(_ORIGINALS.items()):
        setattr(cls, name, original)
        del _ORIGINALS[cls, name]
    _STATE["steps"] = None


@contextlib.contextmanager
def installed(steps):
    """A dry run of ``steps`` batches per ``fit`` inside a ``with`` block (tests)."""
    install(steps)
    try:
        yield
    finally:
        uninstall()
