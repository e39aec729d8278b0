"""Studies: named sets of runs trained alike, whose metadata ships and loads as one dict."""

import dataclasses
import json
import os

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
