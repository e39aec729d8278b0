"""The book's trained models, shipped with the package (``keras_gen/checkpoints``).

Each checkpoint is a weights file ``NAME.weights.h5`` and its metadata ``NAME.json``,
both written by ``python -m keras_gen.train NAME`` (see :mod:`keras_gen.train`): the
model class and configuration, the data, epochs, training time, hardware, backend,
the per-epoch history, the test NLL and ``check_nll``, the NLL of the first 500 test
images computed with ``log_prob(x)``, which anyone can recompute. :func:`info` adds ``metric``,
the name of what ``test_nll`` measures (exact NLL, ELBO or importance-weighted bound), and
:func:`results_rows` gives one summary row per checkpoint (the book's Results appendix).
The runs of a study (:class:`keras_gen.recipes.Study`) are named ``STUDY/RUN`` and ship
the same metadata (weights only where a chapter samples from them); :func:`study` loads
a whole study.

Example:

    from keras_gen import pretrained
    pretrained.names()                      # ['pixelcnn', 'vae', ...]
    model = pretrained.load("pixelcnn")     # a built PixelCNN with its trained weights
    pretrained.info("pixelcnn")["test_nll"]
    pretrained.study("pixelrnn_depth")["runs"]["layers_4"]["test_nll"]
"""

import hashlib
import inspect
import json
import os
import re

import numpy as np

from keras_gen import models
from keras_gen.recipes import CHECKPOINT_DIR, STUDIES, Recipe, command, location


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, or does not match the model asked for."""


def sha256(path):
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _paths(name, directory):
    """The metadata and weights files of checkpoint or study run ``name`` (``directory``: where they are instead)."""
    default, stem = location(name)
    directory = directory or default
    return os.path.join(directory, f"{stem}.json"), os.path.join(directory, f"{stem}.weights.h5")


def names(directory=CHECKPOINT_DIR):
    """The checkpoints shipped in ``directory``, sorted."""
    if not os.path.isdir(directory):
        return []
    return sorted(f[: -len(".json")] for f in os.listdir(directory) if f.endswith(".json"))


def info(name, directory=None):
    """The metadata of checkpoint or study run ``name`` as a dict (see the module docstring), with ``metric``
    and ``hours`` (of training) added."""
    metadata, _ = _paths(name, directory)
    if not os.path.exists(metadata):
        shipped = names(os.path.dirname(metadata))
        raise CheckpointError(
            f"no checkpoint or run named {name!r} in {os.path.dirname(metadata)} (shipped there: {shipped}); "
            f"make it with `{command(name)}`."
        )
    with open(metadata) as f:
        meta = json.load(f)
    meta["metric"] = metric_name(meta.get("test_how"), conditional=bool(meta.get("data", {}).get("labels")))
    meta["hours"] = meta["train_seconds"] / 3600
    return meta


def study_names():
    """The studies the chapters load (:data:`keras_gen.recipes.STUDIES`)."""
    return sorted(STUDIES)


def study(name, directory=None, check_budget=True):
    """Study ``name``: ``{"name", "chapter", "question", "runs"}``, ``runs`` mapping each run to its metadata.

    A run's metadata is a checkpoint's (:func:`info`: ``config``, ``history``, ``epochs``,
    ``test_nll``, ``test_nll_stderr``, ``test_how``, ``hardware``, ``hours``, ...), and for the study's
    own runs ``test_nll_per_image``, the test score of every image in order (for paired differences
    between runs; ``None`` for a run borrowed from a checkpoint). ``directory`` holds
    the study's own runs (default: the shipped ones). A missing run, or one whose model or budget
    differs from its recipe's (``check_budget=False`` accepts any epochs and images, as a shrunk
    run in the smoke profile has), raises :class:`CheckpointError` naming the command that makes it.
    """
    if name not in STUDIES:
        raise CheckpointError(f"no study named {name!r}; the studies are {', '.join(study_names())}.")
    spec = STUDIES[name]
    runs = {}
    for run, recipe in spec.runs.items():
        if not isinstance(recipe, Recipe):  # a checkpoint or another study's run answers for it
            runs[run] = {**info(recipe), "test_nll_per_image": None}
            continue
        full_name = f"{name}/{run}"
        meta = info(full_name, directory)
        _check_run(full_name, meta, recipe, check_budget)
        scores = _paths(full_name, directory)[0][: -len(".json")] + ".test_nll.npy"
        meta["test_nll_per_image"] = np.load(scores) if os.path.exists(scores) else None
        runs[run] = meta
    return {"name": name, "chapter": spec.chapter, "question": spec.question, "runs": runs}


def _check_run(name, meta, recipe, check_budget):
    """Raise :class:`CheckpointError` where run ``name``'s metadata was not made by ``recipe``."""
    expected = _comparable(recipe.config)
    differ = [key for key in sorted(expected) if meta["config"].get(key) != expected[key]]
    if meta["model"] != recipe.model or differ:
        detail = ", ".join(f"{k}: {meta['config'].get(k)!r} stored, {expected[k]!r} in the recipe" for k in differ)
        raise CheckpointError(
            f"run {name!r} holds a {meta['model']} that its recipe (a {recipe.model}) did not make "
            f"({detail or 'another model'}); make it again with `{command(name)}`."
        )
    if check_budget and meta["epochs"] != recipe.epochs:
        raise CheckpointError(
            f"run {name!r} holds {meta['epochs']} of its {recipe.epochs} epochs; finish it with `{command(name)}`."
        )


