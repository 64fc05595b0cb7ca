"""The Keras callbacks of training: ``Checkpointer`` (checkpoints, best weights, history,
the NaN guard) and ``ProgressBar`` (one tqdm bar for the run, live loss curves in a
notebook). ``colorpast.train.fit`` makes them; the run folder they write is
``colorpast.runs``' business.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import keras
from tqdm.auto import tqdm  # widgets in notebooks, text elsewhere

from colorpast.config import TrainConfig
from colorpast.fsutil import atomic_path
from colorpast.runs import BEST, _fault, _write_history, save_checkpoint


class Checkpointer(keras.callbacks.Callback):
    """Checkpoints at every epoch end (and every ``save_every`` steps), best weights,
    history; stops cleanly on a NaN loss without saving the NaN state."""

    def __init__(self, run: Path, cfg: TrainConfig, state: dict, write: bool = True, log=print):
        super().__init__()
        self.run, self.cfg, self.state, self.write, self.log = run, cfg, state, write, log
        self.nan_at = None
        self.iterations = None

    def _step(self) -> int:
        return int(self.state["global_step"])

    def _epoch_unrecorded(self) -> bool:
        """At the last step of an epoch whose end (validation, history) has not run yet."""
        return self._step() == (self.state["epoch"] + 1) * self.cfg.steps_per_epoch

    def _iterations(self) -> int:
        return int(self.model.optimizer.iterations.numpy())

    def on_train_begin(self, logs=None):
        self.iterations = self._iterations()

    def on_train_batch_end(self, batch, logs=None):
        # Count batches here: the data stream resumes at this count, and the optimizer's
        # own counter stands still on the steps a float16 loss scale skips.
        self.state["global_step"] += 1
        self.iterations = self._iterations()
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.nan_at = (self.state["epoch"], self._step())
            self.model.stop_training = True
            return
        # Not at an epoch's last step: its end comes next and checkpoints that step with
        # the epoch's history row, which a checkpoint written before it would lack.
        if self.cfg.save_every and self._step() % self.cfg.save_every == 0 and not self._epoch_unrecorded():
            self.save()
        _fault("sigkill-at-step", self._step())
        _fault("sigint-at-step", self._step())

    def on_epoch_end(self, epoch, logs=None):
        if self.nan_at is not None:
            return
        row = {"epoch": epoch, "step": self._step(), **{k: float(v) for k, v in (logs or {}).items()}}
        if any(not math.isfinite(v) for k, v in row.items() if k not in ("epoch", "step")):
            self.nan_at = (epoch, self._step())
            self.model.stop_training = True
            return
        self.state["history"].append(row)
        self.state["epoch"] = epoch + 1
        monitor = row.get("val_loss", row.get("loss"))
        if monitor is not None and monitor < self.state.get("best", float("inf")):
            self.state["best"] = monitor
            self.state["best_epoch"] = epoch
            if self.write:
                with atomic_path(self.run / BEST) as tmp:
                    getattr(self.model, "net", self.model).save_weights(str(tmp))  # the network alone
        self.save()
        if self.write:
            _write_history(self.run, self.state["history"])

    def interrupted(self):
        """Ctrl-C: checkpoint where training stopped. The interrupt can land after a
        train step has updated the weights and before its callback ran; the optimizer's
        counter tells (a float16 step the loss scale skipped changed no weight)."""
        if self.nan_at is not None or self.iterations is None:
            return
        self.state["global_step"] += max(0, self._iterations() - self.iterations)
        if self._epoch_unrecorded():  # between an epoch's last step and its end: see above
            self.log(f"interrupted at the end of epoch {self.state['epoch'] + 1}; the checkpoint before it is kept")
            return
        path = self.save()
        if path is not None:
            self.log(f"interrupted at step {self._step()}; saved {path}")

    def save(self):
        if self.write:
            return save_checkpoint(self.run, self.model, self.state, self.cfg.keep_checkpoints)
        return None

class ProgressBar(keras.callbacks.Callback):
    """One tqdm bar for the whole run (not one per epoch: the seed's recipe once had
    1,000 epochs) with epoch, loss, images/s and ETA; live in terminals and notebooks.

    It counts the run's steps (``epochs x steps_per_epoch``) and starts at the step the
    run resumed from, so a run resumed half-way starts at 50 % and its rate and ETA are
    this session's: Keras 3 tells callbacks neither the initial epoch nor the step, so
    ``fit`` passes them. One bar serves both of ``fit``'s calls (the rest of an
    interrupted epoch, then the whole ones); it closes when the run is done or stops.

    In a notebook (an IPython kernel) it also redraws the loss curves under the bar at
    every epoch end, so a long run shows how it is going without a second cell.
    """

    def __init__(self, batch_size: int, epochs: int, steps_per_epoch: int | None = None, initial_step: int = 0):
        super().__init__()
        self.batch_size, self.epochs, self.bar = batch_size, epochs, None
        self.steps_per_epoch, self.initial_step = steps_per_epoch, initial_step
        self.rows, self.plot = [], None

    def on_train_begin(self, logs=None):
        if self.bar is not None:  # fit's second call: the same bar goes on
            return
        per_epoch = self.steps_per_epoch or self.params.get("steps") or 0
        total = per_epoch * self.epochs or None
        first = self.initial_step // per_epoch if per_epoch else 0
        self.t0, self.n0 = time.perf_counter(), 0
        self.bar = tqdm(total=total, initial=self.initial_step, unit="step", desc=f"epoch {first + 1}/{self.epochs}",
                        dynamic_ncols=True, mininterval=1.0)

    def on_epoch_begin(self, epoch, logs=None):
        self.bar.set_description_str(f"epoch {epoch + 1}/{self.epochs}", refresh=False)

    def on_train_batch_end(self, batch, logs=None):
        self.n0 += 1
        rate = self.n0 * self.batch_size / max(time.perf_counter() - self.t0, 1e-9)
        last = f", val_loss {self.rows[-1]['val_loss']:.4f}" if self.rows and "val_loss" in self.rows[-1] else ""
        self.bar.set_postfix_str(f"loss {(logs or {}).get('loss', float('nan')):.4f}{last}, {rate:.1f} img/s", refresh=False)
        self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append({"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}})
        self._redraw()

    def _redraw(self):
        if not _in_kernel():
            return
        # Only in a notebook: IPython may be absent elsewhere, and pyplot is slow to import.
        import matplotlib.pyplot as plt
        from IPython.display import display

        from colorpast import viz

        fig = viz.curves(self.rows, title=f"epoch {self.rows[-1]['epoch'] + 1}/{self.epochs} (this session)")
        if self.plot is None:
            self.plot = display(fig, display_id=True)
        else:
            self.plot.update(fig)
        plt.close(fig)

    def on_train_end(self, logs=None):
        done = self.bar is not None and self.bar.total is not None and self.bar.n >= self.bar.total
        if self.bar is not None and (done or self.model.stop_training):
            self.close()

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _in_kernel() -> bool:
    """Whether this runs in a Jupyter or Colab kernel, where figures can be redrawn in place."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None
