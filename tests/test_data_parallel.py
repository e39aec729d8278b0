"""Training on several devices: ``keras.distribution.DataParallel`` gives the loss of one device.

JAX only (Keras's distribution API). The check runs in a fresh process, where
``XLA_FLAGS=--xla_force_host_platform_device_count=2`` makes the CPU two devices
before JAX starts: a small PixelCNN trains a few steps on one device, and again, from
the same weights on the same batches, split over both devices by
``keras_gen.book.profiles.use_data_parallel`` (which ``profiles.current()`` calls when it
sees more than one accelerator); the losses of every step must agree.
"""

import os
import pathlib
import subprocess
import sys

import keras
import pytest

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax", reason="Keras's DataParallel runs on JAX")

ROOT = pathlib.Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json

import keras
import numpy as np

from keras_gen import models
from keras_gen.book import profiles

devices = keras.distribution.list_devices("cpu")
assert len(devices) == 2, devices
rng = np.random.default_rng(0)
batches = [(rng.random((8, 8, 8, 1)) < 0.3).astype("float32") for _ in range(4)]


def train(weights=None):
    keras.utils.set_random_seed(0)
    model = models.PixelCNN(image_shape=(8, 8, 1), filters=8, num_layers=2)
    if weights is not None:
        model.set_weights(weights)
    start = model.get_weights()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05))
    losses = [float(model.train_on_batch(x, return_dict=True)["loss"]) for x in batches]
    return start, losses, model


start, single, _ = train()
# what current() does when it sees several accelerators, with the two CPU devices standing in
profiles.accelerators = lambda: devices
profiles.current()
distribution = keras.distribution.distribution()
assert isinstance(distribution, keras.distribution.DataParallel), distribution
_, parallel, model = train(start)
kernel = model.trainable_weights[0].value
print(json.dumps({"single": single, "parallel": parallel, "sharding": str(kernel.sharding)}))
"""


def test_data_parallel_loss_matches_one_device(tmp_path):
    env = dict(os.environ)
    env.update(
        KERAS_BACKEND="jax",
        XLA_FLAGS="--xla_force_host_platform_device_count=2",
        KERAS_GEN_PROFILE="gpu",
        PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p]),
    )
    env.pop("KERAS_GEN_STEPS", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    losses = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(losses["single"]) == 4
    assert losses["parallel"] == pytest.approx(losses["single"], rel=1e-4, abs=1e-4)
    assert losses["single"][-1] < losses["single"][0]  # it trained
