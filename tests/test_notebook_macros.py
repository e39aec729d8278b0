"""Every chapter renders its mathematics on its own, in Jupyter, Colab and on GitHub.

The book's LaTeX macros are defined in _config.yml, which only the book reads. So every
notebook carries the same definitions in one markdown cell right after its title cell:
``$$ \\newcommand{\\E}{...} ... $$``, tagged ``remove-cell`` (the book hides it and keeps its
own). book/sync_macros.py writes those cells; these tests check them, without the book.
"""

import glob
import importlib.util
import json
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
FIX = "run `python book/sync_macros.py`: it writes the macros of _config.yml into every notebook"
NEWCOMMAND = re.compile(r"^\\newcommand\{\\([A-Za-z]+)\}(?:\[(\d+)\])?(?:\[([^\]]*)\])?\{(.*)\}$")


def _normalised(definition):
    """A macro of MathJax's configuration as (body, number of arguments, optional default)."""
    if isinstance(definition, str):
        definition = [definition]
    body, *rest = definition
    return body, int(rest[0]) if rest else 0, rest[1] if len(rest) > 1 else None


def _config_macros():
    with open(os.path.join(ROOT, "_config.yml"), encoding="utf-8") as f:
        macros = yaml.safe_load(f)["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    return {name: _normalised(definition) for name, definition in macros.items()}


def _definitions(source):
    """{name: (body, arguments, default)} of the \\newcommand lines; every such line must parse."""
    definitions = {}
    for line in source.splitlines():
        if "\\newcommand" not in line:
            continue
        match = NEWCOMMAND.match(line.strip())
        assert match, f"cannot read the definition {line!r}; {FIX}"
        name, arguments, default, body = match.groups()
        assert name not in definitions, f"\\{name} is defined twice; {FIX}"
        definitions[name] = (body, int(arguments or 0), default)
    return definitions


def _cells(path):
    with open(path, encoding="utf-8") as f:
        return [dict(cell, source="".join(cell["source"])) for cell in json.load(f)["cells"]]


def _macro_cells(cells):
    return [i for i, cell in enumerate(cells) if cell["cell_type"] == "markdown" and "\\newcommand" in cell["source"]]


def test_config_defines_macros():
    assert _config_macros(), "_config.yml (sphinx.config.mathjax3_config.tex.macros) defines no macros"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_defines_the_macros_of_the_config_right_after_its_title(path):
    cells = _cells(path)
    found = _macro_cells(cells)
    assert len(found) == 1, f"{len(found)} markdown cells define macros (one must); {FIX}"
    index = found[0]
    cell = cells[index]
    assert index == 1, f"the macro cell is cell {index}, not the one right after the title; {FIX}"
    assert "remove-cell" in cell["metadata"].get("tags", []), f"the macro cell must be tagged remove-cell; {FIX}"
    math = re.sub(r"<!--.*?-->", "", cell["source"], flags=re.DOTALL).strip()
    assert math.startswith("$$") and math.endswith("$$") and math.count("$$") == 2, (
        f"the macro cell must hold one $$ ... $$ block and nothing else; {FIX}"
    )
    assert _definitions(cell["source"]) == _config_macros(), f"the macro cell differs from _config.yml; {FIX}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_every_macro_a_notebook_uses_is_defined_before_it(path):
    cells = _cells(path)
    found = _macro_cells(cells)
    defined = _definitions(cells[found[0]]["source"]) if found else {}
    use = re.compile(r"\\({})(?![A-Za-z])".format("|".join(map(re.escape, _config_macros()))))
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown" or i in found:
            continue
        for name in sorted(set(use.findall(cell["source"]))):
            assert name in defined, f"cell {i} uses \\{name}, which the notebook does not define; {FIX}"
            assert i > found[0], f"cell {i} uses \\{name} before the macro cell {found[0]} defines it; {FIX}"


@pytest.fixture(scope="module")
def sync_macros():
    spec = importlib.util.spec_from_file_location("sync_macros", os.path.join(ROOT, "book", "sync_macros.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sync_writes_macros_with_arguments_as_mathjax_reads_them(sync_macros):
    macros = {
        "E": "\\mathbb{E}",
        "KL": ["\\operatorname{KL}\\left(#1\\,\\middle\\|\\,#2\\right)", 2],
        "N": ["#1", 1, "x"],
    }
    lines = [sync_macros.newcommand(name, definition) for name, definition in macros.items()]
    assert lines[1] == "\\newcommand{\\KL}[2]{\\operatorname{KL}\\left(#1\\,\\middle\\|\\,#2\\right)}"
    assert lines[2] == "\\newcommand{\\N}[1][x]{#1}"
    assert _definitions("\n".join(lines)) == {name: _normalised(d) for name, d in macros.items()}


def test_sync_keeps_one_macro_cell_after_the_title_and_is_idempotent(sync_macros, tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# 1. Title\n\n$\\E[x]$", id="title"),
        nbformat.v4.new_code_cell("x = 1", id="code"),
        nbformat.v4.new_markdown_cell("$$\n\\newcommand{\\E}{\\mathrm{old}}\n$$", id="old-macros"),
        nbformat.v4.new_markdown_cell("$$\n\\newcommand{\\E}{\\mathrm{older}}\n$$", id="older-macros"),
    ]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(notebook, path)
    before = path.read_text()
    macros = {"E": "\\mathbb{E}", "KL": ["\\mathrm{KL}(#1 \\| #2)", 2]}
    assert sync_macros.sync(path, macros, write=False) and path.read_text() == before, "--check must not write"
    assert sync_macros.sync(path, macros)
    assert not sync_macros.sync(path, macros), "a second run must change nothing"
    cells = _cells(path)
    assert [c["id"] for c in cells] == ["title", "old-macros", "code"]
    assert cells[1]["metadata"]["tags"] == ["remove-cell"]
    assert _definitions(cells[1]["source"]) == {name: _normalised(d) for name, d in macros.items()}
