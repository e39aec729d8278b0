"""The book's trained checkpoints and studies, made by one entry point: ``python -m keras_gen.train NAME``.

:func:`train` runs a recipe (:mod:`keras_gen.recipes`: the model, data and budget of a
checkpoint or of a study's run) resumably: after every epoch it saves the model and
optimizer state and the history so far in ``run_dir``, and a run started again continues
from the last finished epoch, so a long run can span several sittings. At the end it
evaluates the model on the whole test set and writes the shipped files (``NAME.json``, and
``NAME.weights.h5`` where the weights ship; see :mod:`keras_gen.pretrained`).
:func:`train_study` trains every run of a study, at its budget or shrunk.

Example:

    python -m keras_gen.train pixelcnn              # resumes runs/pixelcnn if it exists
    python -m keras_gen.train pixelrnn_depth        # every run of a study, one after another
    python -m keras_gen.train                       # no name: the recipes, the studies' runs and their budgets
"""

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import tempfile
import time

import keras
import numpy as np

from keras_gen import models, pretrained
from keras_gen.attention_health import attention_health
from keras_gen.ops import bits_per_dim
from keras_gen.recipes import (
    RECIPES,
    STUDIES,
    STUDY_DIR,
    command,
    find,
    load_data,
    location,
    ships_weights,
    study_runs,
)
from keras_gen.validation import check_int

VALIDATION_IMAGES = 1_000  # the first test images, logged every epoch to watch over-fitting
CHECK_IMAGES = 500  # the first test images of the quick recheck (``check_nll``)
ATTENTION_IMAGES = 256  # the first test images whose attention windows are summed up every epoch
THREAD_LIMITS = ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "XLA_FLAGS")  # the thread settings hardware() reports
TRAINING_FIELDS = ("model", "config", "data", "batch_size", "learning_rate", "final_learning_rate", "clipnorm")


def test_conditions(recipe, data, n):
    """The conditions a checkpoint's model is scored with on the first ``n`` test images: the labels, or none."""
    return {"label": data.y_test[:n]} if recipe.labels else {}


def build_model(recipe):
    """A fresh, uncompiled model of the recipe's class and configuration."""
    return getattr(models, recipe.model)(**recipe.config)


def compile_model(model, recipe, total_steps):
    """Adam with the recipe's learning rate over ``total_steps`` batches: held, then cosine-decayed."""
    hold = int(round(recipe.hold_fraction * total_steps))
    # Keras's warm-up from the rate to itself holds it for ``hold`` steps before the decay
    held = {"warmup_target": recipe.learning_rate, "warmup_steps": hold} if hold else {}
    schedule = keras.optimizers.schedules.CosineDecay(
        recipe.learning_rate,
        decay_steps=max(1, total_steps - hold),
        alpha=recipe.final_learning_rate / recipe.learning_rate,
        **held,
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule, global_clipnorm=recipe.clipnorm))


def hardware():
    """The processor, the cores this process may use and any thread limits set in the environment.

    E.g. ``"CPU: AMD EPYC ... (1 of 2 cores, TF_NUM_INTRAOP_THREADS=1)"``; JAX's thread settings
    are in ``XLA_FLAGS``, reported whole.
    """
    accelerators = [d for d in keras.distribution.list_devices() if not d.lower().startswith("cpu")]
    if accelerators:
        return f"{len(accelerators)} × {accelerators[0]}"
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # the cores a process may use are not the threads it computes with: name the limits that were set
    limits = [f"{key}={os.environ[key]}" for key in THREAD_LIMITS if key in os.environ]
    return f"CPU: {name} ({usable} of {os.cpu_count()} cores{''.join(', ' + limit for limit in limits)})"


