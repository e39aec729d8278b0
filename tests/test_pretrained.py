"""Trained checkpoints: every shipped one loads and reproduces its recorded NLL; bad files
and mismatched models fail clearly; training resumes where it stopped."""

import json
import os
import shutil

import keras
import numpy as np
import pytest

from keras_gen import datasets, models, pretrained, recipes, train

needs_mnist = pytest.mark.skipif(
    not os.environ.get(datasets.DATA_DIR_VAR), reason=f"{datasets.DATA_DIR_VAR} not set (make data sets it)"
)
SHIPPED = pretrained.names()
TINY = {"epochs": 2, "train_images": 128, "test_images": 32, "verbose": False}


def test_every_recipe_names_a_model_and_its_chapter():
    for name, recipe in recipes.RECIPES.items():
        assert hasattr(models, recipe.model), name
        assert os.path.exists(os.path.join(os.path.dirname(recipes.CHECKPOINT_DIR), "..", recipe.chapter)), name


def test_shipped_checkpoints_have_complete_metadata():
    required = {
        "model",
        "config",
        "data",
        "epochs",
        "train_seconds",
        "hardware",
        "backend",
        "keras_version",
        "commit",
        "sha256",
        "history",
        "test_nll",
        "test_images",
        "test_how",
        "check_nll",
    }
    for name in SHIPPED:
        meta = pretrained.info(name)
        assert required <= set(meta), f"{name} lacks {sorted(required - set(meta))}"
        assert len(meta["history"]["nll"]) == len(meta["history"]["val_nll"]) == meta["epochs"], name
        crops = meta["data"]["dataset"] == datasets.PHOTO_CROPS_NAME
        whole = len(datasets.load_photo_crops().x_test) if crops else 10_000
        assert meta["test_images"] == whole, f"{name}: test NLL not on the whole test set"
    package_weights = [
        os.path.join(folder, f) for folder, _, files in os.walk(recipes.PACKAGE_DIR) for f in files if f.endswith(".h5")
    ]
    total = sum(os.path.getsize(path) for path in package_weights)  # the checkpoints' and the studies' weights
    assert total <= 80e6, f"the package's weights take {total / 1e6:.1f} MB (at most 80 MB)"


@needs_mnist
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_reproduces_its_check_nll(name):
    meta = pretrained.info(name)
    model = pretrained.load(name)
    recipe = recipes.RECIPES[name]
    data = recipes.load_data(recipe)
    x, conditions = data.x_test[: meta["check_images"]], train.test_conditions(recipe, data, meta["check_images"])
    exact = meta["check_how"] == "exact"
    nll = -np.mean(model.log_prob(x, **conditions) if exact else model.log_prob(x, seed=0, **conditions))
    # an exact likelihood is deterministic, and a seeded ELBO draws the same z on the backend that trained
    # the checkpoint (measured: equal to the stored value on both backends); another backend draws other z
    reproducible = exact or keras.backend.backend() == meta["backend"]
    assert abs(nll - meta["check_nll"]) <= (1e-4 if reproducible else 1.0), (name, nll, meta["check_nll"])


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """A PixelCNN recipe shrunk to two epochs on 128 digits: its run folder and checkpoint folder."""
    if not os.environ.get(datasets.DATA_DIR_VAR):
        pytest.skip(f"{datasets.DATA_DIR_VAR} not set")
    root = tmp_path_factory.mktemp("tiny")
    info = train.train("pixelcnn", run_dir=str(root / "run"), out_dir=str(root / "out"), **TINY)
    return root, info


def test_training_resumes_where_it_stopped(tiny_checkpoint):
    root, uninterrupted = tiny_checkpoint
    run, out = str(root / "resumed"), str(root / "resumed_out")
    assert train.train("pixelcnn", run_dir=run, out_dir=out, stop_after=1, **TINY) is None
    with open(os.path.join(run, "progress.json")) as f:
        assert json.load(f)["epochs_done"] == 1
    partial = train.train("pixelcnn", run_dir=run, out_dir=out, write_partial=True, **TINY)
    assert (partial["epochs"], partial["planned_epochs"]) == (1, 2)
    assert "1 of 2 planned epochs (stopped partway; resumable with `python -m keras_gen.train pixelcnn`)" in (
        pretrained.describe("pixelcnn", directory=out)
    )
    resumed = train.train("pixelcnn", run_dir=run, out_dir=out, **TINY)
    assert resumed["epochs"] == uninterrupted["epochs"] == 2
    for key in ("nll", "val_nll"):
        assert len(resumed["history"][key]) == 2
        # the same batches, binarisations and optimizer state: the same run
        np.testing.assert_allclose(resumed["history"][key], uninterrupted["history"][key], rtol=1e-3)


