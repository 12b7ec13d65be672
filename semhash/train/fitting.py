"""Fitting a Keras model with a tqdm progress bar (one step per epoch, the losses beside it)."""

from __future__ import annotations

from tqdm.auto import tqdm

from .backend import keras


class ProgressBar(keras.callbacks.Callback):
    """A tqdm bar over ``total`` epochs, labelled ``desc``, hidden unless ``enabled``."""

    def __init__(self, total: int, desc: str, enabled: bool):
        super().__init__()
        self.total, self.desc, self.enabled = total, desc, enabled

    def on_train_begin(self, logs=None):
        self.bar = tqdm(total=self.total, desc=self.desc, disable=not self.enabled, leave=False)

    def on_epoch_end(self, epoch, logs=None):
        self.bar.update(1)
        if logs:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if "loss" in k})

    def on_train_end(self, logs=None):
        self.bar.close()


def fit(model, x, y, epochs: int, desc: str, progress: bool, callbacks: list, **kwargs):
    """``model.fit`` quietly, with a progress bar; data is shuffled only when ``y`` is given
    (a :class:`~semhash.train.data.Batches` shuffles itself). Returns the Keras ``History``."""
    cbs = [ProgressBar(epochs, desc, progress)] + callbacks
    return model.fit(x, y, epochs=epochs, verbose=0, callbacks=cbs, shuffle=y is not None, **kwargs)
