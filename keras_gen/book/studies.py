"""A shipped study (:func:`keras_gen.pretrained.study`) as a chapter shows it: a table of its runs, the
paired difference of two runs with its verdict, and the runs' validation curves.

Scores are in nats per image for binarised images and in bits per dimension for 8-bit
images (``test_bits_per_dim`` in the runs' metadata), the unit the chapters and the papers use
for each.

Example::

    study = pretrained.study("gating")
    labels = {"gated": "Gated PixelCNN", "plain": "PixelCNN"}
    display(Markdown(studies.table(study, labels)))
    print(studies.verdict(study, "plain", "gated", labels))
    studies.plot_curves(study, labels)
"""

import math

import numpy as np

from keras_gen import evaluation, models
from keras_gen.train import VALIDATION_IMAGES


def network(meta):
    """A run's network, built untrained from its stored configuration (to count its parameters)."""
    return getattr(models, meta["model"]).from_config(meta["config"])


def unit(meta):
    """``(name, factor, history key)``: a run's score unit, the factor from nats per image to it, and the
    history key of its validation curve in that unit."""
    if "test_bits_per_dim" in meta:
        num_dims = math.prod(meta["config"]["image_shape"])
        return "bits/dim", 1.0 / (num_dims * math.log(2)), "val_bits_per_dim"
    return "nats", 1.0, "val_nll"


def test_items(meta):
    """What a run's test set holds: ``"digits"`` for MNIST, else ``"images"``."""
    return "digits" if meta["data"]["dataset"].startswith("MNIST") else "images"


def validation_set(meta):
    """The test images a run was validated on after every epoch, as text: ``"the first 1,000 test digits"``."""
    return f"the first {min(VALIDATION_IMAGES, meta['test_images']):,} test {test_items(meta)}"


def _check_runs(study, names):
    missing = [name for name in names if name not in study["runs"]]
    if missing:
        raise ValueError(
            f"study {study['name']!r} has no run {', '.join(map(repr, missing))}; "
            f"its runs are {', '.join(study['runs'])}."
        )


def table(study, labels, describe=None):
    """A Markdown table of the runs named by ``labels`` (``{run: label}``), in that order: network,
    parameters, budget, validation curve, test score with its standard error, hours and hardware.

    ``describe(meta, net)`` gives the network column (default: the label).
    """
    _check_runs(study, labels)
    first = study["runs"][next(iter(labels))]
    name, factor, _ = unit(first)
    digits = 2 if name == "nats" else 3
    rows = [
        f"Study `{study['name']}`: {study['question']} Made by `python -m keras_gen.train {study['name']}`; "
        f"the validation score is on {validation_set(first)} after each epoch.",
        "",
        f"| run | network | parameters | epochs | training {test_items(first)} | validation after each epoch ({name}) "
        f"| test ({name}) | test {test_items(first)} | training (h) | hardware | backend |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run, label in labels.items():
        meta = study["runs"][run]
        net = network(meta)
        curve = ", ".join(f"{value:.{digits}f}" for value in validation_curve(meta))
        score = f"{meta['test_nll'] * factor:.{digits}f} ± {meta['test_nll_stderr'] * factor:.{digits}f}"
        rows.append(
            f"| `{study['name']}/{run}` | {describe(meta, net) if describe else label} | {net.count_params():,} "
            f"| {meta['epochs']} | {meta['data']['train_images']:,} | {curve} | {score} ({meta['metric']}) "
            f"| {meta['test_images']:,} | {meta['hours']:.2f} | {meta['hardware']} | {meta['backend']} |"
        )
    return "\n".join(rows)


def validation_curve(meta):
    """A run's validation score after each epoch, in its unit (:func:`unit`)."""
    return np.asarray(meta["history"][unit(meta)[2]], dtype="float64")


def paired_difference(study, first, second):
    """``first``'s test score minus ``second``'s, image by image on the same test images, and its paired standard
    error, in the runs' unit (:func:`unit`; :func:`keras_gen.evaluation.paired_difference`)."""
    _check_runs(study, (first, second))
    scores = [study["runs"][run]["test_nll_per_image"] for run in (first, second)]
    if any(score is None for score in scores):
        raise ValueError(f"runs {first!r} and {second!r} of study {study['name']!r} need per-image test scores.")
    gap, error = evaluation.paired_difference(*scores)
    factor = unit(study["runs"][first])[1]
    return gap * factor, error * factor


def verdict(study, first, second, labels, resolution=3.0):
    """Two sentences: ``first`` minus ``second`` with its paired standard error, and whether the difference is
    more than ``resolution`` standard errors from zero (which run is better, by how much) or not resolved."""
    gap, error = paired_difference(study, first, second)
    name, _, _ = unit(study["runs"][first])
    digits = 2 if name == "nats" else 3
    per_image = [np.asarray(study["runs"][run]["test_nll_per_image"]) for run in (first, second)]
    items = test_items(study["runs"][first])
    count = len(per_image[0])
    lines = [
        f"{labels[first]} minus {labels[second]}, {items[:-1]} by {items[:-1]}, on {count:,} test {items}: "
        f"{gap:+.{digits}f} ± {error:.{digits}f} {name} (positive: the {labels[second]} is better; "
        f"{np.mean(per_image[0] > per_image[1]):.0%} of the {items} are likelier under it)."
    ]
    distance = abs(gap) / error
    if distance > resolution:
        better = labels[second] if gap > 0 else labels[first]
        lines.append(
            f"The difference is {distance:.1f} standard errors from zero, more than about {resolution:g}: at this "
            f"size and budget the {better} fits the test {items} better, by {abs(gap):.{digits}f} {name}."
        )
    else:
        lines.append(
            f"The difference is {distance:.1f} standard errors from zero, within about {resolution:g}: at this size "
            "and budget the study does not tell the two apart."
        )
    return "\n".join(lines)


def plot_curves(study, labels, title=None):
    """The validation curves of the runs named by ``labels``, against epochs and against hours of training (each
    run's mean hours per epoch: the runs record only their total time). Returns the figure."""
    import matplotlib.pyplot as plt

    _check_runs(study, labels)
    first = study["runs"][next(iter(labels))]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    longest = 1
    for run, label in labels.items():
        meta = study["runs"][run]
        curve = validation_curve(meta)
        epochs = np.arange(1, len(curve) + 1)
        longest = max(longest, len(curve))
        axes[0].plot(epochs, curve, marker="o", label=label)
        axes[1].plot(epochs * meta["hours"] / meta["epochs"], curve, marker="o", label=label)
    axes[0].set(
        xlabel="epoch",
        ylabel=f"{unit(first)[0]}, {validation_set(first).removeprefix('the ')}",
        xticks=np.arange(1, longest + 1),
    )
    axes[1].set(xlabel="hours of training")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title or f"study `{study['name']}`: validation curves", fontsize=10)
    fig.tight_layout()
    return fig
