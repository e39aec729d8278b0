"""`make book`'s parallel pre-execution (book/execute_notebooks.py) fills the cache the build reads."""

import importlib
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache

SCRIPT = Path(__file__).resolve().parents[1] / "book" / "execute_notebooks.py"


@pytest.fixture(scope="module")
def execute_notebooks():
    """The script as a module its worker processes can import by name (they unpickle its function)."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        yield importlib.import_module(SCRIPT.stem)
    finally:
        sys.path.remove(str(SCRIPT.parent))


def write_notebook(path, code):
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# A page"), nbformat.v4.new_code_cell(code)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(notebook, path)
    return path


def test_executed_notebooks_are_found_by_the_build_and_not_run_twice(tmp_path, capsys, execute_notebooks):
    first = write_notebook(tmp_path / "first.ipynb", "import os\nprint(os.getcwd())")
    second = write_notebook(tmp_path / "second.ipynb", "print(6 * 7)")
    cache_dir = str(tmp_path / "cache")
    execute_notebooks.main(["--cache", cache_dir, "--jobs", "2", str(first), str(second)])
    assert "0 of 2 notebooks cached; running 2" in capsys.readouterr().out

    # what myst-nb does in "cache" mode: match the notebook as read from disk, take the outputs
    cache = get_cache(cache_dir)
    for path, expected in [(first, str(tmp_path)), (second, "42")]:
        _, merged = cache.merge_match_into_notebook(nbformat.read(path, as_version=4))
        assert merged.cells[1].outputs[0]["text"].strip() == expected  # run in the notebook's own folder
        assert "execution" not in merged.cells[1].metadata  # timings would change the cache key

    execute_notebooks.main(["--cache", cache_dir, str(first), str(second)])
    assert "2 of 2 notebooks cached; running 0" in capsys.readouterr().out


def test_a_failing_notebook_fails_the_run_and_stays_out_of_the_cache(tmp_path, execute_notebooks):
    broken = write_notebook(tmp_path / "broken.ipynb", "raise ValueError('no')")
    with pytest.raises(SystemExit, match="failed: broken.ipynb"):
        execute_notebooks.main(["--cache", str(tmp_path / "cache"), str(broken)])
    with pytest.raises(KeyError):
        get_cache(str(tmp_path / "cache")).match_cache_notebook(nbformat.read(broken, as_version=4))
