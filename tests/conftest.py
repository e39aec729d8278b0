"""Shared test set-up: quiet logs, seeded randomness, and the backend in the header."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(1234)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def random_binary_images(rng, n, shape=(28, 28, 1), p=0.3):
    return (rng.random((n,) + tuple(shape)) < p).astype("float32")
