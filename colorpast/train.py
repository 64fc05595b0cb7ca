"""Training: one harness for every model, checkpointed atomically, resumable exactly.

A run folder (``runs/NAME``, or a Google Drive folder on Colab) holds:

    config.json                 the TrainConfig; a re-run resumes with it
    checkpoints/step-00001200/  resumable state: model.weights.h5 (Keras writes the
                                optimizer's variables into it too), state.json (epoch,
                                global step, history, best loss, the resolved precision
                                and the Keras backend); written under a temporary name
                                and renamed when whole, the newest ``keep_checkpoints``
                                are kept, the others truncated to 0 bytes and deleted
                                (a deleted file on Google Drive sits in the Trash and
                                counts against the quota unless it is empty)
    best.weights.h5             weights with the lowest validation loss so far
    history.csv                 one row per completed epoch, rewritten from the checkpoint
    tensorboard/                TensorBoard logs
    model.keras                 the final model, written when the last epoch ends

Re-running the same command resumes from the newest complete checkpoint, with the
optimizer state and the data order it would have had (the data stream is a function of
the seed and the global step, see ``colorpast.data.pipeline.dataset``), so an
interrupted run ends with the same weights as an uninterrupted one. ``restart=True``
starts over. The global step counts the batches trained on; it is not the optimizer's
``iterations``, which a float16 loss-scaled optimizer does not advance on the steps it
skips. A checkpoint that does not load (cut short, or of another precision whose
optimizer cannot be converted) is passed over for the one before it; when checkpoints
exist and none loads, training stops with the reason and never starts over without
``restart``. A checkpoint written in another precision (``auto`` resolves to
mixed_float16 on a T4 and float32 on a CPU) resumes: its optimizer state is converted.

``COLORPAST_FAULT=POINT:STEP`` injects a fault for the test suite: ``sigkill-at-step``
or ``sigint-at-step`` (right after that batch and any checkpoint it wrote), or
``kill-in-checkpoint`` (half-way through writing that step's checkpoint).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colorpast.config import TrainConfig
from colorpast.errors import TrainingError, UserError

FINAL = "model.keras"
BEST = "best.weights.h5"
HISTORY = "history.csv"
CKPT_DIR = "checkpoints"
WEIGHTS = "model.weights.h5"  # in each checkpoint


def make_optimizer(cfg: TrainConfig):
    import keras

    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(cfg.lr)
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(cfg.lr)
    raise UserError(f"unknown optimizer {cfg.optimizer!r}; choose adam or rmsprop")


# ----------------------------------------------------------------------------------
# Checkpoints


def _write_history(run: Path, rows: list[dict]) -> None:
    """Rewrite history.csv from the checkpoint's rows, atomically."""
    if not rows:
        return
    keys = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys)
    w.writeheader()
    for r in rows:
        w.writerow(r)
    tmp = run / (HISTORY + ".partial")
    tmp.write_text(buf.getvalue())
    os.replace(tmp, run / HISTORY)


def list_checkpoints(run: Path) -> list[Path]:
    """Complete checkpoints, oldest first (a partial one has another name)."""
    d = run / CKPT_DIR
    return sorted(d.glob("step-[0-9]*")) if d.is_dir() else []


def _step_of(ckpt: Path) -> int:
    return int(ckpt.name.split("-", 1)[1])


def _discard(path: Path) -> None:
    """Delete a file or a folder, truncating every file to 0 bytes before unlinking it.

    On a mounted Google Drive a deleted file goes to the Trash and still counts against
    the quota for 30 days (a seed16 checkpoint is about 47 MB, a colorful one about
    390 MB, one every epoch); truncated first, it lands there empty.
    """
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            _discard(child)
        path.rmdir()
    elif path.exists() or path.is_symlink():
        if path.is_file() and not path.is_symlink():
            os.truncate(path, 0)
        path.unlink()


def _fault(point: str, step: int) -> None:
    """Fault injection for the test suite: ``COLORPAST_FAULT=POINT:STEP`` (see the module
    docstring) kills or interrupts this process at exactly that point."""
    if os.environ.get("COLORPAST_FAULT") != f"{point}:{step}":
        return
    import signal

    # SIGINT is what Ctrl-C (and a notebook's interrupt button) sends: Python raises
    # KeyboardInterrupt in the main thread as soon as this call returns.
    os.kill(os.getpid(), signal.SIGINT if point.startswith("sigint") else signal.SIGKILL)


