"""The package itself: ``import keras_gen`` stays light; the library core never imports the book's tooling."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(code):
    """Run ``code`` in a fresh interpreter (this one has imported everything already) and return its JSON output."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


# every module of the library core; none may import the book's tooling (keras_gen.book)
CORE = (
    "keras_gen.attention_health",
    "keras_gen.compiled",
    "keras_gen.datasets",
    "keras_gen.evaluation",
    "keras_gen.heads",
    "keras_gen.layers",
    "keras_gen.models",
    "keras_gen.ops",
    "keras_gen.pretrained",
    "keras_gen.recipes",
    "keras_gen.train",
    "keras_gen.validation",
)


def test_import_keras_gen_does_not_import_plotting_or_progress_bars():
    # Keras itself may import matplotlib (keras.src.visualization); what counts is what keras_gen adds
    added = _run(
        "import json, sys; import keras; before = set(sys.modules); import keras_gen; "
        "print(json.dumps(sorted(m for m in set(sys.modules) - before "
        "if m.split('.')[0] in ('matplotlib', 'tqdm', 'PIL') or m.startswith('keras_gen.book'))))"
    )
    assert added == []
    assert _run("import json, sys; import keras_gen; print(json.dumps('tqdm' in sys.modules))") is False


def test_the_library_core_does_not_import_the_book_tooling():
    loaded = _run(
        f"import importlib, json, sys; [importlib.import_module(m) for m in {CORE!r}]; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('keras_gen.book'))))"
    )
    assert loaded == []


def test_loading_checkpoints_does_not_import_the_trainer():
    loaded = _run("import json, sys; import keras_gen.pretrained; print(json.dumps('keras_gen.train' in sys.modules))")
    assert loaded is False


def test_book_helpers_load_when_imported():
    loaded = _run(
        "import json, sys; import keras_gen; "
        "from keras_gen.book import attention_plots, plotting, profiles, progress, timing; "
        "ok = [callable(plotting.image_grid), callable(progress.ProgressBar), callable(attention_plots.draw_box), "
        "callable(profiles.current), callable(timing.timed_twice)]; "
        "print(json.dumps([ok, 'matplotlib' in sys.modules, 'tqdm' in sys.modules]))"
    )
    assert loaded == [[True] * 5, True, True]


def test_unknown_attribute_is_an_attribute_error():
    import keras_gen

    try:
        keras_gen.no_such_module  # noqa: B018
    except AttributeError as error:
        assert "no_such_module" in str(error)
    else:
        raise AssertionError("expected an AttributeError")


def test_the_design_contracts_profiles_name_reaches_the_book_profiles():
    # DESIGN.md names keras_gen.profiles.current(); the module lives in keras_gen.book, loaded on first use
    same = _run(
        "import json, sys; import keras_gen; lazy = 'keras_gen.book.profiles' not in sys.modules; "
        "from keras_gen.book import profiles; print(json.dumps([lazy, keras_gen.profiles is profiles]))"
    )
    assert same == [True, True]
