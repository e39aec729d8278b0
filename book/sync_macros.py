"""(Re)write every notebook's LaTeX macro cell from the macros of _config.yml.

The book defines its LaTeX macros once, in _config.yml (``sphinx: config: mathjax3_config:
tex: macros``), and MathJax gets them from there. Jupyter, Colab and GitHub never read that
file, so each notebook carries the same definitions itself: a markdown cell right after the
title cell holding one ``\\newcommand`` per macro inside ``$$ ... $$``, tagged ``remove-cell``
so that the rendered book, which has the macros already, does not show it (and were it shown,
MathJax's ``\\newcommand`` redefines a macro silently, as ``\\renewcommand`` does: no error).

    python book/sync_macros.py            rewrite the cells that differ from _config.yml
    python book/sync_macros.py --check    only report them; exit status 1 if any differs

Edit the macros in _config.yml, then run this; tests/test_notebook_macros.py checks the cells.
Only the macro cells change: other cells, their outputs and the file's layout stay as they are.
"""

import argparse
import json
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
CELL_ID = "latex-macros"
TAG = "remove-cell"
NOTE = (
    "<!-- The LaTeX macros of _config.yml, for Jupyter, Colab and GitHub (the book hides this cell)."
    " Written by book/sync_macros.py: edit the macros in _config.yml, then run it. -->"
)


def config_macros(path=ROOT / "_config.yml"):
    """The macros of _config.yml as {name: definition}, each definition as MathJax takes it:
    a string, or [body, number of arguments] or [body, number of arguments, optional default]."""
    with open(path, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    return dict(config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"])


def newcommand(name, definition):
    """The ``\\newcommand`` line that defines one macro as MathJax's configuration does."""
    if isinstance(definition, str):
        definition = [definition]
    body, *rest = definition
    line = f"\\newcommand{{\\{name}}}"
    if rest and int(rest[0]):
        line += f"[{int(rest[0])}]"
    if len(rest) > 1:
        line += f"[{rest[1]}]"
    return f"{line}{{{body}}}"


def macro_cell_source(macros):
    return "\n".join([NOTE, "", "$$", *(newcommand(name, d) for name, d in macros.items()), "$$"])


def is_macro_cell(cell):
    return cell["cell_type"] == "markdown" and "\\newcommand" in "".join(cell["source"])


def sync(path, macros, write=True):
    """Puts exactly one macro cell, with the definitions of ``macros``, right after the title
    cell of the notebook at ``path``; returns whether the file changed (or would change)."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    notebook = json.loads(raw)  # plain JSON keeps the file's key order: the diff shows only the cell
    cells = notebook["cells"]
    found = [cell for cell in cells if is_macro_cell(cell)]
    cell = found[0] if found else {"cell_type": "markdown", "id": CELL_ID, "metadata": {}, "source": []}
    cells[:] = [c for c in cells if not is_macro_cell(c)]
    cells.insert(1, cell)
    cell["source"] = macro_cell_source(macros).splitlines(keepends=True)
    tags = cell["metadata"].setdefault("tags", [])
    if TAG not in tags:
        tags.append(TAG)
    text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    nbformat.validate(nbformat.reads(text, as_version=nbformat.NO_CONVERT))
    if text == raw:
        return False
    if write:
        path.write_text(text, encoding="utf-8")
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a cell differs")
    args = parser.parse_args(argv)
    macros = config_macros()
    changed = [
        path for path in args.notebooks or sorted(ROOT.glob("notebooks/*.ipynb")) if sync(path, macros, not args.check)
    ]
    for path in changed:
        print(f"{'differs' if args.check else 'rewrote'}: {path}")
    if args.check and changed:
        print("run `python book/sync_macros.py` to write the macros of _config.yml into these notebooks")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
