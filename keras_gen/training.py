"""Training helpers: a progress bar over epochs for notebooks."""

import keras
from tqdm.auto import tqdm


class ProgressBar(keras.callbacks.Callback):
    """One bar over all epochs, showing the latest logged metrics (use with ``verbose=0``)."""

    def __init__(self, epochs, keys=("nll", "val_nll"), description="training"):
        super().__init__()
        self.epochs, self.keys, self.description = epochs, keys, description

    def on_train_begin(self, logs=None):
        self.bar = tqdm(total=self.epochs, desc=self.description, unit="epoch", mininterval=1.0)

    def on_epoch_end(self, epoch, logs=None):
        shown = {k: f"{logs[k]:.2f}" for k in self.keys if logs and k in logs}
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def on_train_end(self, logs=None):
        self.bar.close()