def test_a_finished_run_is_not_scored_again(tiny_checkpoint, monkeypatch):
    root, info = tiny_checkpoint
    run, out = str(root / "run"), str(root / "out")

    def score_again(*args, **kwargs):
        raise AssertionError("the finished run was evaluated again")

    monkeypatch.setattr(train, "finish", score_again)
    assert train.train("pixelcnn", run_dir=run, out_dir=out, **TINY) == json.loads(json.dumps(info))
    with open(os.path.join(run, "progress.json")) as f:
        other_state = {**json.load(f), "train_seconds": info["train_seconds"] + 1.0}
    assert train.written_metadata("pixelcnn", out, other_state) is None  # another sitting's state: score it
    os.rename(os.path.join(out, "pixelcnn.weights.h5"), os.path.join(out, "moved.h5"))
    try:
        with pytest.raises(AssertionError, match="evaluated again"):  # its weights are missing: write them again
            train.train("pixelcnn", run_dir=run, out_dir=out, **TINY)
    finally:
        os.rename(os.path.join(out, "moved.h5"), os.path.join(out, "pixelcnn.weights.h5"))


def test_a_changed_recipe_is_not_resumed(tiny_checkpoint):
    root, _ = tiny_checkpoint
    with pytest.raises(ValueError, match="different recipe"):
        train.train("pixelcnn", run_dir=str(root / "run"), out_dir=str(root / "out"), **{**TINY, "train_images": 64})


def test_tiny_checkpoint_loads_with_its_numbers(tiny_checkpoint):
    root, meta = tiny_checkpoint
    out = str(root / "out")
    assert pretrained.names(out) == ["pixelcnn"]
    model = pretrained.load("pixelcnn", directory=out)
    x = datasets.load_mnist("fixed").x_test[: meta["check_images"]]
    assert abs(-np.mean(model.log_prob(x)) - meta["check_nll"]) < 1e-3
    assert meta["sha256"] == pretrained.sha256(os.path.join(out, "pixelcnn.weights.h5"))


@needs_mnist
@pytest.mark.parametrize("name", ["gated_pixelcnn_conditional", "pixelcnn_plus_plus"])
def test_conditional_and_colour_recipes_train_and_reproduce_their_numbers(tmp_path, name):
    """A class-conditional recipe trains and is scored with the labels; a colour one on the colour images."""
    meta = train.train(name, run_dir=str(tmp_path / "run"), out_dir=str(tmp_path / "out"), **{**TINY, "epochs": 1})
    recipe = recipes.RECIPES[name]
    assert ("labels" in meta["data"]) == recipe.labels
    assert ("test_bits_per_dim" in meta) == (recipe.data == "color_images")
    model = pretrained.load(name, directory=str(tmp_path / "out"))
    data = recipes.load_data(recipe)
    x, conditions = data.x_test[: meta["check_images"]], train.test_conditions(recipe, data, meta["check_images"])
    assert abs(-np.mean(model.log_prob(x, **conditions)) - meta["check_nll"]) < 1e-3


def _copy(root, name):
    target = root / name
    shutil.copytree(root / "out", target)
    return str(target)