def git_commit():
    """The repository's commit (with ``-dirty`` for uncommitted library changes), or ``None``."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "keras_gen"], cwd=root, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    changed = [line for line in dirty.stdout.splitlines() if "keras_gen/checkpoints/" not in line]
    return head.stdout.strip() + ("-dirty" if changed else "")


def test_log_prob(model, recipe, data, *, seed=0, num_samples=None):
    """Per-image log-likelihood (nats) of ``data``'s test images: exact, or the recipe's importance-weighted bound
    (``num_samples`` overrides its k; 1 is the ELBO)."""
    conditions = test_conditions(recipe, data, len(data.x_test))
    if recipe.test_samples is None:
        return model.log_prob(data.x_test, **conditions)
    k = recipe.test_samples if num_samples is None else num_samples
    return model.log_prob(data.x_test, num_samples=k, seed=seed, **conditions)


def mean_and_stderr(values):
    """The mean of per-image values and its standard error (``None`` for a single image), as floats."""
    values = np.asarray(values, dtype="float64")
    stderr = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else None
    return float(values.mean()), stderr


def elbo_fields(model, recipe, data):
    """A latent-variable model's negative ELBO on the whole test set, beside its bound (the papers report either):
    ``test_negative_elbo``, its standard error and how it was computed; ``{}`` for an exact likelihood."""
    if recipe.test_samples is None:
        return {}
    mean, stderr = mean_and_stderr(-np.asarray(test_log_prob(model, recipe, data, num_samples=1), dtype="float64"))
    return {
        "test_negative_elbo": mean,
        "test_negative_elbo_stderr": stderr,
        "test_negative_elbo_how": f"log_prob(x, num_samples=1, seed=0) on {keras.backend.backend()}",
    }


def add_test_elbo(name, directory=None):
    """Score shipped checkpoint ``name``'s weights with the ELBO on the whole test set and add it to its metadata."""
    recipe = find(name)
    directory = directory or location(name)[0]
    if recipe.test_samples is None:
        raise ValueError(f"checkpoint {name!r} has an exact likelihood: it has no ELBO.")
    meta_path = os.path.join(directory, f"{location(name)[1]}.json")
    with open(meta_path) as f:
        meta = json.load(f)
    meta.update(elbo_fields(pretrained.load(name, directory=directory), recipe, load_data(recipe)))
    write_json(meta_path, meta)
    return meta


class SaveProgress(keras.callbacks.Callback):
    """After every epoch: the model and optimizer state, the history and the seconds spent."""

    def __init__(self, run_dir, progress):
        super().__init__()
        self.run_dir, self.progress = run_dir, progress

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self.progress["train_seconds"] += time.time() - self.started
        self.progress["epochs_done"] = epoch + 1
        for key, value in (logs or {}).items():
            if key not in ("loss", "val_loss"):  # the same numbers as nll and val_nll
                value = [float(v) for v in value] if isinstance(value, list) else float(value)
                self.progress["history"].setdefault(key, []).append(value)
        state = os.path.join(self.run_dir, "state.weights.h5")
        self.model.save_weights(state + ".tmp.weights.h5")
        os.replace(state + ".tmp.weights.h5", state)
        write_json(os.path.join(self.run_dir, "progress.json"), self.progress)


class AttentionHealth(keras.callbacks.Callback):
    """After every epoch, before ``SaveProgress``: DRAW's attention health on ``images``, added to the logs."""

    def __init__(self, images):
        super().__init__()
        self.images = images

    def on_epoch_end(self, epoch, logs=None):
        model = self.model
        trace = model.reconstruction_trace(self.images, seed=0)
        logs.update(attention_health(trace, model.read_n, model.write_n, model.image_shape))


def write_json(path, data):
    """Write ``data`` as indented JSON, atomically (a killed run leaves the old file)."""
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)


def _recipe_record(recipe, epochs, num_train):
    """What defines a run: a resumed run must match it."""
    record = {key: getattr(recipe, key) for key in TRAINING_FIELDS}
    record.update(epochs=epochs, num_train=num_train, **({"labels": True} if recipe.labels else {}))
    if recipe.hold_fraction:  # recorded only where set, so that runs begun before it existed still resume
        record["hold_fraction"] = recipe.hold_fraction
    return json.loads(json.dumps(record))  # tuples as lists, as they come back from JSON


