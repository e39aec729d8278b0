"""Open every page of the built book in headless Chromium and check what a reader sees.

    python tests/browser/check_book.py _build/html        (or: make book-check)

Not part of the unit tests (`pytest tests` does not collect it): it needs a built book,
Debian's `chromium` and `chromium-driver` (`make browser`) and selenium. No network is
used: the book is served from 127.0.0.1 and every page must load only files of the build.

On every page it asserts:
  * every formula typeset by MathJax: each Sphinx math element holds an <mjx-container>,
    and no raw TeX delimiters (\\( \\[ $$) are left in the text outside code;
  * every <img> loaded (naturalWidth > 0) and every GIF animates (more than one frame);
  * no stderr output box and no backend start-up log line (TensorFlow / XLA / CUDA);
  * no broken internal link (every relative href names an existing file, and its #anchor
    an existing id on that page) and no resource (script, stylesheet, image) from outside;
  * no JavaScript console error (SEVERE entries of the browser log);
and on every chapter (notebooks/*.html) the launch button and a Colab link for that
notebook. It saves a screenshot of each chapter's first screen under
_build/screenshots/ and prints the counts it checked. Exit status 1 on any failure.
"""

import argparse
import functools
import html.parser
import http.server
import os
import re
import shutil
import socketserver
import sys
import tempfile
import threading
import time
import urllib.parse

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
SKIP_DIRS = {"_static", "_sources", "_images", ".doctrees"}

# What TensorFlow, XLA, JAX and CUDA write to stderr when they start; none belongs in the book.
BACKEND_LOG = re.compile(
    r"cuInit|TF_CPP|oneDNN|\bXLA\b|[EWI]0000 |absl::|cuda_(?:dnn|fft|blas|driver)|"
    r"Unable to register cu|computation_placer|This TensorFlow binary is optimized|"
    r"^[EWI]\d{4} \d\d:\d\d:\d\d|Platform '?cuda'? is experimental|XlaRuntimeError",
    re.MULTILINE,
)
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\$\\[A-Za-z]")

# Text of the page outside code, MathJax output and scripts: where raw TeX must not remain.
JS_PROSE_TEXT = """
const root = (document.querySelector('main') || document.body).cloneNode(true);
root.querySelectorAll('pre, code, script, style, mjx-container, .highlight, textarea')
    .forEach(e => e.remove());
return root.textContent;
"""

JS_FACTS = """
const abs = u => new URL(u, document.baseURI).href;
const mathNodes = [...document.querySelectorAll('span.math, div.math')];
return {
  mathjax: typeof window.MathJax !== 'undefined' && !!window.MathJax.startup,
  mathElements: mathNodes.length,
  untypeset: mathNodes.filter(e => !e.querySelector('mjx-container'))
                      .map(e => e.textContent.slice(0, 80)),
  containers: document.querySelectorAll('mjx-container').length,
  images: [...document.images].map(i => ({src: i.currentSrc || i.src, width: i.naturalWidth,
                                          complete: i.complete})),
  links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
  resources: [...document.querySelectorAll('script[src], link[href], img[src], iframe[src]')]
      .filter(e => e.tagName !== 'LINK' ||
              /stylesheet|preload|icon|modulepreload/.test(e.getAttribute('rel') || ''))
      .map(e => abs(e.getAttribute('src') || e.getAttribute('href'))),
  stderr: [...document.querySelectorAll('div.output.stderr, div.stderr')]
      .map(e => e.textContent.trim().slice(0, 200)),
  outputs: [...document.querySelectorAll('div.cell_output')].map(e => e.textContent).join('\\n'),
  launch: !!document.querySelector('.dropdown-launch-buttons, [aria-label="Launch interactive content"]'),
  colab: [...document.querySelectorAll('a[href]')].map(a => a.href)
      .filter(h => h.startsWith('https://colab.research.google.com/github/')),
};
"""


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def anchors(path):
    parser = _Ids()
    with open(path, encoding="utf-8", errors="replace") as f:
        parser.feed(f.read())
    return frozenset(parser.ids)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(root):
    handler = functools.partial(_QuietHandler, directory=root)
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def start_browser(profile_dir, width=1280, height=900, extra_flags=()):
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile_dir}",
        f"--window-size={width},{height}",
        *extra_flags,
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def pages_of(root):
    pages = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        pages += [os.path.relpath(os.path.join(folder, f), root) for f in sorted(files) if f.endswith(".html")]
    return pages


def wait_for_page(driver, timeout=30):
    """Until MathJax (where the page loads it) has typeset and every image has settled."""
    driver.set_script_timeout(timeout)
    driver.execute_async_script("""
const done = arguments[arguments.length - 1];
document.querySelectorAll('img[loading="lazy"]').forEach(i => i.loading = 'eager');
const images = Promise.all([...document.images].map(i => i.complete ? null :
    new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })));
const math = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
Promise.all([images, math]).then(() => done(true), () => done(false));
""")


def frames(path):
    with Image.open(path) as image:
        return getattr(image, "n_frames", 1)


