"""The book's trained models, shipped with the package (``keras_gen/checkpoints``).

Each checkpoint is a weights file ``NAME.weights.h5`` and its metadata ``NAME.json``,
both written by ``python -m keras_gen.train NAME`` (see :mod:`keras_gen.train`): the
model class and configuration, the data, epochs, training time, hardware, backend,
the per-epoch history, the test NLL and ``check_nll``, the NLL of the first 500 test
images computed with ``log_prob(x)``, which anyone can recompute.

Example:

    from keras_gen import pretrained
    pretrained.names()                      # ['pixelcnn', 'vae', ...]
    model = pretrained.load("pixelcnn")     # a built PixelCNN with its trained weights
    pretrained.info("pixelcnn")["test_nll"]
"""

import json
import os

from keras_gen import models
from keras_gen.train import CHECKPOINT_DIR, command, sha256


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, or does not match the model asked for."""


def _paths(name, directory):
    return os.path.join(directory, f"{name}.json"), os.path.join(directory, f"{name}.weights.h5")


def names(directory=CHECKPOINT_DIR):
    """The checkpoints shipped in ``directory``, sorted."""
    if not os.path.isdir(directory):
        return []
    return sorted(f[: -len(".json")] for f in os.listdir(directory) if f.endswith(".json"))


def info(name, directory=CHECKPOINT_DIR):
    """The metadata of checkpoint ``name`` as a dict (see the module docstring)."""
    metadata, _ = _paths(name, directory)
    if not os.path.exists(metadata):
        raise CheckpointError(
            f"no checkpoint named {name!r} in {directory} (shipped: {names(directory)}); "
            f"make it with `{command(name)}`."
        )
    with open(metadata) as f:
        return json.load(f)


def _comparable(config):
    """A config with tuples as lists, as it comes back from JSON."""
    return json.loads(json.dumps(config))


def load(name, model=None, directory=CHECKPOINT_DIR):
    """Checkpoint ``name``'s trained model.

    Without ``model``, the model is built from the stored class and configuration.
    With ``model``, the weights are loaded into it after checking that its class and
    configuration are the checkpoint's. The weights file must match the SHA-256 in
    the metadata. Every failure raises :class:`CheckpointError` naming the command
    that makes the checkpoint.
    """
    meta = info(name, directory)
    _, weights = _paths(name, directory)
    remake = f"make it again with `{command(name)}`"
    if not os.path.exists(weights):
        raise CheckpointError(f"the weights of checkpoint {name!r} are missing ({weights}); {remake}.")
    if sha256(weights) != meta["sha256"]:
        raise CheckpointError(
            f"{weights} does not match the SHA-256 in its metadata (a corrupt or replaced file); {remake}."
        )
    if model is None:
        model = getattr(models, meta["model"]).from_config(meta["config"])
    else:
        if type(model).__name__ != meta["model"]:
            raise CheckpointError(
                f"checkpoint {name!r} holds a {meta['model']}, not a {type(model).__name__}; {remake} "
                f"with that model, or load it without passing a model."
            )
        given, stored = _comparable(model.get_config()), meta["config"]
        # Keras's own entries (``trainable``, ``dtype``) are compared only where the checkpoint records them
        keys = (set(given) | set(stored)) - {"name"} - ({"trainable", "dtype"} - set(stored))
        differ = sorted(k for k in keys if given.get(k) != stored.get(k))
        if differ:
            detail = ", ".join(f"{k}: {given.get(k)!r} here, {stored.get(k)!r} in the checkpoint" for k in differ)
            raise CheckpointError(f"the model does not match checkpoint {name!r} ({detail}); {remake}.")
    try:
        model.load_weights(weights)
    except (ValueError, OSError) as error:
        raise CheckpointError(
            f"checkpoint {name!r} could not be loaded into {model.name}: {error}; {remake}."
        ) from error
    return model


def describe(name, directory=CHECKPOINT_DIR):
    """How, on what and how long checkpoint ``name`` was trained, in one paragraph (for the chapters)."""
    meta = info(name, directory)
    data, training = meta["data"], meta["training"]
    planned = meta.get("planned_epochs", meta["epochs"])
    epochs = f"{meta['epochs']} epoch{'' if meta['epochs'] == 1 else 's'}" + (
        f" (of a planned {planned}; the run goes on)" if planned != meta["epochs"] else ""
    )
    return (
        f"checkpoint {name!r}: {meta['model']}, {epochs} on {data['train_images']:,} images of {data['dataset']}, "
        f"batch {training['batch_size']}, {training['optimizer']} with {training['learning_rate']}; "
        f"{meta['train_seconds'] / 3600:.1f} h of training on {meta['hardware']}, {meta['backend']} backend, "
        f"Keras {meta['keras_version']}, commit {str(meta['commit'])[:12]}. "
        f"Recorded test NLL {meta['test_nll']:.2f} nats ({meta['test_how']}, {meta['test_images']:,} images). "
        f"Made by `{meta['command']}`."
    )
