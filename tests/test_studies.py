"""Studies: named sets of runs trained alike, whose metadata ships and loads as one dict."""

import dataclasses
import json
import os

import numpy as np
import pytest

from keras_gen import datasets, evaluation, models, pretrained, recipes, train

needs_mnist = pytest.mark.skipif(
    not os.environ.get(datasets.DATA_DIR_VAR), reason=f"{datasets.DATA_DIR_VAR} not set (make data sets it)"
)
TINY = {"epochs": 1, "train_images": 64, "test_images": 16, "verbose": False}
RUN_FIELDS = {"config", "history", "epochs", "test_nll", "test_nll_stderr", "test_how", "hardware", "hours", "metric"}


def test_every_study_names_its_chapter_question_and_runs():
    for name, study in recipes.STUDIES.items():
        assert os.path.exists(os.path.join(recipes.PACKAGE_DIR, "..", study.chapter)), name
        assert study.question.endswith("?"), name
        assert len(study.runs) >= 2 or study.weights, f"{name}: a comparison needs two runs"
        assert set(study.weights) <= set(study.runs), name
        for run, recipe in study.runs.items():
            if isinstance(recipe, recipes.Recipe):
                assert hasattr(models, recipe.model), (name, run)
                assert recipes.find(f"{name}/{run}") is recipe
            else:  # a checkpoint or another study's run answers for it
                assert recipe in recipes.RECIPES or recipe in recipes.study_runs(), (name, run, recipe)


def test_the_runs_of_a_study_share_data_schedule_and_budget():
    for name, study in recipes.STUDIES.items():
        own = [r for r in study.runs.values() if isinstance(r, recipes.Recipe)]
        budgets = {
            (r.data, r.epochs, r.batch_size, r.learning_rate, r.final_learning_rate, r.train_images) for r in own
        }
        assert len(budgets) <= 1, f"{name}: {budgets}"


def test_unknown_names_and_borrowed_runs_say_what_to_do():
    with pytest.raises(ValueError, match="no recipe named 'no_such/run'"):
        recipes.find("no_such/run")
    with pytest.raises(ValueError, match="python -m keras_gen.train gated_pixelcnn`"):
        recipes.find("label/unconditional")
    with pytest.raises(pretrained.CheckpointError, match="no study named 'no_such'"):
        pretrained.study("no_such")
    with pytest.raises(ValueError, match="no study named"):
        train.train_study("no_such")


def test_a_missing_run_names_the_command_that_makes_it(tmp_path):
    with pytest.raises(pretrained.CheckpointError, match="python -m keras_gen.train gating/gated`"):
        pretrained.study("gating", directory=str(tmp_path))


# Tiny networks for the studies these tests train: the tests check the studies' files and checks, not the
# networks, which at their real sizes take minutes to build, compile and train even on 64 digits
TINY_CONFIGS = {
    "gating": {
        "gated": {"filters": 4, "num_layers": 1},
        "plain": {"filters": 8, "num_layers": 1},
    },
    "hierarchical_pixelvae": {
        "hierarchical": {
            "latent_dim": 2,
            "top_dim": 1,
            "hidden_units": (8,),
            "top_hidden_units": (4,),
            "map_channels": 2,
            "filters": 4,
            "num_layers": 1,
        },
    },
}


@pytest.fixture(scope="module")
def tiny_networks():
    """The studies of TINY_CONFIGS with their runs' networks shrunk (and so their recipes), while this module runs."""
    with pytest.MonkeyPatch.context() as patch:
        for name, configs in TINY_CONFIGS.items():
            study = recipes.STUDIES[name]
            runs = {
                run: dataclasses.replace(recipe, config={**recipe.config, **configs[run]}) if run in configs else recipe
                for run, recipe in study.runs.items()
            }
            patch.setitem(recipes.STUDIES, name, dataclasses.replace(study, runs=runs))
        yield


@pytest.fixture(scope="module")
def tiny_gating(tmp_path_factory, tiny_networks):
    """The gating study shrunk to one epoch of 64 digits and tiny networks, written to a folder of its own."""
    if not os.environ.get(datasets.DATA_DIR_VAR):
        pytest.skip(f"{datasets.DATA_DIR_VAR} not set")
    root = tmp_path_factory.mktemp("study")
    out = root / "out"
    study = train.train_study("gating", out_dir=str(out), run_root=str(root / "runs"), **TINY)
    return out, study


def test_a_study_round_trips(tiny_gating):
    out, study = tiny_gating
    assert study["name"] == "gating" and study["chapter"] == recipes.STUDIES["gating"].chapter
    assert set(study["runs"]) == {"gated", "plain"}
    for run, meta in study["runs"].items():
        assert RUN_FIELDS <= set(meta), run
        assert meta["test_images"] == TINY["test_images"] and meta["epochs"] == 1
        assert len(meta["history"]["nll"]) == 1
        assert meta["command"] == f"python -m keras_gen.train gating/{run}"
        assert "sha256" not in meta and not os.path.exists(out / f"{run}.weights.h5")  # metadata only
        per_image = meta["test_nll_per_image"]
        assert per_image.shape == (TINY["test_images"],)
        assert abs(per_image.mean() - meta["test_nll"]) < 1e-3
    gap, error = evaluation.paired_difference(
        study["runs"]["plain"]["test_nll_per_image"], study["runs"]["gated"]["test_nll_per_image"]
    )
    assert abs(gap - (study["runs"]["plain"]["test_nll"] - study["runs"]["gated"]["test_nll"])) < 1e-3 and error > 0
    again = pretrained.study("gating", directory=str(out), check_budget=False)
    assert again["runs"]["gated"]["test_nll"] == study["runs"]["gated"]["test_nll"]
    with pytest.raises(pretrained.CheckpointError, match="only"):
        pretrained.load("gating/gated", directory=str(out))


def test_a_shrunk_or_changed_run_is_refused(tiny_gating):
    out, _ = tiny_gating
    with pytest.raises(pretrained.CheckpointError, match="1 of its 3 epochs.*gating/gated`"):
        pretrained.study("gating", directory=str(out))
    path = out / "plain.json"
    meta = json.loads(path.read_text())
    meta["config"]["filters"] = 16
    changed = out.parent / "changed"
    changed.mkdir()
    (changed / "plain.json").write_text(json.dumps(meta))
    (changed / "gated.json").write_text((out / "gated.json").read_text())
    with pytest.raises(pretrained.CheckpointError, match="filters: 16 stored, 8 in the recipe"):
        pretrained.study("gating", directory=str(changed), check_budget=False)


@needs_mnist
@pytest.mark.usefixtures("tiny_networks")
def test_a_study_that_ships_weights_loads_its_model(tmp_path):
    study = train.train_study("hierarchical_pixelvae", out_dir=str(tmp_path), run_root=str(tmp_path / "runs"), **TINY)
    meta = study["runs"]["hierarchical"]
    model = pretrained.load("hierarchical_pixelvae/hierarchical", directory=str(tmp_path))
    assert isinstance(model, models.HierarchicalPixelVAE)
    assert meta["sha256"] == pretrained.sha256(tmp_path / "hierarchical.weights.h5")


def test_the_command_line_expands_a_study_into_its_runs(monkeypatch, capsys):
    made = []
    monkeypatch.setattr(train, "train", lambda name, **kwargs: made.append(name))
    train.main(["pixelrnn_depth"])
    assert made == [f"pixelrnn_depth/layers_{n}" for n in (1, 2, 4, 7)]  # layers_12 is another study's run
    train.main(["--list"])
    listed = capsys.readouterr().out
    assert all(run in listed for run in recipes.study_runs())


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
    import glob
    import re

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
