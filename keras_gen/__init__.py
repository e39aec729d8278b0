"""keras_gen: classic deep generative image models in backend-agnostic Keras 3."""

from keras_gen import datasets, layers, models, ops, plotting, profiles, training

__version__ = "0.1.0"
__all__ = ["datasets", "layers", "models", "ops", "plotting", "profiles", "training"]