def metric_name(test_how, conditional=False):
    """What a checkpoint's ``test_nll`` measures, from its ``test_how``.

    ``"exact NLL"``, ``"ELBO"`` (the negative ELBO, a bound) or ``"importance-weighted bound,
    k = K"``; for a class-conditional model the exact NLL is ``-log p(x | label)``.
    A ``test_how`` of another form is returned as it is.
    """
    how = str(test_how).strip()
    bound = re.fullmatch(r"importance-weighted bound,?\s*k\s*=\s*([\d,]+)", how, flags=re.IGNORECASE)
    if how.lower().startswith("exact"):
        return "exact NLL, −log p(x | label)" if conditional else "exact NLL"
    if how.lower().startswith("elbo"):
        return "ELBO"
    if bound:
        return f"importance-weighted bound, k = {int(bound.group(1).replace(',', ''))}"
    return how


def is_bound(metric):
    """True where ``metric`` (see :func:`metric_name`) is an upper bound on the NLL, not the NLL."""
    return metric == "ELBO" or metric.startswith("importance-weighted bound")


def device_kind(hardware):
    """``"CPU"``, ``"GPU"`` or ``"TPU"`` from a checkpoint's ``hardware`` (e.g. ``"CPU, then GPU"`` for a
    run resumed elsewhere: the parts of a resumed run's ``hardware`` are joined by ``"; "``)."""
    kinds = []
    for part in str(hardware).split("; "):
        lower = part.lower()
        kind = "TPU" if "tpu" in lower else "GPU" if ("gpu" in lower or "cuda" in lower) else "CPU"
        if kind not in kinds:
            kinds.append(kind)
    return ", then ".join(kinds)


def results_rows(directory=CHECKPOINT_DIR):
    """One summary dict per checkpoint in ``directory``, from the metadata alone (no weights are read).

    Keys: ``name``, ``model``, ``chapter``, ``data`` (the dataset), ``metric`` (see
    :func:`metric_name`), ``test_nll`` and ``test_nll_stderr`` (nats per image; the stderr may be
    None), ``test_images``, ``epochs``, ``planned_epochs``, ``hours`` (of training),
    ``hardware``, ``device`` (:func:`device_kind`), ``backend``, ``bits_per_dim`` (8-bit data
    only, else None) and ``test_negative_elbo`` with its stderr (latent-variable checkpoints made
    since it is recorded, else None). The book's Results appendix builds its table from these.
    """
    rows = []
    for name in names(directory):
        meta = info(name, directory)
        rows.append(
            {
                "name": name,
                "model": meta["model"],
                "chapter": meta.get("chapter"),
                "data": meta["data"]["dataset"],
                "metric": meta["metric"],
                "test_nll": meta["test_nll"],
                "test_nll_stderr": meta.get("test_nll_stderr"),
                "test_images": meta["test_images"],
                "epochs": meta["epochs"],
                "planned_epochs": meta.get("planned_epochs", meta["epochs"]),
                "hours": meta["train_seconds"] / 3600,
                "hardware": meta["hardware"],
                "device": device_kind(meta["hardware"]),
                "backend": meta["backend"],
                "bits_per_dim": meta.get("test_bits_per_dim"),
                "test_negative_elbo": meta.get("test_negative_elbo"),
                "test_negative_elbo_stderr": meta.get("test_negative_elbo_stderr"),
            }
        )
    return rows


