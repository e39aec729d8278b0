"""keras_gen: classic deep generative image models in backend-agnostic Keras 3.

``import keras_gen`` loads the library core (datasets, layers, models, ops). The book's
tooling (run profiles, the dry run, time estimates, timings, figures, progress bars) lives
in :mod:`keras_gen.book`, which the core never imports: ``from keras_gen.book import plotting``.
"""

from keras_gen import datasets, layers, models, ops

__version__ = "0.1.0"

__all__ = ["datasets", "layers", "models", "ops"]
