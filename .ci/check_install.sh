#!/usr/bin/env bash
# The Colab install cell (`%pip install "keras_gen @ git+..."`) must leave the Keras and
# TensorFlow that Colab ships alone. This installs another recent Keras 3 (and JAX, the
# lighter backend) into a throwaway venv first, as Colab has its own, then the package from
# this checkout, as the install cell does, and checks that Keras kept its version, that no
# TensorFlow or PyTorch came with keras_gen, and that keras_gen imports and builds a model.
#   .ci/check_install.sh [KERAS_VERSION]   (default 3.10.0; the pinned one is in requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
KERAS_VERSION="${1:-3.10.0}"
PYTHON="${PYTHON:-python3}"
work="$(mktemp -d -t keras-gen-install-XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m venv "$work/venv"
pip="$work/venv/bin/pip"
"$pip" install -q "keras==$KERAS_VERSION" "jax[cpu]"   # a backend, the light one
mkdir "$work/src" && cp -r pyproject.toml README.md keras_gen "$work/src/"   # a clean copy: no venv, no build leftovers
"$pip" install -q "$work/src"
"$pip" check
cd "$work"   # away from the checkout, so that the installed package is imported
KERAS_BACKEND=jax "$work/venv/bin/python" - "$KERAS_VERSION" <<'PY'
import importlib.util
import sys

import keras

import keras_gen
from keras_gen import models, pretrained
from keras_gen.book import profiles

wanted = sys.argv[1]
assert keras.__version__ == wanted, f"installing keras_gen changed Keras {wanted} to {keras.__version__}"
for backend in ("tensorflow", "torch"):
    assert importlib.util.find_spec(backend) is None, f"installing keras_gen brought {backend}"
assert "site-packages" in keras_gen.__file__, keras_gen.__file__
model = models.PixelCNN(image_shape=(8, 8, 1), filters=4, num_layers=1)
assert model.count_params() > 0 and pretrained.names()
print(f"keras_gen installed beside Keras {keras.__version__} ({keras.backend.backend()} backend); "
      f"profile without an accelerator: {profiles.current().name}")
PY