def save_checkpoint(run: Path, model, state: dict, keep: int) -> Path:
    """Write weights (with the optimizer's variables) and state under a temporary name,
    then rename; prune to the newest ``keep``."""
    import keras

    step = int(state["global_step"])
    folder = run / CKPT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".partial-*"):  # left by a process killed while writing
        _discard(stale)
    final = folder / f"step-{step:09d}"
    tmp = folder / f".partial-{step:09d}-{os.getpid()}"
    tmp.mkdir()
    model.save_weights(str(tmp / WEIGHTS))
    _fault("kill-in-checkpoint", step)
    # What "auto" resolved to and the backend, so that a resume elsewhere can convert.
    net = getattr(model, "net", model)  # the trainer computes in float32; the network's policy is the run's
    saved = {**state, "precision": net.dtype_policy.name, "backend": keras.backend.backend()}
    (tmp / "state.json").write_text(json.dumps(saved, indent=1))
    if final.exists():  # the same step again (an epoch end right after a step save)
        os.rename(final, folder / f".partial-{step:09d}-{os.getpid()}-replaced")
    os.rename(tmp, final)
    for stale in folder.glob(".partial-*"):
        _discard(stale)
    older = [c for c in list_checkpoints(run) if _step_of(c) < step]
    # Newer ones exist only when this run resumed from an older checkpoint because they
    # did not load; this one supersedes them.
    newer = [c for c in list_checkpoints(run) if _step_of(c) > step]
    for old in older[: max(0, len(older) - (keep - 1))] + newer:
        try:
            _discard(old)
        except OSError:  # a file system hiccup must not stop training; the next save retries
            pass
    return final


def _loss_scaled(precision: str) -> bool:
    """Whether Keras wraps the optimizer in a LossScaleOptimizer under this dtype policy."""
    return precision == "mixed_float16"


def _load_into(model, path: Path, saved_precision: str | None) -> None:
    """Load weights and optimizer variables from ``path`` into the compiled ``model``.

    Keras skips an optimizer whose variables do not match the file's with a warning; that
    is an error here. A checkpoint of another precision is converted: the optimizer of
    a float16 run is a LossScaleOptimizer holding the plain one (Adam, say) plus its
    loss-scale variables, so the file is loaded through a stand-in of the saved kind
    that shares the plain optimizer's variables. Moving to float16, the loss scale
    starts afresh, as in a new run.
    """
    import warnings

    import keras

    real = model.optimizer
    was_scaled = _loss_scaled(saved_precision) if saved_precision else isinstance(real, keras.optimizers.LossScaleOptimizer)
    if was_scaled and not isinstance(real, keras.optimizers.LossScaleOptimizer):
        stand_in = keras.optimizers.LossScaleOptimizer(real)
        stand_in.build(model.trainable_variables)
    elif not was_scaled and isinstance(real, keras.optimizers.LossScaleOptimizer):
        stand_in = real.inner_optimizer
    else:
        stand_in = real
    model.optimizer = stand_in
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.load_weights(str(path))
    finally:
        model.optimizer = real
    for w in caught:
        if "Skipping variable loading for optimizer" in str(w.message):
            raise ValueError(f"its optimizer state does not match this optimizer ({str(w.message).strip()})")