def test_missing_corrupt_or_mismatched_checkpoints_name_the_training_command(tiny_checkpoint):
    root, meta = tiny_checkpoint
    command = "python -m keras_gen.train pixelcnn"
    with pytest.raises(pretrained.CheckpointError, match=command):
        pretrained.load("pixelcnn", directory=str(root / "nowhere"))
    missing = _copy(root, "missing")
    os.remove(os.path.join(missing, "pixelcnn.weights.h5"))
    with pytest.raises(pretrained.CheckpointError, match=f"missing.*{command}"):
        pretrained.load("pixelcnn", directory=missing)
    corrupt = _copy(root, "corrupt")
    with open(os.path.join(corrupt, "pixelcnn.weights.h5"), "r+b") as f:
        f.seek(-100, os.SEEK_END)
        tail = f.read()
        f.seek(-100, os.SEEK_END)
        f.write(bytes(b ^ 0xFF for b in tail))
    with pytest.raises(pretrained.CheckpointError, match=f"SHA-256.*{command}"):
        pretrained.load("pixelcnn", directory=corrupt)
    config = {**meta["config"], "filters": meta["config"]["filters"] // 2}
    with pytest.raises(pretrained.CheckpointError, match=f"filters: 32 here, 64 in the checkpoint.*{command}"):
        pretrained.load("pixelcnn", models.PixelCNN.from_config(config), directory=str(root / "out"))
    with pytest.raises(pretrained.CheckpointError, match="holds a PixelCNN, not a VAE"):
        pretrained.load("pixelcnn", models.VAE(latent_dim=2), directory=str(root / "out"))


def test_an_argument_added_since_a_checkpoint_was_made_counts_as_its_default(tiny_checkpoint):
    root, meta = tiny_checkpoint
    older = _copy(root, "older")
    path = os.path.join(older, "pixelcnn.json")
    with open(path) as f:
        stored = json.load(f)
    del stored["config"]["residual"]  # as if the checkpoint predated the argument (default True)
    with open(path, "w") as f:
        json.dump(stored, f)
    assert pretrained.load("pixelcnn", models.PixelCNN.from_config(meta["config"]), directory=older)
    other = models.PixelCNN.from_config({**meta["config"], "residual": False})
    with pytest.raises(pretrained.CheckpointError, match="residual: False here, True in the checkpoint"):
        pretrained.load("pixelcnn", other, directory=older)


def _metadata_copy(tmp_path, source, name, **changes):
    """Checkpoint ``source``'s metadata, changed, as checkpoint ``name`` in ``tmp_path`` (no weights)."""
    meta = pretrained.info(source)
    meta.pop("metric")
    meta.update(name=name, command=recipes.command(name), **changes)
    with open(tmp_path / f"{name}.json", "w") as f:
        json.dump(meta, f)
    return str(tmp_path)


@pytest.mark.parametrize(
    ("test_how", "labels", "metric", "phrase"),
    [
        ("exact", False, "exact NLL", "nats, exact NLL, on all 10,000 test images"),
        ("exact", True, "exact NLL, −log p(x | label)", "nats, exact NLL, −log p(x | label), on all"),
        ("ELBO", False, "ELBO", "nats, negative ELBO (a bound on the NLL), on all"),
        (
            "importance-weighted bound, k = 100",
            False,
            "importance-weighted bound, k = 100",
            "nats, importance-weighted bound (k = 100) on the NLL, on all 10,000 test images",
        ),
    ],
)
def test_info_and_describe_name_the_metric(tmp_path, test_how, labels, metric, phrase):
    data = {**pretrained.info("pixelcnn")["data"]}
    data.pop("labels", None)
    if labels:
        data["labels"] = "the model is conditioned on the images' labels"
    directory = _metadata_copy(tmp_path, "pixelcnn", "model", test_how=test_how, data=data, test_nll_stderr=0.237)
    assert pretrained.info("model", directory)["metric"] == metric
    assert pretrained.is_bound(metric) == (test_how != "exact")
    described = pretrained.describe("model", directory)
    assert "Recorded test score: " in described and phrase in described
    assert "test NLL" not in described, "a bound must not be called the test NLL"
    assert " ± 0.24 nats" in described


def test_describe_says_a_run_stopped_partway_and_how_to_resume_it(tmp_path):
    directory = _metadata_copy(tmp_path, "pixelcnn", "row_lstm", epochs=6, planned_epochs=20)
    assert "6 of 20 planned epochs (stopped partway; resumable with `python -m keras_gen.train row_lstm`)" in (
        pretrained.describe("row_lstm", directory)
    )
    directory = _metadata_copy(tmp_path, "pixelcnn", "done", epochs=20, planned_epochs=20)
    described = pretrained.describe("done", directory)
    assert "20 epochs on" in described and "planned" not in described


def test_shipped_checkpoints_name_their_metric():
    for name in SHIPPED:
        meta = pretrained.info(name)
        assert meta["metric"].startswith("exact NLL") == (meta["test_how"] == "exact"), name
        assert pretrained.is_bound(meta["metric"]) == (meta["test_how"] != "exact"), name


def test_device_kind_reads_the_hardware():
    assert pretrained.device_kind("CPU: Intel(R) Xeon(R) Processor (1 of 2 cores)") == "CPU"
    assert pretrained.device_kind("1 × gpu:0") == "GPU"
    assert pretrained.device_kind("CPU: AMD EPYC (1 of 2 cores); 1 × cuda:0") == "CPU, then GPU"


def test_hardware_names_the_thread_settings(monkeypatch):
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    described = train.hardware()
    if described.startswith("CPU"):
        assert "TF_NUM_INTRAOP_THREADS=1" in described
        assert "XLA_FLAGS=--xla_cpu_multi_thread_eigen=false" in described


def test_the_command_line_lists_the_recipes_without_a_name_and_rejects_unknown_ones(capsys):
    train.main([])
    listed = capsys.readouterr().out
    assert all(name in listed for name in recipes.RECIPES)
    with pytest.raises(SystemExit):
        train.main(["pixelcnn", "no_such_model"])
    assert "no recipe named 'no_such_model'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # two runs cannot resume from one folder
        train.main(["pixelcnn", "vae", "--run-dir", "runs/somewhere"])
    assert "--run-dir takes a single run, got 2" in capsys.readouterr().err


@needs_mnist
def test_a_latent_checkpoint_records_its_elbo_and_its_attention_health(tmp_path):
    info = train.train(
        "draw_t64", run_dir=str(tmp_path / "run"), out_dir=str(tmp_path / "out"),
        epochs=1, train_images=100, test_images=20, verbose=False,
    )  # fmt: skip
    assert info["test_how"] == "importance-weighted bound, k = 100"
    # the k = 100 bound is tighter than the ELBO (on average over digits; both with seed 0)
    assert info["test_nll"] < info["test_negative_elbo"]
    assert info["test_negative_elbo_stderr"] > 0
    history = info["history"]
    assert len(history["write_border_share"]) == 1 and 0.0 <= history["write_border_share"][0] <= 1.0
    assert len(history["kl_per_step"][0]) == info["config"]["T"]
    row = next(r for r in pretrained.results_rows(str(tmp_path / "out")) if r["name"] == "draw_t64")
    assert row["test_negative_elbo"] == info["test_negative_elbo"]