def _comparable(config):
    """A config with tuples as lists, as it comes back from JSON."""
    return json.loads(json.dumps(config))


def load(name, model=None, directory=None):
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
        if "sha256" not in meta:
            raise CheckpointError(f"{name!r} ships its metadata only (no weights); {remake} to get them.")
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
        # Keras's own entries (``trainable``, ``dtype``) are compared only where the checkpoint records them;
        # an argument added since the checkpoint was made held its default there
        stored = {**{k: _default(type(model), k) for k in set(given) - set(stored)}, **stored}
        keys = (set(given) | set(stored)) - {"name"} - ({"trainable", "dtype"} - set(meta["config"]))
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


def _default(cls, argument):
    """The default of ``argument`` in the constructor of ``cls`` or of a base class (``None`` where none says)."""
    for klass in cls.__mro__:
        parameter = inspect.signature(klass.__init__).parameters.get(argument) if "__init__" in vars(klass) else None
        if parameter is not None and parameter.default is not inspect.Parameter.empty:
            return _comparable(parameter.default)
    return None


def describe(name, directory=None):
    """How, on what and how long checkpoint ``name`` was trained, in one paragraph (for the chapters)."""
    meta = info(name, directory)
    data, training = meta["data"], meta["training"]
    planned = meta.get("planned_epochs", meta["epochs"])
    if meta["epochs"] < planned:
        epochs = f"{meta['epochs']} of {planned} planned epochs (stopped partway; resumable with `{meta['command']}`)"
    else:
        epochs = f"{meta['epochs']} epoch{'' if meta['epochs'] == 1 else 's'}"
    return (
        f"checkpoint {name!r}: {meta['model']}, {epochs} on {data['train_images']:,} images of {data['dataset']}, "
        f"batch {training['batch_size']}, {training['optimizer']} with {training['learning_rate']}; "
        f"{meta['train_seconds'] / 3600:.1f} h of training on {meta['hardware']}, {meta['backend']} backend, "
        f"Keras {meta['keras_version']}, commit {str(meta['commit'])[:12]}. "
        f"Recorded test score: {score_text(meta)} nats, {_metric_phrase(meta['metric'])}, "
        f"on {_test_set_text(meta)}. Made by `{meta['command']}`."
    )


def score_text(meta):
    """``"88.40 ± 0.24"``: a checkpoint's ``test_nll`` and its standard error (where recorded), in nats."""
    error = meta.get("test_nll_stderr")
    return f"{meta['test_nll']:.2f}" + ("" if error is None else f" ± {error:.2f}")


def _metric_phrase(metric):
    """The metric as a phrase: ``"importance-weighted bound (k = 100) on the NLL"``, ``"exact NLL"``."""
    if metric == "ELBO":
        return "negative ELBO (a bound on the NLL)"
    if metric.startswith("importance-weighted bound, "):
        return f"importance-weighted bound ({metric.split(', ', 1)[1]}) on the NLL"
    return metric


# Test sets whose size says that a score covers all of them (a recipe may be shrunk, as tests do)
_WHOLE_TEST_SETS = {"MNIST": 10_000}


def _test_set_text(meta):
    """``"all 10,000 test images"``, or ``"1,995 test images"`` where the whole set's size is not known here."""
    images = meta["test_images"]
    whole = any(
        meta["data"]["dataset"].startswith(prefix) and images == size for prefix, size in _WHOLE_TEST_SETS.items()
    )
    return f"{'all ' if whole else ''}{images:,} test images"