def check_page(driver, base, root, page, counts, screenshots, seen):
    problems = []
    driver.get(urllib.parse.urljoin(base, page))
    wait_for_page(driver)
    shown = driver.current_url.split("#")[0].split("?")[0]
    if not shown.startswith(base):
        return [f"left the book for {shown}"]
    page = urllib.parse.unquote(shown[len(base) :]) or "index.html"
    if page in seen:  # a redirect (index.html) to a page checked on its own
        driver.get_log("browser")
        return []
    seen.add(page)
    counts["pages"] += 1
    facts = driver.execute_script(JS_FACTS)
    prose = driver.execute_script(JS_PROSE_TEXT)

    # formulas
    if facts["mathElements"] and not facts["mathjax"]:
        problems.append("page has formulas but MathJax did not load")
    if facts["untypeset"]:
        problems.append(f"{len(facts['untypeset'])} formulas not typeset, the first: {facts['untypeset'][0]!r}")
    raw = list(RAW_TEX.finditer(prose))
    if raw:
        around = prose[max(0, raw[0].start() - 40) : raw[0].end() + 40].replace("\n", " ")
        problems.append(f"{len(raw)} raw TeX delimiters in the text, the first: ...{around}...")
    counts["formulas"] += facts["containers"]

    # images and GIFs
    for image in facts["images"]:
        counts["images"] += 1
        if not image["width"]:
            problems.append(f"image did not load: {image['src'][:120]}")
        src = image["src"]
        if src.startswith(base) and urllib.parse.urlparse(src).path.lower().endswith(".gif"):
            counts["gifs"] += 1
            path = os.path.join(root, urllib.parse.unquote(src[len(base) :].split("?")[0].split("#")[0]))
            n = frames(path) if os.path.isfile(path) else 0
            if n < 2:
                problems.append(f"GIF does not animate ({n} frame): {src[len(base) :]}")
        elif src.startswith("data:image/gif"):
            problems.append("inline GIF cannot be checked for frames: write GIFs to files")

    # no stderr box, no backend log line in any output
    for text in facts["stderr"]:
        problems.append(f"stderr output on the page: {text!r}")
    log_lines = {line.strip() for line in facts["outputs"].splitlines() if BACKEND_LOG.search(line)}
    for line in sorted(log_lines):
        problems.append(f"backend log line in an output: {line[:200]!r}")

    # internal links and outside resources
    page_dir = os.path.dirname(page)
    for href in facts["links"]:
        parts = urllib.parse.urlsplit(href)
        if parts.scheme or href.startswith("//") or not (parts.path or parts.fragment):
            continue  # outside the book (Colab, GitHub, arXiv): not fetched, no network here
        counts["links"] += 1
        target_rel = os.path.normpath(os.path.join(page_dir, urllib.parse.unquote(parts.path))) if parts.path else page
        target = os.path.join(root, target_rel)
        if os.path.isdir(target):
            target = os.path.join(target, "index.html")
        if not os.path.isfile(target):
            problems.append(f"broken link {href!r}: no file {target_rel}")
        elif (
            parts.fragment and target.endswith(".html") and urllib.parse.unquote(parts.fragment) not in anchors(target)
        ):
            problems.append(f"broken link {href!r}: no anchor #{parts.fragment} in {target_rel}")
    for resource in facts["resources"]:
        counts["resources"] += 1
        if not (resource.startswith(base) or resource.startswith("data:")):
            problems.append(f"resource from outside the book: {resource[:120]}")

    # chapters: launch button and Colab link for this notebook; a screenshot of the first screen
    if page.startswith("notebooks/"):
        counts["chapters"] += 1
        name = os.path.splitext(os.path.basename(page))[0]
        if not facts["launch"]:
            problems.append("no launch button")
        if not any(link.endswith(f"notebooks/{name}.ipynb") for link in facts["colab"]):
            problems.append(f"no Colab link to notebooks/{name}.ipynb")
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(os.path.join(screenshots, f"{name}.png"))

    # console errors (anything the page failed to load is logged here too)
    for entry in driver.get_log("browser"):
        if entry.get("message", "").startswith(base + "favicon.ico "):
            continue  # the browser's own guess at the site root (the redirect index.html names no icon)
        if entry.get("level") == "SEVERE":
            problems.append(f"console error: {entry.get('message', '')[:300]}")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", default="_build/html", help="the built book (default: _build/html)")
    parser.add_argument("--screenshots", help="folder for the chapter screenshots (default: beside html)")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.html)
    if not os.path.isfile(os.path.join(root, "index.html")):
        sys.exit(f"no built book in {root}: run `make book` or `make book-from-outputs` first")
    screenshots = args.screenshots or os.path.join(os.path.dirname(root), "screenshots")
    os.makedirs(screenshots, exist_ok=True)

    started = time.time()
    counts = dict.fromkeys(["pages", "chapters", "formulas", "images", "gifs", "links", "resources"], 0)
    failures, seen = {}, set()
    server, base = serve(root)
    profile_dir = tempfile.mkdtemp(prefix="book-check-chromium-")
    driver = start_browser(profile_dir)
    try:
        for page in pages_of(root):
            problems = check_page(driver, base, root, page.replace(os.sep, "/"), counts, screenshots, seen)
            if problems:
                failures[page] = problems
    finally:
        driver.quit()
        server.shutdown()
        shutil.rmtree(profile_dir, ignore_errors=True)

    for page, problems in failures.items():
        print(f"FAIL {page}")
        for problem in problems:
            print(f"  - {problem}")
    print(
        "checked {pages} pages ({chapters} chapters): {formulas} formulas typeset, {images} images "
        "loaded, {gifs} GIFs animated, {links} internal links, {resources} local resources".format(**counts)
    )
    print(f"screenshots of the chapters in {screenshots}; {time.time() - started:.1f} s")
    if failures:
        print(f"{sum(map(len, failures.values()))} problems on {len(failures)} pages")
        return 1
    print("book check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
