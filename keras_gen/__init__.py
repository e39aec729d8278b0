"""keras_gen: classic deep generative image models in backend-agnostic Keras 3.

``import keras_gen`` loads the library core (datasets, layers, models, ops,
profiles). The book's helpers, which need matplotlib, Pillow or tqdm, load on
first use: ``keras_gen.plotting``, ``keras_gen.attention_plots`` and
``keras_gen.training`` (``from keras_gen import plotting`` works as before).
"""

import importlib

from keras_gen import datasets, layers, models, ops, profiles

__version__ = "0.1.0"

# the book's helpers, imported when first used (module __getattr__, PEP 562)
_LAZY_MODULES = ("attention_plots", "plotting", "training")

__all__ = ["datasets", "layers", "models", "ops", "profiles", *_LAZY_MODULES]


def __getattr__(name):
    if name in _LAZY_MODULES:
        return importlib.import_module(f"keras_gen.{name}")
    raise AttributeError(f"module 'keras_gen' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES))
