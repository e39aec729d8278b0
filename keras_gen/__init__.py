"""keras_gen: classic deep generative image models in backend-agnostic Keras 3.

``import keras_gen`` loads the library core (datasets, layers, models, ops). The book's
tooling (run profiles, the dry run, time estimates, timings, figures, progress bars) lives
in :mod:`keras_gen.book`, which the core never imports: ``from keras_gen.book import plotting``.
``keras_gen.profiles``, the name the design contract gives the run profiles
(``keras_gen.profiles.current()``), is :mod:`keras_gen.book.profiles`, loaded on first use.
"""

import importlib

from keras_gen import datasets, layers, models, ops

__version__ = "0.1.0"

__all__ = ["datasets", "layers", "models", "ops"]


def __getattr__(name):  # PEP 562: the contract's keras_gen.profiles without importing the book eagerly
    if name == "profiles":
        return importlib.import_module("keras_gen.book.profiles")
    raise AttributeError(f"module 'keras_gen' has no attribute {name!r}")
