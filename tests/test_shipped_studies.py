"""Shipped studies: each loads whole and reproduces its numbers, and the chapters read them with
:mod:`keras_gen.book.studies`. (Apart from tests/test_studies.py, whose module fixture shrinks the
studies' recipes while it runs.)"""

import glob
import json
import os
import re

import numpy as np
import pytest

from keras_gen import datasets, evaluation, pretrained, recipes


def test_a_chapter_reads_a_shipped_study_from_its_runs():
    from keras_gen.book import studies

    gating = pretrained.study("gating")
    labels = {"gated": "Gated PixelCNN", "plain": "PixelCNN"}
    table = studies.table(gating, labels)
    for run in labels:
        meta = gating["runs"][run]
        row = next(line for line in table.splitlines() if line.startswith(f"| `gating/{run}`"))
        assert f"| {studies.network(meta).count_params():,} |" in row
        assert f"{meta['test_nll']:.2f} ± {meta['test_nll_stderr']:.2f}" in row
    gap, error = studies.paired_difference(gating, "plain", "gated")
    runs = gating["runs"]
    assert gap == pytest.approx(runs["plain"]["test_nll"] - runs["gated"]["test_nll"], abs=1e-4)  # the same digits
    assert (gap, error) == evaluation.paired_difference(
        runs["plain"]["test_nll_per_image"], runs["gated"]["test_nll_per_image"]
    )
    assert "the Gated PixelCNN fits the test digits better" in studies.verdict(gating, "plain", "gated", labels)
    # the same scores shifted to a difference of one standard error: not resolved
    shifted = {**runs["gated"], "test_nll_per_image": runs["gated"]["test_nll_per_image"] + gap - error}
    tied = {**gating, "runs": {**runs, "gated": shifted}}
    assert "does not tell the two apart" in studies.verdict(tied, "plain", "gated", labels)
    with pytest.raises(ValueError, match="no run 'softmax'; its runs are gated, plain"):
        studies.table(gating, {"softmax": "softmax"})


def test_an_eight_bit_run_is_read_in_bits_per_dimension():
    from keras_gen.book import studies

    meta = {"config": {"image_shape": [16, 16, 3]}, "test_bits_per_dim": 3.0, "history": {"val_bits_per_dim": [4, 3]}}
    name, factor, key = studies.unit(meta)
    assert (name, key) == ("bits/dim", "val_bits_per_dim")
    assert 3.0 * 768 * factor == pytest.approx(3.0 / 0.6931471805599453)
    assert studies.validation_curve(meta).tolist() == [4.0, 3.0]


SHIPPED_STUDIES = sorted(name for name in os.listdir(recipes.STUDY_DIR) if name in recipes.STUDIES) + ["label"]


@pytest.mark.parametrize("name", SHIPPED_STUDIES)
def test_a_shipped_study_loads_whole_with_its_per_image_scores(name):
    study = pretrained.study(name)  # every run present, each at its recipe's budget
    for run, meta in study["runs"].items():
        per_image = meta["test_nll_per_image"]
        if isinstance(recipes.STUDIES[name].runs[run], recipes.Recipe):
            assert per_image.shape == (meta["test_images"],), (name, run)
            assert abs(float(np.mean(per_image, dtype="float64")) - meta["test_nll"]) < 1e-3 * meta["test_nll"], run
        else:  # a checkpoint answers for it: no per-image scores, said as None
            assert per_image is None, (name, run)


@pytest.mark.parametrize("run", [f"{name}/{run}" for name in SHIPPED_STUDIES for run in recipes.STUDIES[name].weights])
def test_a_shipped_study_run_reproduces_its_check_nll(run):
    meta = pretrained.info(run)
    recipe = recipes.find(run)
    if recipe.data == "mnist_dynamic" and not os.environ.get(datasets.DATA_DIR_VAR):
        pytest.skip(f"{datasets.DATA_DIR_VAR} not set")
    data = recipes.load_data(recipe)
    model = pretrained.load(run)
    assert meta["sha256"] == pretrained.sha256(os.path.join(recipes.STUDY_DIR, run + ".weights.h5"))
    x = data.x_test[: meta["check_images"]]
    exact = meta["check_how"] == "exact"
    nll = -np.mean(model.log_prob(x) if exact else model.log_prob(x, seed=0))
    assert abs(nll - meta["check_nll"]) <= (1e-6 * abs(meta["check_nll"]) if exact else 1.0), (run, nll)


def test_the_chapters_load_studies_that_exist_and_name_them():
    root = os.path.join(recipes.PACKAGE_DIR, "..")
    loaded = {}
    for path in glob.glob(os.path.join(root, "notebooks", "*.ipynb")) + [os.path.join(root, "book", "results.ipynb")]:
        with open(path) as f:
            cells = json.load(f)["cells"]
        source = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
        for name in re.findall(r"pretrained\.study\(\"(\w+)\"\)", source):
            loaded.setdefault(name, []).append(os.path.relpath(path, root))
    assert set(loaded) <= set(recipes.STUDIES), loaded
    for name, paths in loaded.items():  # a study names the chapter that loads it
        assert recipes.STUDIES[name].chapter in paths, (name, paths)
