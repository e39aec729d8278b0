"""The book's sources: notebooks stored clean, every chapter in the table of contents,
a Colab badge on every chapter (and in the README), and every citation key in the bibliography."""

import glob
import json
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def _cells(path):
    with open(path) as f:
        return json.load(f)["cells"]


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_is_stored_without_outputs(path):
    dirty = [i for i, c in enumerate(_cells(path)) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"code cells {dirty} keep outputs: clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_is_a_chapter_with_a_colab_badge(path):
    name = os.path.splitext(os.path.basename(path))[0]
    with open(os.path.join(ROOT, "_toc.yml")) as f:
        assert f"file: notebooks/{name}\n" in f.read(), f"{name} is missing from _toc.yml"
    cells = _cells(path)
    first = "".join(cells[0]["source"])
    assert first.startswith("# ") and "colab.research.google.com/github/" in first and f"notebooks/{name}.ipynb" in first
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert "google.colab" in code[0] and "pip install" in code[0], "first code cell must install keras_gen on Colab"
    assert any("profiles.current()" in source for source in code), "chapters read their budget from the profile"
    with open(os.path.join(ROOT, "README.md")) as f:
        assert f"blob/main/notebooks/{name}.ipynb" in f.read(), f"README's Colab table misses {name}"


def test_every_citation_has_a_bibliography_entry():
    with open(os.path.join(ROOT, "book", "references.bib")) as f:
        keys = set(re.findall(r"@\w+\{([^,]+),", f.read()))
    sources = [os.path.join(ROOT, "book", n) for n in os.listdir(os.path.join(ROOT, "book")) if n.endswith(".md")]
    cited = set()
    for path in sources + NOTEBOOKS:
        with open(path) as f:
            text = f.read()
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text):
            cited.update(k.strip() for k in group.split(","))
    assert cited and not cited - keys, f"cited but not in references.bib: {sorted(cited - keys)}"
