"""Run profiles: one notebook, three budgets.

``KERAS_GEN_PROFILE`` picks ``smoke`` (CI: every cell runs, tiny budget), ``cpu``
(a reader without a GPU: loads the book's trained checkpoints, see
:mod:`keras_gen.pretrained`, and trains only short demonstrations; ``KERAS_GEN_TRAIN=1``
trains instead) or ``full`` (paper-scale, for a GPU). Without the variable, ``full`` is
chosen when an accelerator is present and ``cpu`` otherwise.
"""

import dataclasses
import os

import keras

NAMES = ("smoke", "cpu", "full")
ENV_VAR = "KERAS_GEN_PROFILE"
TRAIN_VAR = "KERAS_GEN_TRAIN"


@dataclasses.dataclass(frozen=True)
class Profile:
    """The budget a notebook runs with; ``choose`` picks a per-profile setting."""

    name: str

    def choose(self, *, smoke, cpu, full):
        """Return the value given for this profile, e.g. ``profile.choose(smoke=1, cpu=10, full=100)``."""
        return {"smoke": smoke, "cpu": cpu, "full": full}[self.name]

    @property
    def loads_checkpoints(self):
        """True where a chapter loads the book's trained checkpoints instead of training.

        That is the ``cpu`` profile, unless ``KERAS_GEN_TRAIN=1`` asks it to train on its
        own budget; ``smoke`` always trains (CI exercises training), ``full`` too.
        """
        return self.name == "cpu" and os.environ.get(TRAIN_VAR, "").strip() in ("", "0")


def has_accelerator():
    """True when the Keras backend sees a GPU or TPU."""
    return any(not device.lower().startswith("cpu") for device in keras.distribution.list_devices())


def current():
    """The profile named by ``KERAS_GEN_PROFILE``, else ``full`` with an accelerator, else ``cpu``."""
    name = os.environ.get(ENV_VAR, "").strip().lower()
    if not name:
        name = "full" if has_accelerator() else "cpu"
    if name not in NAMES:
        raise ValueError(f"{ENV_VAR} must be one of {list(NAMES)}, got {name!r}.")
    return Profile(name)
