"""Render every notebook as Jupyter and GitHub show it, outside the book, and check its formulas.

    python tests/browser/check_notebooks.py notebooks/*.ipynb     (or: make notebook-render-check)

Not part of the unit tests (`pytest tests` does not collect it): it needs Debian's `chromium`
and `chromium-driver` (`make browser`), selenium and nbconvert, and the book's MathJax
(`make mathjax`). No network is used, neither to convert nor to render.

Each notebook is converted with `jupyter nbconvert --to html` (run as `python -m nbconvert`,
the same program), with the `lab` template as JupyterLab exports a notebook, and MathJax 3
from the book's own copy (book/_static/mathjax/tex-chtml.js) through a file:// URL, set up
as JupyterLab sets it up: $...$ and $$...$$ (and \\( \\[) delimiters, escapes, environments.
Nothing of the book comes with it: the macros of _config.yml are not given, so a formula
with a macro renders only where the notebook defines it (book/sync_macros.py writes those
definitions). MathJax's `noundefined` extension, which would show an unknown macro as red
text, is left out, so an undefined macro is a MathJax error here. The lab template's
require.js, which it fetches from a CDN and no chapter needs, is left out too.

Each HTML file is opened in headless Chromium (set up by check_book.py) and, once MathJax
has finished, it asserts:
  * MathJax loaded, and no formula failed: no <mjx-merror> or <merror> element;
  * no formula left untypeset: no $...$, $$, \\( or \\[ in the text outside code and
    MathJax's output;
  * every script, stylesheet and image comes from a file or a data: URL, not the network.
It prints per notebook the number of formulas typeset. Exit status 1 on any failure.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from check_book import JS_PROSE_TEXT, RAW_TEX, start_browser, wait_for_page

ROOT = Path(__file__).resolve().parents[2]
MATHJAX = ROOT / "book" / "_static" / "mathjax" / "tex-chtml.js"
TEMPLATE = "jupyter-mathjax3"

# The lab template with JupyterLab's MathJax 3 configuration in place of nbconvert's MathJax 2
# one (which MathJax 3 ignores), without the unknown-macro fallback, and without require.js.
TEMPLATE_INDEX = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}
<script>
window.MathJax = {
  tex: {
    inlineMath: [['$', '$'], ['\\(', '\\)']],
    displayMath: [['$$', '$$'], ['\\[', '\\]']],
    processEscapes: true,
    processEnvironments: true,
    tags: 'ams',
    packages: {'[-]': ['noundefined']}
  }
};
</script>
<script src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}
"""
TEMPLATE_CONF = '{"base_template": "lab", "mimetypes": {"text/html": true}}\n'

# a $...$ formula on one line, or any delimiter check_book.py looks for
UNTYPESET = re.compile(RAW_TEX.pattern + r"|\$[^$\n]+\$")

JS_FACTS = """
return {
  mathjax: !!(window.MathJax && MathJax.version && MathJax.startup && MathJax.startup.promise),
  typeset: document.querySelectorAll('mjx-container').length,
  errors: [...document.querySelectorAll('mjx-merror, merror')]
      .map(e => (e.getAttribute('data-mjx-error') || e.textContent).trim().slice(0, 120)),
  resources: [...document.querySelectorAll('script[src], link[href], img[src], iframe[src]')]
      .filter(e => e.tagName !== 'LINK' ||
              /stylesheet|preload|icon|modulepreload/.test(e.getAttribute('rel') || ''))
      .map(e => new URL(e.getAttribute('src') || e.getAttribute('href'), document.baseURI).href),
};
"""


def convert(notebooks, out_dir, mathjax_url):
    """`jupyter nbconvert --to html` with the template above; returns the HTML files."""
    with tempfile.TemporaryDirectory(prefix="notebook-render-template-") as templates:
        folder = Path(templates) / TEMPLATE
        folder.mkdir()
        (folder / "conf.json").write_text(TEMPLATE_CONF)
        (folder / "index.html.j2").write_text(TEMPLATE_INDEX)
        command = [sys.executable, "-m", "nbconvert", "--to", "html", "--template", TEMPLATE]
        command += [f"--TemplateExporter.extra_template_basedirs={templates}"]
        command += [f"--HTMLExporter.mathjax_url={mathjax_url}", "--output-dir", str(out_dir), *map(str, notebooks)]
        subprocess.run(command, check=True)
    return [Path(out_dir) / (Path(notebook).stem + ".html") for notebook in notebooks]


def check_notebook(driver, page):
    """The problems of one converted notebook, and the number of formulas MathJax typeset."""
    driver.get(page.resolve().as_uri())
    wait_for_page(driver, timeout=120)
    facts = driver.execute_script(JS_FACTS)
    prose = driver.execute_script(JS_PROSE_TEXT)
    problems = []
    if not facts["mathjax"]:
        problems.append("MathJax did not load")
    if facts["errors"]:
        problems.append(f"{len(facts['errors'])} formulas MathJax could not typeset, the first: {facts['errors'][0]!r}")
    raw = list(UNTYPESET.finditer(prose))
    if raw:
        around = prose[max(0, raw[0].start() - 40) : raw[0].end() + 40].replace("\n", " ")
        problems.append(f"{len(raw)} formulas left untypeset, the first: ...{around}...")
    for resource in facts["resources"]:
        if not resource.startswith(("file:", "data:")):
            problems.append(f"loads from the network: {resource[:120]}")
    return problems, facts["typeset"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "notebook-html", help="where the HTML goes")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not MATHJAX.is_file():
        sys.exit(f"no MathJax at {MATHJAX}: run `make mathjax` first")

    started = time.time()
    args.html.mkdir(parents=True, exist_ok=True)
    pages = convert(notebooks, args.html, MATHJAX.as_uri())
    failures = {}
    profile_dir = tempfile.mkdtemp(prefix="notebook-check-chromium-")
    # MathJax's fonts and extensions are files beside tex-chtml.js, which a page opened from a
    # file may only read with this flag
    driver = start_browser(profile_dir, extra_flags=("--allow-file-access-from-files",))
    try:
        for notebook, page in zip(notebooks, pages, strict=True):
            problems, typeset = check_notebook(driver, page)
            print(f"{'FAIL' if problems else 'ok  '} {os.path.relpath(notebook)}: {typeset} formulas typeset")
            for problem in problems:
                print(f"  - {problem}")
            if problems:
                failures[notebook] = problems
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)

    print(f"{len(pages)} notebooks rendered outside the book, in {args.html}; {time.time() - started:.1f} s")
    if failures:
        print(f"{sum(map(len, failures.values()))} problems in {len(failures)} notebooks")
        return 1
    print("notebook render check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
