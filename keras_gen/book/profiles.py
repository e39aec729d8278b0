"""Run profiles: one notebook, four budgets, and a dry run of any of them.

``KERAS_GEN_PROFILE`` picks ``smoke`` (CI: every cell runs, tiny budget), ``cpu``
(a reader without a GPU: loads the book's trained checkpoints, see
:mod:`keras_gen.pretrained`, and trains only short demonstrations; ``KERAS_GEN_TRAIN=1``
trains instead), ``gpu`` (about an hour a chapter on one Colab-class GPU) or ``full``
(opt-in: each chapter's largest sizes and budgets, the papers' settings in some chapters).
Without the variable, ``gpu`` is chosen when an accelerator is present and ``cpu`` otherwise;
with more than one accelerator on JAX, :func:`current` also spreads every batch over all of
them (:func:`use_data_parallel`).

``KERAS_GEN_STEPS=N`` makes any profile a dry run: :func:`current` installs
:mod:`keras_gen.book.dry_run` (every ``fit`` stops after N batches of one epoch, the
autoregressive samplers draw the last row only), and the chapters pass their epochs and
their numbers of evaluated images and samples through :meth:`Profile.cap_epochs` and
:meth:`Profile.cap_images`, which trim them to 1 and to a few. Model sizes are never
trimmed: ``KERAS_GEN_PROFILE=full KERAS_GEN_STEPS=2`` runs every chapter's full-size
models in minutes on a CPU.
"""

import dataclasses
import os

import keras

from keras_gen.book import dry_run
from keras_gen.book.cost import estimate_seconds  # noqa: F401  (the chapters' estimates)
from keras_gen.book.dry_run import STEPS_VAR, dry_run_steps  # noqa: F401  (the chapters' dry-run checks)

NAMES = ("smoke", "cpu", "gpu", "full")
ENV_VAR = "KERAS_GEN_PROFILE"
TRAIN_VAR = "KERAS_GEN_TRAIN"
DRY_RUN_IMAGES = 16  # images evaluated or sampled in a dry run, at most
_NOT_GIVEN = object()


@dataclasses.dataclass(frozen=True)
class Profile:
    """The budget a notebook runs with; ``choose`` picks a per-profile setting."""

    name: str

    def choose(self, *, smoke, cpu, full, gpu=_NOT_GIVEN):
        """The value given for this profile, e.g. ``profile.choose(smoke=1, cpu=10, gpu=40, full=100)``.

        ``gpu`` defaults to the ``full`` value (settings the paper's size already fits in an hour).
        """
        gpu = full if gpu is _NOT_GIVEN else gpu
        return {"smoke": smoke, "cpu": cpu, "gpu": gpu, "full": full}[self.name]

    @property
    def loads_checkpoints(self):
        """True where a chapter loads the book's trained checkpoints instead of training.

        That is the ``cpu`` profile, unless ``KERAS_GEN_TRAIN=1`` asks it to train on its
        own budget; ``smoke`` always trains (CI exercises training), ``gpu`` and ``full`` too.
        """
        return self.name == "cpu" and os.environ.get(TRAIN_VAR, "").strip() in ("", "0")

    @property
    def dry_run_steps(self):
        """N of ``KERAS_GEN_STEPS=N``, or None outside a dry run."""
        return dry_run_steps()

    def cap_epochs(self, *epochs):
        """The numbers of epochs as given, or 1 each in a dry run (one value in, one value out)."""
        capped = tuple(1 if dry_run_steps() else e for e in epochs)
        return capped[0] if len(capped) == 1 else capped

    def cap_images(self, *counts, at_most=DRY_RUN_IMAGES):
        """Numbers of images to evaluate or sample as given, or at most ``at_most`` each in a dry run."""
        capped = tuple(min(n, at_most) if dry_run_steps() else n for n in counts)
        return capped[0] if len(capped) == 1 else capped

    def print_estimate(self, estimates):
        """In the ``gpu`` and ``full`` profiles, print the chapter's estimated time on one GPU.

        ``estimates`` is a function returning a list of :func:`keras_gen.book.cost.estimate_seconds`
        results, one per model the chapter trains; it runs only in those profiles (it
        builds the models). Returns the total seconds, or None in other profiles.
        """
        if self.name not in ("gpu", "full"):
            return None
        from keras_gen.book import cost

        parts = estimates()
        total = sum(part["seconds"] for part in parts)
        print(f"estimated time of the {self.name} profile on {cost.DEVICE}: {cost.format_seconds(total)}")
        for part in parts:
            print(
                f"  {part['name']}: {part['parameters']:,} parameters, {part['flops'] / 1e6:,.0f} MFLOP per image; "
                f"training {cost.format_seconds(part['train_seconds'])}, "
                f"evaluation {cost.format_seconds(part['eval_seconds'])}"
            )
        return total


def has_accelerator():
    """True when the Keras backend sees a GPU or TPU."""
    return bool(accelerators())


def accelerators():
    """The GPUs and TPUs the Keras backend sees (names such as ``'gpu:0'``)."""
    return [device for device in keras.distribution.list_devices() if not device.lower().startswith("cpu")]


def use_data_parallel(devices=None):
    """Train and evaluate on all ``devices`` (default: every accelerator) with ``keras.distribution.DataParallel``.

    Each batch is split across the devices and the gradients are averaged, so the
    loss is that of one device on the whole batch. Only on JAX (Keras's distribution
    API), only with more than one device; returns the distribution set, or None.
    """
    devices = accelerators() if devices is None else list(devices)
    if keras.backend.backend() != "jax" or len(devices) < 2:
        return None
    distribution = keras.distribution.DataParallel(devices=devices)
    keras.distribution.set_distribution(distribution)
    return distribution


def current():
    """The profile named by ``KERAS_GEN_PROFILE``, else ``gpu`` with an accelerator, else ``cpu``.

    With ``KERAS_GEN_STEPS=N`` it installs the dry run (:func:`keras_gen.book.dry_run.install`),
    without it removes one. With more than one accelerator (JAX), batches are spread over all of them.
    """
    name = os.environ.get(ENV_VAR, "").strip().lower()
    if not name:
        name = "gpu" if has_accelerator() else "cpu"
    if name not in NAMES:
        raise ValueError(f"{ENV_VAR} must be one of {list(NAMES)}, got {name!r}.")
    steps = dry_run_steps()  # a bad KERAS_GEN_STEPS fails here, in the notebook's first cell
    if steps is None:
        dry_run.uninstall()
    else:
        dry_run.install(steps)
    if len(accelerators()) > 1:
        use_data_parallel()
    return Profile(name)
