"""Training: one harness for every model, checkpointed every epoch, resumable.

A run folder holds:
    config.json          the TrainConfig
    backup/              Keras BackupAndRestore state (weights, optimizer, epoch), written
                         every epoch; a re-run resumes from it
    best.weights.h5      weights with the lowest validation loss so far
    history.csv          one row per epoch
    model.keras          the final model, written atomically when training ends
"""

from __future__ import annotations

import os
from pathlib import Path

import time

import keras
from tqdm.auto import tqdm

from colorpast.config import TrainConfig
from colorpast.models import build

FINAL = "model.keras"


def make_optimizer(cfg: TrainConfig):
    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(cfg.lr)
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(cfg.lr)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; choose adam or rmsprop")


def save_atomic(model, path) -> None:
    """Save a Keras model so that ``path`` is either the old file or the complete new one."""
    path = Path(path)
    tmp = path.with_name(path.stem + ".partial" + path.suffix)
    model.save(tmp)
    os.replace(tmp, path)


class ProgressBar(keras.callbacks.Callback):
    """One tqdm bar per epoch: loss, images/s and ETA; a summary line when the epoch ends.

    tqdm draws a live bar in a terminal and in notebooks, and plain lines in logs.
    """

    def __init__(self, batch_size: int, steps: int, epochs: int):
        super().__init__()
        self.batch_size, self.steps, self.epochs = batch_size, steps, epochs
        self.bar = None

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()
        self.bar = tqdm(total=self.steps, desc=f"epoch {epoch + 1}/{self.epochs}", unit="step", leave=True,
                        dynamic_ncols=True, mininterval=1.0)

    def on_train_batch_end(self, batch, logs=None):
        rate = (batch + 1) * self.batch_size / max(time.perf_counter() - self.t0, 1e-9)
        self.bar.set_postfix_str(f"loss {logs.get('loss', float('nan')):.4f}, {rate:.1f} img/s", refresh=False)
        self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        if logs and "val_loss" in logs:
            self.bar.set_postfix_str(
                f"loss {logs['loss']:.4f}, val_loss {logs['val_loss']:.4f}, "
                f"{self.steps * self.batch_size / (time.perf_counter() - self.t0):.1f} img/s",
                refresh=False,
            )
        self.bar.close()


def fit(cfg: TrainConfig, train_ds, run_dir, val_ds=None, verbose=1):
    """Train ``cfg.model`` on ``train_ds`` (an endless dataset of (L, target) batches).

    Re-running with the same run folder resumes from the last completed epoch.
    Returns the trained Keras model (also saved as ``run_dir/model.keras``).
    """
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    cfg.to_json(run / "config.json")
    keras.utils.set_random_seed(cfg.seed)
    model = build(cfg.model, (None, None, 1))
    model.compile(optimizer=make_optimizer(cfg), loss="mse")
    monitor = "val_loss" if val_ds is not None else "loss"
    callbacks = [
        keras.callbacks.BackupAndRestore(str(run / "backup"), delete_checkpoint=False),
        keras.callbacks.ModelCheckpoint(
            str(run / "best.weights.h5"), monitor=monitor, save_best_only=True, save_weights_only=True
        ),
        keras.callbacks.CSVLogger(str(run / "history.csv"), append=True),
    ]
    if verbose:
        callbacks.append(ProgressBar(cfg.batch_size, cfg.steps_per_epoch, cfg.epochs))
    model.fit(
        train_ds,
        epochs=cfg.epochs,
        steps_per_epoch=cfg.steps_per_epoch,
        validation_data=val_ds,
        callbacks=callbacks,
        shuffle=False,  # the dataset does its own, seeded, shuffling
        verbose=0,
    )
    save_atomic(model, run / FINAL)
    return model


def load(run_dir):
    """The final model of a finished run folder."""
    return keras.models.load_model(Path(run_dir) / FINAL)
