"""A progress bar over epochs for notebooks."""

import sys

import keras
from tqdm.std import tqdm


class ProgressBar(keras.callbacks.Callback):
    """One text bar over all epochs with the latest metrics (use with ``fit(verbose=0)``).

    It redraws at most every ``refresh_seconds``, so an executed notebook stored in the
    book keeps a short log of the run rather than one line per update. ``initial`` is
    the number of epochs already done (a resumed run).
    """

    def __init__(self, epochs, keys=("nll", "val_nll"), description="training", refresh_seconds=20.0, initial=0):
        super().__init__()
        self.epochs, self.keys, self.description = epochs, keys, description
        self.refresh_seconds, self.initial = refresh_seconds, initial

    def on_train_begin(self, logs=None):
        self.bar = tqdm(
            total=self.epochs,
            initial=self.initial,
            desc=self.description,
            unit="epoch",
            file=sys.stdout,
            mininterval=self.refresh_seconds,
            ncols=100,
        )

    def on_epoch_end(self, epoch, logs=None):
        shown = {k: f"{logs[k]:.2f}" for k in self.keys if logs and k in logs}
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def on_train_end(self, logs=None):
        self.bar.close()