def train(
    name,
    *,
    run_dir=None,
    out_dir=None,
    epochs=None,
    train_images=None,
    test_images=None,
    stop_after=None,
    write_partial=False,
    verbose=True,
):
    """Train checkpoint or study run ``name`` (resuming ``run_dir``), evaluate it and write it to ``out_dir``
    (default: where :mod:`keras_gen.pretrained` looks for it, ``recipes.location(name)``).

    ``epochs``, ``train_images`` and ``test_images`` shrink the recipe (tests use them);
    ``stop_after`` ends this sitting after that many epochs, leaving the run to resume.
    ``write_partial=True`` trains nothing: it evaluates and writes the run as it stands
    (its metadata says how many of the planned epochs are done), for a run that spans
    several sittings. Returns the metadata dict once written, else ``None``.
    """
    recipe = find(name)
    out_dir = out_dir or location(name)[0]
    epochs = check_int("epochs", epochs if epochs is not None else recipe.epochs)
    run_dir = run_dir or os.path.join("runs", name)
    os.makedirs(run_dir, exist_ok=True)
    data = load_data(recipe).subset(train_images or recipe.train_images, test_images)
    batches = data.train_batches(recipe.batch_size, seed=0, with_labels=recipe.labels)
    record = _recipe_record(recipe, epochs, len(data.x_train))

    progress_path = os.path.join(run_dir, "progress.json")
    progress = {"recipe": record, "epochs_done": 0, "train_seconds": 0.0, "history": {}}
    if os.path.exists(progress_path):
        with open(progress_path) as f:
            progress = json.load(f)
        if progress["recipe"] != record:
            raise ValueError(
                f"{run_dir} holds a run of a different recipe ({progress['recipe']}); "
                f"remove it to start again, or pass another run_dir."
            )

    if progress["epochs_done"] >= epochs and not write_partial:
        written = written_metadata(name, out_dir, progress)
        if written is not None:  # finished and scored already: scoring a whole test set again can take an hour
            if verbose:
                print(f"{name}: finished and written to {out_dir} (remove {location(name)[1]}.json to score it again)")
            return written

    keras.utils.set_random_seed(0)
    model = build_model(recipe)
    compile_model(model, recipe, epochs * len(batches))
    done = progress["epochs_done"]
    if done:
        model.optimizer.build(model.trainable_variables)
        model.load_weights(os.path.join(run_dir, "state.weights.h5"))
        keras.utils.set_random_seed(done)
        batches.epoch = done
        batches.order = batches._permutation()
    target = epochs if stop_after is None else min(epochs, done + check_int("stop_after", stop_after))
    if write_partial:
        if not done:
            raise ValueError(f"{run_dir} holds no finished epoch to write yet.")
        target = done
    if done < target:
        sitting = hardware()  # each sitting of a long run may run elsewhere: keep them all
        if sitting not in progress.setdefault("hardware", []):
            progress["hardware"].append(sitting)
        if verbose:
            print(f"{name}: epochs {done + 1}..{target} of {epochs} on {len(data.x_train):,} images ({hardware()})")
        callbacks = [SaveProgress(run_dir, progress)]
        if recipe.monitor_attention:
            callbacks.insert(0, AttentionHealth(data.x_test[:ATTENTION_IMAGES]))
        model.fit(
            batches,
            initial_epoch=done,
            epochs=target,
            validation_data=(data.x_test[:VALIDATION_IMAGES],)
            + ((data.y_test[:VALIDATION_IMAGES],) if recipe.labels else ()),
            verbose=2 if verbose else 0,  # Keras's log: one line per epoch with its metrics
            callbacks=callbacks,
        )
    if progress["epochs_done"] < epochs and not write_partial:
        return None
    return finish(name, model, recipe, data, progress, out_dir, planned_epochs=epochs, verbose=verbose)


