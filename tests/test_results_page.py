"""The Results appendix (book/results.ipynb) is built from the checkpoints' metadata alone:
a checkpoint added to the package appears in its table, with its metric named."""

import json
import os
import shutil

import pytest

from keras_gen import pretrained, recipes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "book", "results.ipynb")


def _add(directory, source, name, weights=True, **changes):
    """Checkpoint ``source`` shipped again as ``name`` in ``directory``: its metadata, changed, and its weights."""
    meta = pretrained.info(source)
    meta.pop("metric")  # derived by pretrained.info, not stored
    meta.update(name=name, command=recipes.command(name), **changes)
    with open(directory / f"{name}.json", "w") as f:
        json.dump(meta, f)
    if weights:
        shutil.copy(os.path.join(recipes.CHECKPOINT_DIR, f"{source}.weights.h5"), directory / f"{name}.weights.h5")


def test_a_checkpoint_added_to_the_package_appears_in_the_results(tmp_path):
    assert pretrained.results_rows(tmp_path) == []
    _add(tmp_path, "pixelcnn", "pixelcnn_deeper", epochs=3, planned_epochs=40)
    (row,) = pretrained.results_rows(tmp_path)
    meta = pretrained.info("pixelcnn")
    assert row["name"] == "pixelcnn_deeper" and row["model"] == "PixelCNN"
    assert (row["epochs"], row["planned_epochs"]) == (3, 40)
    assert row["test_nll"] == meta["test_nll"] and row["test_nll_stderr"] == meta["test_nll_stderr"]
    assert row["test_images"] == 10_000 and row["data"] == meta["data"]["dataset"]
    assert row["hours"] == pytest.approx(meta["train_seconds"] / 3600)
    assert (row["hardware"], row["device"], row["backend"]) == (meta["hardware"], "CPU", meta["backend"])
    assert row["bits_per_dim"] is None
    expected = {
        "name",
        "model",
        "chapter",
        "data",
        "metric",
        "test_nll",
        "test_nll_stderr",
        "test_images",
        "epochs",
        "planned_epochs",
        "hours",
        "hardware",
        "device",
        "backend",
        "bits_per_dim",
        "test_negative_elbo",
        "test_negative_elbo_stderr",
    }
    assert set(row) == expected


def test_the_results_name_exact_elbo_and_bound_checkpoints(tmp_path):
    _add(tmp_path, "pixelcnn", "a_exact")
    _add(tmp_path, "vae", "b_elbo", weights=False, test_how="ELBO")
    _add(tmp_path, "vae", "c_bound", weights=False)
    _add(tmp_path, "pixelcnn_plus_plus", "d_colour", weights=False)
    rows = {row["name"]: row for row in pretrained.results_rows(tmp_path)}
    assert list(rows) == ["a_exact", "b_elbo", "c_bound", "d_colour"]
    assert rows["a_exact"]["metric"] == "exact NLL"
    assert rows["b_elbo"]["metric"] == "ELBO"
    assert rows["c_bound"]["metric"] == "importance-weighted bound, k = 1000"
    # a latent-variable checkpoint carries its whole-test-set ELBO beside its bound (never below it)
    assert rows["c_bound"]["test_negative_elbo"] >= rows["c_bound"]["test_nll"]
    assert rows["a_exact"]["test_negative_elbo"] is None
    assert rows["d_colour"]["bits_per_dim"] == pytest.approx(pretrained.info("pixelcnn_plus_plus")["test_bits_per_dim"])


def test_every_shipped_checkpoint_is_in_the_results():
    assert [row["name"] for row in pretrained.results_rows()] == pretrained.names()


def test_the_results_page_builds_its_table_from_the_metadata():
    with open(RESULTS, encoding="utf-8") as f:
        cells = json.load(f)["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "pretrained.results_rows()" in code, "the table comes from the checkpoints' metadata"
    assert "profiles.current()" in code, "the page reads its budget (samples drawn) from the profile"
    dirty = [
        i for i, c in enumerate(cells) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"code cells {dirty} keep outputs: clear them before committing"
    with open(os.path.join(ROOT, "_toc.yml"), encoding="utf-8") as f:
        toc = f.read()
    assert toc.index("file: book/results\n") < toc.index("file: book/notation\n")
    with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as f:
        makefile = f.read()
    assert "book/results.ipynb" in makefile, "make book and the smoke notebook tests must execute the page"
    with open(os.path.join(ROOT, "book", "intro.md"), encoding="utf-8") as f:
        assert "{doc}`results`" in f.read(), "the intro links to the Results page"
