"""Shared test set-up: quiet logs, seeded randomness, the backend in the header, and fixtures.

Helper functions live in ``helpers.py`` (and the topical modules beside it), not here:
test modules import them from there.
"""

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


@pytest.fixture(scope="module")
def whole_pixel_head():
    """The name of a test head that draws whole pixels, registered while one test module runs, then removed.

    Registering it on import would make ``heads.HEADS`` depend on which test modules were imported.
    """
    from helpers import WholePixelBernoulliHead

    from keras_gen import heads

    heads.register_head(WholePixelBernoulliHead)
    yield WholePixelBernoulliHead.name
    heads.HEADS.pop(WholePixelBernoulliHead.name, None)
