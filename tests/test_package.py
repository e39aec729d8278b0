"""The package itself: ``import keras_gen`` stays light, the book's helpers load on first use."""

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


def test_import_keras_gen_does_not_import_plotting_or_progress_bars():
    # Keras itself may import matplotlib (keras.src.visualization); what counts is what keras_gen adds
    added = _run(
        "import json, sys; import keras; before = set(sys.modules); import keras_gen; "
        "print(json.dumps(sorted(m for m in set(sys.modules) - before "
        "if m.split('.')[0] in ('matplotlib', 'tqdm', 'PIL') or m in "
        "('keras_gen.plotting', 'keras_gen.training', 'keras_gen.attention_plots'))))"
    )
    assert added == []
    assert _run("import json, sys; import keras_gen; print(json.dumps('tqdm' in sys.modules))") is False


def test_book_helpers_load_on_first_use():
    loaded = _run(
        "import json, sys; import keras_gen; from keras_gen import plotting; "
        "ok = [callable(plotting.image_grid), callable(keras_gen.training.ProgressBar), "
        "callable(keras_gen.attention_plots.draw_box), 'plotting' in dir(keras_gen)]; "
        "print(json.dumps([ok, 'matplotlib' in sys.modules, 'tqdm' in sys.modules]))"
    )
    assert loaded == [[True, True, True, True], True, True]


def test_unknown_attribute_is_an_attribute_error():
    import keras_gen

    try:
        keras_gen.no_such_module  # noqa: B018
    except AttributeError as error:
        assert "no_such_module" in str(error)
    else:
        raise AssertionError("expected an AttributeError")