def load_checkpoint(run: Path, model, log=print):
    """Restore the newest loadable checkpoint into ``model`` (built and compiled).

    Returns its state dict, or None when there is none. A checkpoint that fails to load
    (cut short by a full disk, say) is passed over for the one before it, and said so.
    Raises UserError when checkpoints exist and none loads: progress is never discarded
    silently.
    """
    import keras

    ckpts = list_checkpoints(run)
    failed = []
    for ckpt in reversed(ckpts):
        try:
            state = json.loads((ckpt / "state.json").read_text())
            int(state["global_step"]), int(state["epoch"]), list(state["history"])
            _load_into(model, ckpt / WEIGHTS, state.get("precision"))
        except Exception as e:  # noqa: BLE001 - h5py, Keras and JSON fail in many ways; each one means "try the older"
            why = " ".join(str(e).split())[:200] or type(e).__name__
            failed.append(f"{ckpt.name} ({type(e).__name__}: {why})")
            continue
        if failed:
            log(f"passed over checkpoints that do not load: {'; '.join(failed)}")
        was = (state.get("precision"), state.get("backend"))
        now = (getattr(model, "net", model).dtype_policy.name, keras.backend.backend())
        if None not in was and was != now:
            log(f"{ckpt.name} was written in {was[0]} on {was[1]}; continuing in {now[0]} on {now[1]}")
        return state
    if ckpts:
        raise UserError(
            f"{run} has {len(ckpts)} checkpoints and none loads ({'; '.join(failed)}); nothing was changed; "
            "fix or move them, or pass --restart to start over (it deletes them)"
        )
    return None


# ----------------------------------------------------------------------------------
# Callbacks


