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
    dirty = [
        i
        for i, c in enumerate(_cells(path))
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"code cells {dirty} keep outputs: clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_is_a_chapter_with_a_colab_badge(path):
    name = os.path.splitext(os.path.basename(path))[0]
    with open(os.path.join(ROOT, "_toc.yml")) as f:
        assert f"file: notebooks/{name}\n" in f.read(), f"{name} is missing from _toc.yml"
    cells = _cells(path)
    first = "".join(cells[0]["source"])
    assert (
        first.startswith("# ") and "colab.research.google.com/github/" in first and f"notebooks/{name}.ipynb" in first
    )
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


def _first_cell_badge(path):
    return re.search(
        r"\[!\[Open In Colab\]\(([^)]+)\)\]\((https://colab\.research\.google\.com/github/[^)]+)\)",
        "".join(_cells(path)[0]["source"]),
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_colab_badge_is_a_local_image_linking_to_colab(path):
    badge = _first_cell_badge(path)
    assert badge, "the first cell has no Colab badge"
    image, target = badge.groups()
    assert "://" not in image and os.path.isfile(os.path.normpath(os.path.join(os.path.dirname(path), image))), (
        f"the badge image {image} must be a file of the repository (the book loads nothing remote)"
    )
    assert target.endswith(f"notebooks/{os.path.basename(path)}")


def test_chapters_are_numbered_in_reading_order():
    with open(os.path.join(ROOT, "_toc.yml")) as f:
        toc = re.findall(r"file: notebooks/(\S+)", f.read())
    names = [os.path.splitext(os.path.basename(path))[0] for path in NOTEBOOKS]
    assert toc == names, "_toc.yml must list the notebooks in the order of their file numbers"
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    for number, (path, name) in enumerate(zip(NOTEBOOKS, names, strict=True), start=1):
        assert name.startswith(f"{number:02d}_"), f"{name}: chapter {number} must be notebooks/{number:02d}_*.ipynb"
        title = "".join(_cells(path)[0]["source"]).splitlines()[0]
        assert title.startswith(f"# {number}. "), f"{name}: the title {title!r} must start with '# {number}. '"
        assert re.search(rf"^\| {number}\. [^|]+\| [^\n]*notebooks/{name}\.ipynb", readme, re.MULTILINE), (
            f"README's Colab table must list {name} as chapter {number}"
        )


def _yaml(*parts):
    yaml = pytest.importorskip("yaml")
    with open(os.path.join(ROOT, *parts)) as f:
        return yaml.safe_load(f)


def _steps(workflow, job):
    return workflow["jobs"][job]["steps"]


def _uses(steps):
    return [step["uses"].split("@")[0] for step in steps if "uses" in step]


def test_config_serves_everything_from_the_book_and_caches_execution():
    config = _yaml("_config.yml")
    sphinx = config["sphinx"]["config"]
    assert "://" not in sphinx["mathjax_path"], "MathJax must come from the build, not a CDN"
    assert config["execute"]["execute_notebooks"] == "cache"
    for name, folder in config["sphinx"]["local_extensions"].items():
        assert os.path.isfile(os.path.join(ROOT, folder, name + ".py"))
    with open(os.path.join(ROOT, "Makefile")) as f:
        makefile = f.read()
    targets = (
        "book:",
        "book-from-outputs:",
        "book-check:",
        "notebook-render-check:",
        "book-clean:",
        "mathjax:",
        "browser:",
    )
    for target in targets:
        assert f"\n{target}" in makefile, f"Makefile lacks {target}"
    startup = "book/_kernel/00-load-backend.py"  # keeps TensorFlow's start-up log out of the pages
    assert startup in makefile and os.path.isfile(os.path.join(ROOT, startup))


def test_book_workflow_builds_checks_and_deploys_on_pushes_to_main():
    workflow = _yaml(".github", "workflows", "book.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"]
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"
    build = _steps(workflow, "build")
    uses = _uses(build)
    for action in ("actions/checkout", "actions/setup-python", "actions/setup-node", "actions/upload-pages-artifact"):
        assert action in uses, f"book.yml does not use {action}"
    setup_python = next(s for s in build if s.get("uses", "").startswith("actions/setup-python"))
    assert str(setup_python["with"]["python-version"]) == "3.11"
    runs = [step["run"] for step in build if "run" in step]
    assert any("make book" in r and "PROFILE=cpu" in r for r in runs) and any("make book-check" in r for r in runs)
    upload = next(s for s in build if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    assert workflow["jobs"]["deploy"]["needs"] == "build"
    assert "actions/deploy-pages" in _uses(_steps(workflow, "deploy"))


def test_ci_workflow_runs_ci_script_on_pull_requests():
    workflow = _yaml(".github", "workflows", "ci.yml")
    triggers = workflow.get("on", workflow.get(True))
    assert "pull_request" in triggers
    (job,) = workflow["jobs"].values()
    assert [s["run"] for s in job["steps"] if "run" in s] == ["bash .ci/run"]
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        commands = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    assert commands.index("make book-check") > commands.index("make book-from-outputs"), (
        ".ci/run checks the book in a browser after building it"
    )
    assert commands.index("make notebook-render-check") == commands.index("make book-check") + 1, (
        ".ci/run renders the notebooks outside the book right after checking the book"
    )


def _citation_years():
    pybtex_database = pytest.importorskip("pybtex.database")
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "citation_years", os.path.join(ROOT, "book", "_ext", "citation_years.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entries = pybtex_database.parse_file(os.path.join(ROOT, "book", "references.bib")).entries
    return module, entries


def test_same_author_same_year_papers_get_letters():
    module, entries = _citation_years()
    labels = module.year_labels(entries)
    assert labels["vandenoord2016pixel"] == "2016a" and labels["vandenoord2016conditional"] == "2016b"
    seen = {}
    for key, entry in entries.items():
        label = (module.author_text(entry), labels[key])
        assert label not in seen, f"{key} and {seen.get(label)} both cite as {label}"
        seen[label] = key


def test_author_year_citations_written_by_hand_match_the_rendered_ones():
    """Tables printed by the notebooks and docstrings name papers as "van den Oord et al. (2016a)":
    the letter must be the one the book's citations show (book/_ext/citation_years.py)."""
    module, entries = _citation_years()
    labels = module.year_labels(entries)
    years_of = {}
    for key, entry in entries.items():
        years_of.setdefault(module.author_text(entry), set()).add(labels[key])
    sources = NOTEBOOKS + glob.glob(os.path.join(ROOT, "keras_gen", "**", "*.py"), recursive=True)
    wrong = []
    for path in sources:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for author, years in years_of.items():
            for match in re.finditer(re.escape(author) + r",? \(?(\d{4}[a-z]?)\b", text):
                if match.group(1) not in years:
                    wrong.append(f"{os.path.relpath(path, ROOT)}: {match.group(0)!r} (the book cites {sorted(years)})")
    assert not wrong, "\n".join(wrong)