def written_metadata(name, out_dir, progress):
    """The metadata that :func:`finish` wrote in ``out_dir`` for the run whose state is ``progress``, or ``None``
    where there is none, it is of another state (other epochs or training time) or its weights file is missing."""
    stem = location(name)[1]
    path = os.path.join(out_dir, f"{stem}.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        info = json.load(f)
    same_state = (info.get("epochs"), info.get("train_seconds")) == (
        progress["epochs_done"],
        round(progress["train_seconds"], 1),
    )
    weights_there = not ships_weights(name) or os.path.exists(os.path.join(out_dir, f"{stem}.weights.h5"))
    return info if same_state and weights_there else None


def finish(name, model, recipe, data, progress, out_dir, *, planned_epochs, verbose=True):
    """Evaluate the trained ``model`` and write its metadata ``STEM.json`` to ``out_dir``, and ``STEM.weights.h5``
    where its weights ship (``recipes.ships_weights``; ``STEM`` is the checkpoint's name or the study's run)."""
    start = time.time()
    log_p = test_log_prob(model, recipe, data)
    check = model.log_prob(
        data.x_test[:CHECK_IMAGES],
        **test_conditions(recipe, data, CHECK_IMAGES),
        **({} if recipe.test_samples is None else {"seed": 0}),
    )
    eval_seconds = time.time() - start
    nll = -np.asarray(log_p, dtype="float64")
    test_nll, test_nll_stderr = mean_and_stderr(nll)
    info = {
        "name": name,
        "model": recipe.model,
        "config": json.loads(json.dumps(model.get_config())),
        "chapter": recipe.chapter,
        "data": {
            "dataset": data.name,
            "binarization": data.binarize,
            "train_images": int(len(data.x_train)),
            **({"labels": "the model is conditioned on the images' labels"} if recipe.labels else {}),
            "validation": f"the first {min(VALIDATION_IMAGES, len(data.x_test)):,} test images, logged every epoch "
            "(monitoring only: no early stopping or model selection)",
        },
        "training": {
            "optimizer": "Adam",
            "learning_rate": (
                f"{recipe.learning_rate:g} for {recipe.hold_fraction:.0%} of the steps, then "
                if recipe.hold_fraction
                else ""
            )
            + f"cosine decay from {recipe.learning_rate:g} to {recipe.final_learning_rate:g}",
            "batch_size": recipe.batch_size,
            "global_clipnorm": recipe.clipnorm,
        },
        "epochs": progress["epochs_done"],
        "planned_epochs": planned_epochs,
        "train_seconds": round(progress["train_seconds"], 1),
        "eval_seconds": round(eval_seconds, 1),
        "hardware": "; ".join(progress.get("hardware") or [hardware()]),
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "commit": git_commit(),
        "history": progress["history"],
        "test_nll": test_nll,
        "test_nll_stderr": test_nll_stderr,
        "test_images": int(len(nll)),
        "test_how": "exact" if recipe.test_samples is None else f"importance-weighted bound, k = {recipe.test_samples}",
        "check_nll": float(-np.mean(check)),
        "check_images": int(min(CHECK_IMAGES, len(data.x_test))),
        "check_how": "exact" if recipe.test_samples is None else "ELBO, log_prob(x, seed=0)",
        "command": command(name),
    }
    info.update(elbo_fields(model, recipe, data))
    if model.data_type == "8bit":
        info["test_bits_per_dim"] = bits_per_dim(info["test_nll"], model.num_dims)
    os.makedirs(out_dir, exist_ok=True)
    stem = location(name)[1]
    written = os.path.join(out_dir, f"{stem}.json")
    if ships_weights(name):
        written = os.path.join(out_dir, f"{stem}.weights.h5")
        # A fresh model holding the trained weights: the shipped file carries no optimizer state.
        shipped = build_model(recipe)
        for target, source in zip(shipped.weights, model.weights, strict=True):
            target.assign(source)
        shipped.save_weights(written)
        info["sha256"] = pretrained.sha256(written)
        info["size_bytes"] = os.path.getsize(written)
    if "/" in name:  # a study's run: its per-image scores too, for paired comparisons between its runs
        np.save(os.path.join(out_dir, f"{stem}.test_nll.npy"), nll.astype("float32"))
    write_json(os.path.join(out_dir, f"{stem}.json"), info)
    if verbose:
        print(
            f"{name}: test NLL {info['test_nll']:.2f} ± {info['test_nll_stderr'] or 0:.2f} nats "
            f"({info['test_how']}, {info['test_images']:,} images); written to {written}"
        )
    return info


def train_study(name, *, out_dir=None, run_root=None, epochs=None, train_images=None, test_images=None, verbose=True):
    """Train every run of study ``name`` (the runs it names from elsewhere are loaded) and return the study as
    :func:`keras_gen.pretrained.study` does.

    ``epochs``, ``train_images`` and ``test_images`` shrink every run alike (the chapters' ``smoke``
    profile and ``KERAS_GEN_TRAIN=1`` use them); the runs' files go to ``out_dir`` (default: a
    temporary folder, removed afterwards, when the budget is shrunk; else the shipped study's
    folder) and their resumable state under ``run_root`` (default: ``runs/``).
    """
    if name not in STUDIES:
        raise ValueError(f"no study named {name!r}; the studies are {', '.join(STUDIES)}.")
    shrunk = any(value is not None for value in (epochs, train_images, test_images))
    scratch = tempfile.mkdtemp(prefix=f"keras-gen-{name}-") if shrunk and out_dir is None else None
    out_dir = out_dir or scratch or os.path.join(STUDY_DIR, name)
    try:
        for run in study_runs_of(name):
            train(
                run,
                run_dir=os.path.join(run_root or scratch or "runs", run),
                out_dir=out_dir,
                epochs=epochs,
                train_images=train_images,
                test_images=test_images,
                verbose=verbose,
            )
        return pretrained.study(name, directory=out_dir, check_budget=not shrunk)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def study_runs_of(study):
    """The runs study ``study`` trains itself, as ``"STUDY/RUN"`` names."""
    return [run for run in study_runs() if run.startswith(f"{study}/")]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m keras_gen.train", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names", nargs="*", help="checkpoints, study runs (STUDY/RUN) or whole studies to make (none: list them)"
    )
    parser.add_argument("--list", action="store_true", help="list the recipes and studies and exit")
    parser.add_argument("--run-dir", help="where the resumable state lives (default: runs/NAME)")
    parser.add_argument("--out-dir", help="where the finished files are written (default: where the package has them)")
    parser.add_argument("--stop-after", type=int, help="end this sitting after this many epochs")
    parser.add_argument(
        "--write-partial", action="store_true", help="write the checkpoint of the run as it stands, without training"
    )
    parser.add_argument(
        "--add-elbo", action="store_true", help="add the whole test set's ELBO to shipped latent-variable checkpoints"
    )
    args = parser.parse_args(argv)
    # a whole study stands for its runs
    names = [run for name in args.names for run in (study_runs_of(name) if name in STUDIES else [name])]
    unknown = [name for name in names if name not in RECIPES and name not in study_runs()]
    if unknown:
        parser.error(
            f"no recipe named {', '.join(map(repr, unknown))}; the recipes are {', '.join(RECIPES)}; "
            f"the studies are {', '.join(STUDIES)}."
        )
    if args.run_dir and len(names) > 1:  # each run resumes from its own folder
        parser.error(f"--run-dir takes a single run, got {len(names)}: {', '.join(names)}.")
    if args.list or not names:  # training every recipe takes days: it must be asked for by name
        for name in list(RECIPES) + study_runs():
            recipe = find(name)
            print(
                f"{name:40s} {recipe.model:18s} {recipe.epochs:4d} epochs, batch {recipe.batch_size}, {recipe.chapter}"
            )
        return
    for name in names:
        if args.add_elbo:
            meta = add_test_elbo(name, args.out_dir)
            print(
                f"{name}: negative ELBO {meta['test_negative_elbo']:.2f} ± {meta['test_negative_elbo_stderr']:.2f} nats"
            )
            continue
        train(
            name,
            run_dir=args.run_dir,
            out_dir=args.out_dir,
            stop_after=args.stop_after,
            write_partial=args.write_partial,
        )


if __name__ == "__main__":
    main()