def _callbacks_module():
    import keras

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
                    tmp = self.run / "best.partial.weights.h5"
                    getattr(self.model, "net", self.model).save_weights(str(tmp))  # the network alone
                    os.replace(tmp, self.run / BEST)
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

        In a notebook (an IPython kernel) it also redraws the loss curves under the bar at
        every epoch end, so a long run shows how it is going without a second cell.
        """

        def __init__(self, batch_size: int, epochs: int):
            super().__init__()
            self.batch_size, self.epochs, self.bar = batch_size, epochs, None
            self.rows, self.plot = [], None

        def on_train_begin(self, logs=None):
            from tqdm.auto import tqdm

            steps = self.params.get("steps") or 0
            first = self.params.get("initial_epoch", 0)
            self.t0, self.n0 = time.perf_counter(), 0
            self.bar = tqdm(total=steps * (self.params.get("epochs", self.epochs) - first) or None, unit="step",
                            desc=f"epoch {first + 1}/{self.epochs}", dynamic_ncols=True, mininterval=1.0)

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
            from colorpast.notebook import in_kernel

            if not in_kernel():
                return
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
            if self.bar is not None:
                self.bar.close()

    return Checkpointer, ProgressBar


# ----------------------------------------------------------------------------------
# The harness


@dataclass
class TrainResult:
    run: Path
    model: object
    epochs_done: int
    best: float | None
    best_epoch: int | None
    resumed_from: int  # global step the run resumed from (0 for a fresh start)
    trainer: object = None  # the training wrapper (colorpast.train_step.Colorizer) with its optimizer

    def summary(self) -> str:
        best = f"best {'val_loss' if self.best is not None else 'loss'} {self.best:.5f} (epoch {self.best_epoch + 1})" if self.best is not None else "no validation"
        return (
            f"trained {self.epochs_done} epochs; {best}; weights: {self.run / BEST}, "
            f"final model: {self.run / FINAL}"
        )


def check_run_folder(run: Path, cfg: TrainConfig, restart: bool) -> TrainConfig:
    """Create or validate the run folder before any training; returns the config to use.

    A new run's config.json is written here; a resumed one's (its epochs may change) by
    ``fit`` once a checkpoint has loaded."""
    from colorpast.fsutil import writable_dir

    run = writable_dir(run)
    saved = run / "config.json"
    if restart:
        for p in [CKPT_DIR, "tensorboard", BEST, HISTORY, FINAL, "config.json"]:
            _discard(run / p)  # truncated first: see _discard
    elif saved.exists():
        old = TrainConfig.from_json(saved)
        diff = old.differences(cfg)
        if diff:
            raise UserError(
                f"{run} holds a run with other settings ({', '.join(diff)} differ); "
                "re-run with the same options to resume, pass --restart to start over, or use another --run"
            )
    if not saved.exists():
        cfg.to_json(saved)
    return cfg


def check_disk(run: Path, params: int, keep: int) -> None:
    """Refuse to start when the run folder cannot hold the checkpoints (float32 weights
    plus up to two optimizer slots each, ``keep`` of them, the best weights and the final model)."""
    need = params * 4 * 3 * (keep + 2)
    free = shutil.disk_usage(run).free
    if free < need:
        raise UserError(f"{run} has {free / 2**20:.0f} MiB free; this run needs about {need / 2**20:.0f} MiB for checkpoints")


def fit(cfg: TrainConfig, run_dir, train_data, val_data=None, restart: bool = False, verbose: bool = True, log=print,
        val_count: int | None = None) -> TrainResult:
    """Train ``cfg.model``; resumes from ``run_dir`` unless ``restart``.

    Args:
        train_data: a training ``colorpast.data.loader.Loader`` (endless; batch ``k`` is a
            function of its seed and ``k``, so a resumed run reads what it would have read).
        val_data: an evaluation ``Loader``, or None.
        val_count: unused; kept for callers of the earlier signature.
    Returns:
        a TrainResult; its ``model`` is the trained network itself (L -> output), not the
        training wrapper around it.
    Raises:
        TrainingError: the loss became NaN (the last good checkpoint is kept) or the
            device ran out of memory.
    """
    import keras

    from colorpast import devices
    from colorpast.models import build
    from colorpast.train_step import Colorizer

    run = Path(run_dir)
    # A multi-worker strategy must exist before other TensorFlow work; it decides which
    # process writes: only the chief touches the run folder, the other workers get the
    # chief's state over the network and need no access to it.
    strategy = devices.make_strategy(cfg.strategy)
    chief = strategy.extended.should_checkpoint
    if chief:
        cfg = check_run_folder(run, cfg, restart)
    if cfg.deterministic:
        devices.enable_determinism()
    keras.mixed_precision.set_global_policy(devices.resolve_precision(cfg.mixed_precision))
    keras.utils.set_random_seed(cfg.seed)

    with strategy.scope():
        model = Colorizer(build(cfg.model, (None, None, 1)), prior=cfg.prior or None)
        optimizer = make_optimizer(cfg)
        if keras.mixed_precision.global_policy().name == "mixed_float16":
            # Keras adds loss scaling when the *model's* policy is float16; the trainer's own
            # policy is float32 (it resamples and converts to Lab), the network's float16.
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        model.compile(optimizer=optimizer, jit_compile=devices.resolve_xla(cfg.xla))
        model.optimizer.build(model.trainable_variables)
    # Outside the scope: under a multi-worker strategy every variable made in it (loading
    # makes some) is a collective op that all workers must join, and only the chief loads.
    state = load_checkpoint(run, model, log) if chief else None
    if chief:
        check_disk(run, model.count_params(), cfg.keep_checkpoints)
        cfg.to_json(run / "config.json")  # only now: a run that cannot resume is left as it was
    fresh = state is None
    state = state or {"epoch": 0, "global_step": 0, "history": []}
    tf_data = devices.backend() == "tensorflow"

    def feed(loader, start_step=0):
        """The loader's batches in the form the backend's ``fit`` takes best."""
        if tf_data:
            return loader.tf_dataset(start_step)
        # (inputs,): Keras's generator form; two batches read ahead in background threads.
        return ((batch,) for batch in loader.stream(start_step, threads=2))

    if devices.multi_worker(strategy):
        state = devices.share_chief_state(strategy, chief, model, state)
        fresh = state["global_step"] == 0
        devices.build_before_fit(strategy, model, feed(train_data).element_spec)
    step0 = int(state["global_step"])
    if not fresh and state["epoch"] >= cfg.epochs:
        # Finished (here or on another machine): say so, and do not train again.
        log(f"{run} is finished: {state['epoch']} of {cfg.epochs} epochs trained (step {step0}); "
            "pass more --epochs to train further, or --restart to start over")
        if chief and not (run / FINAL).exists():
            save_model_atomic(model.net, run / FINAL)
        return TrainResult(run, model.net, state["epoch"], state.get("best"), state.get("best_epoch"), step0, model)
    if chief and not fresh:
        _write_history(run, state["history"])  # drop rows written after that checkpoint
    Checkpointer, ProgressBar = _callbacks_module()
    ckpt = Checkpointer(run, cfg, state, write=chief, log=log)
    callbacks = [ckpt]
    if chief and devices.has_tensorflow():  # Keras writes TensorBoard logs with tf.summary
        callbacks.append(keras.callbacks.TensorBoard(str(run / "tensorboard"), write_graph=False))
    if verbose and chief:
        callbacks.append(ProgressBar(cfg.batch_size, cfg.epochs))

    # Validation: the first val_batches batches of the val split (all when None), the same
    # images every epoch; a fresh pass for each fit call.
    val_steps = None
    if val_data is not None:
        val_steps = min(len(val_data), cfg.val_batches) if cfg.val_batches else len(val_data)

    def val():
        if val_data is None:
            return None
        if tf_data:
            return val_data.tf_dataset(steps=val_steps)
        return ((batch,) for batch in val_data.stream(steps=val_steps))

    epoch, within = divmod(step0, cfg.steps_per_epoch)
    if not fresh:
        log(f"resuming {run} at epoch {epoch + 1}, step {step0}")
    try:
        if within and epoch < cfg.epochs:
            # Finish the interrupted epoch first: its remaining steps only.
            model.fit(feed(train_data, step0), initial_epoch=epoch, epochs=epoch + 1,
                      steps_per_epoch=cfg.steps_per_epoch - within, validation_data=val(), validation_steps=val_steps,
                      callbacks=callbacks, shuffle=False, verbose=0)
            epoch += 1
        if epoch < cfg.epochs and ckpt.nan_at is None:
            model.fit(feed(train_data, epoch * cfg.steps_per_epoch), initial_epoch=epoch, epochs=cfg.epochs,
                      steps_per_epoch=cfg.steps_per_epoch, validation_data=val(), validation_steps=val_steps,
                      callbacks=callbacks, shuffle=False, verbose=0)
    except KeyboardInterrupt:
        ckpt.interrupted()
        raise
    except Exception as e:
        if not devices.is_out_of_memory(e):
            raise
        raise TrainingError(
            f"out of device memory at batch size {cfg.batch_size}; try a smaller --batch-size "
            f"(for example {max(1, cfg.batch_size // 2)}); the last checkpoint is kept"
        ) from None
    if ckpt.nan_at is not None:
        e, s = ckpt.nan_at
        raise TrainingError(
            f"the loss became NaN in epoch {e + 1} (step {s}); training stopped and the last good "
            f"checkpoint (epoch {state['epoch']}) is kept; try a lower --lr (now {cfg.lr})"
        )
    if chief:
        save_model_atomic(model.net, run / FINAL)
    return TrainResult(run, model.net, state["epoch"], state.get("best"), state.get("best_epoch"), step0, model)


def save_model_atomic(model, path) -> None:
    """Save a Keras model so that ``path`` is either the old file or the complete new one."""
    path = Path(path)
    tmp = path.with_name(path.stem + ".partial" + path.suffix)
    model.save(tmp)
    os.replace(tmp, path)


def train(cfg: TrainConfig, run_dir, restart: bool = False, verbose: bool = True, log=print) -> TrainResult:
    """Train on a prepared set (``cfg.data``): the same as ``colorpast train``."""
    from colorpast.data import shards
    from colorpast.data.loader import Loader

    if not cfg.data:
        raise UserError("no training data: pass --data data/prepared/NAME (made by colorpast prepare)")
    summary = shards.read_summary(cfg.data)
    if cfg.size and cfg.size > int(summary["size"]):
        raise UserError(f"crop {cfg.size} is larger than the prepared size {summary['size']}")
    crop = cfg.size or None
    train_data = Loader(shards.open_split(cfg.data, "train"), cfg.batch_size, crop, augment=cfg.augment, seed=cfg.seed)
    val_split = shards.Split(cfg.data, "val")
    val_data = Loader(val_split, cfg.batch_size, crop, train=False) if len(val_split) else None
    return fit(cfg, run_dir, train_data, val_data, restart=restart, verbose=verbose, log=log)


def load(run_dir, weights: str = "final"):
    """A trained model from a run folder: its final model, or ``weights="best"``/``"last"``."""
    import keras

    run = Path(run_dir)
    if weights == "final" and (run / FINAL).exists():
        return keras.models.load_model(run / FINAL, compile=False)
    if not (run / "config.json").exists():
        raise UserError(f"{run} is not a training run (no config.json)")
    from colorpast.models import build
    from colorpast.train_step import Colorizer

    cfg = TrainConfig.from_json(run / "config.json")
    model = build(cfg.model, (None, None, 1))
    if weights == "best" and (run / BEST).exists():
        model.load_weights(str(run / BEST))
        return model
    # Checkpoints hold the training wrapper (the network and its optimizer).
    for ckpt in reversed(list_checkpoints(run)):
        try:
            Colorizer(model, prior=None).load_weights(str(ckpt / WEIGHTS))
            return model
        except Exception:  # noqa: BLE001 - a checkpoint cut short: the one before it, as when resuming
            continue
    raise UserError(f"{run} has no loadable trained weights yet")


# ----------------------------------------------------------------------------------
# The `colorpast train` command

HELP = "train a model on a prepared set, checkpointed every epoch; re-run to resume"
DESCRIPTION = (
    "Train a model (seed16 by default) on a prepared set (colorpast prepare). Every epoch "
    "writes a resumable checkpoint (weights, optimizer, step, data order), the best weights "
    "by validation loss, history.csv and TensorBoard logs into --run. Running the same "
    "command again resumes where it stopped; --restart starts over. Options left out come "
    "from --preset (default: 'default'; 'seed' is the seed paper's recipe)."
)


def add_arguments(p) -> None:
    from colorpast.config import PRESETS

    p.add_argument("--data", help="prepared set folder (from colorpast prepare); may be left out when resuming --run")
    p.add_argument("--run", required=True, help="run folder for checkpoints, history and the final model (e.g. runs/NAME)")
    p.add_argument("--model", help="model name (default: seed16)")
    p.add_argument("--preset", default="default", choices=[k for k in PRESETS if k not in ("demo", "smoke")],
                   help="starting values for every option (default: default)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--steps-per-epoch", type=int)
    p.add_argument("--batch-size", type=int, help="global batch size (lower it if the GPU runs out of memory)")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--optimizer", choices=["adam", "rmsprop"])
    p.add_argument("--size", type=int, help="train on random square crops of this size (default: the prepared size)")
    p.add_argument("--val-batches", type=int, help="validation batches per epoch (0: the whole val split)")
    p.add_argument("--save-every", type=int, help="also checkpoint every N steps")
    p.add_argument("--seed", type=int)
    p.add_argument("--no-augment", action="store_true", help="switch off flip, rotation, zoom and shear")
    p.add_argument("--deterministic", action="store_true", help="TF op determinism (bitwise-repeatable on CPU, slower)")
    p.add_argument("--mixed-precision", choices=["auto", "off", "float16", "bfloat16"])
    p.add_argument("--xla", choices=["auto", "on", "off"])
    p.add_argument("--strategy", choices=["auto", "one", "mirrored", "tpu", "multiworker"])
    p.add_argument("--prior", help="ab prior .npy for class rebalancing (colorful; from colorpast prior)")
    p.add_argument("--restart", action="store_true", help="discard the run's checkpoints and start over")


def config_from_args(args) -> TrainConfig:
    from colorpast.config import preset

    run = Path(args.run)
    given = {
        "data": args.data, "model": args.model, "epochs": args.epochs, "steps_per_epoch": args.steps_per_epoch,
        "batch_size": args.batch_size, "lr": args.lr, "optimizer": args.optimizer, "size": args.size,
        "save_every": args.save_every, "seed": args.seed, "mixed_precision": args.mixed_precision,
        "xla": args.xla, "strategy": args.strategy, "prior": args.prior,
    }
    if args.val_batches is not None:
        given["val_batches"] = args.val_batches or None
    if args.no_augment:
        given["augment"] = False
    if args.deterministic:
        given["deterministic"] = True
    if (run / "config.json").exists() and not args.restart and args.data is None:
        # `colorpast train --run runs/NAME` alone resumes with the saved settings.
        return TrainConfig.from_json(run / "config.json").with_(epochs=args.epochs)
    cfg = preset(args.preset).with_(**given)
    if cfg.data:
        cfg = cfg.with_(data=str(Path(cfg.data)))
    return cfg


def run(args) -> int:
    cfg = config_from_args(args)
    if not cfg.data:
        raise UserError("no training data: pass --data data/prepared/NAME (made by colorpast prepare)")
    result = train(cfg, args.run, restart=args.restart)
    print(result.summary())
    return 0
