"""Training: one harness for every model, checkpointed atomically, resumable exactly.

A run folder (``runs/NAME``, or a Google Drive folder on Colab) holds:

    config.json                 the TrainConfig; a re-run resumes with it
    checkpoints/step-00001200/  resumable state: model.weights.h5, optimizer.npz,
                                state.json (epoch, global step, history, best loss);
                                written under a temporary name and renamed when whole,
                                the newest ``keep_checkpoints`` are kept
    best.weights.h5             weights with the lowest validation loss so far
    history.csv                 one row per completed epoch, rewritten from the checkpoint
    tensorboard/                TensorBoard logs
    model.keras                 the final model, written when the last epoch ends

Re-running the same command resumes from the newest complete checkpoint, with the
optimizer state and the data order it would have had (the data stream is a function of
the seed and the global step, see ``colorpast.data.pipeline.dataset``), so an
interrupted run ends with the same weights as an uninterrupted one. ``restart=True``
starts over. The global step is the optimizer's own ``iterations`` counter.
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


# ----------------------------------------------------------------------------------
# Devices: strategy, mixed precision, XLA


def _gpus():
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def make_strategy(name: str):
    """A tf.distribute strategy: auto | one | mirrored | tpu | multiworker.

    auto: a Colab TPU if one is attached, all GPUs mirrored when there are several,
    else the default strategy (one GPU, or the CPU).
    """
    import tensorflow as tf

    if name == "auto":
        if os.environ.get("COLAB_TPU_ADDR") or os.environ.get("TPU_NAME"):
            name = "tpu"
        elif len(_gpus()) > 1:
            name = "mirrored"
        else:
            return tf.distribute.get_strategy()
    if name == "one":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if _gpus() else "/cpu:0")
    if name == "mirrored":
        if _gpus():
            return tf.distribute.MirroredStrategy()
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=cpus)
    if name == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=os.environ.get("TPU_NAME", ""))
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, tf.errors.NotFoundError) as e:
            raise UserError(f"no TPU found ({e}); on Colab choose Runtime > Change runtime type > TPU") from None
        return tf.distribute.TPUStrategy(resolver)
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise UserError("--strategy multiworker needs TF_CONFIG describing the cluster (see tf.distribute docs)")
        try:
            tf_config = json.loads(os.environ["TF_CONFIG"])
            tf_config["cluster"], tf_config["task"]["type"], tf_config["task"]["index"]
        except (ValueError, TypeError, KeyError) as e:
            raise UserError(f"TF_CONFIG is not a cluster description with 'cluster' and 'task' {{type, index}} ({e!r})") from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise UserError(f"unknown strategy {name!r}; choose auto, one, mirrored, tpu or multiworker")


def _multi_worker(strategy) -> bool:
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and strategy.extended._in_multi_worker_mode()


def _share_chief_state(strategy, chief: bool, model, state: dict) -> dict:
    """Give every worker the chief's weights, optimizer variables, epoch and step.

    Only the chief reads the run folder. Each value is summed over all replicas with the
    chief's first replica contributing it and every other replica zeros: an all-reduce
    used as a broadcast, which also serves as the barrier after the chief's checks.
    """
    variables = list(model.weights) + list(model.optimizer.variables)
    arrays = [np.asarray(v.numpy()) for v in variables]
    arrays.append(np.array([state["epoch"], state["global_step"]], np.float64))
    arrays = [a.astype(np.float64) if not np.issubdtype(a.dtype, np.floating) else a for a in arrays]
    shared = [_broadcast(strategy, a if chief else np.zeros_like(a)) for a in arrays]
    for var, val in zip(variables, shared[:-1]):
        var.assign(val.astype(var.dtype))
    epoch, step = (int(round(x)) for x in shared[-1])
    if chief:
        return state
    return {"epoch": epoch, "global_step": step, "history": []}


def _broadcast(strategy, value: np.ndarray) -> np.ndarray:
    """The sum of ``value`` over the workers, each counted once (its first replica gives
    it, the others zeros); with zeros from all but the chief, a broadcast of the chief's.
    One tensor a call: the collective strategy cannot reduce a nested structure."""
    import tensorflow as tf

    calls = []

    def contribution(ctx):
        calls.append(ctx)
        return tf.constant(value) if len(calls) == 1 else tf.zeros(value.shape, value.dtype)

    per_replica = strategy.experimental_distribute_values_from_function(contribution)
    return strategy.reduce("SUM", per_replica, axis=None).numpy()


def _build_before_fit(strategy, model, spec) -> None:
    """Work around two Keras 3 bugs under MultiWorkerMirroredStrategy (keras-team/keras#20585,
    open; Keras is pinned, and tests/test_train.py trains two real workers to catch a change):

    1. ``fit`` all-reduces a nested data batch to build the model, which the collective
       strategy rejects: build everything from the batch's spec here, in the strategy's
       scope, and turn that step of ``fit`` off (nothing is left for it to build).
    2. The train and test steps average their scalar logs with ``reduce(axis=0)``, which
       fails on scalars: average them over replicas (``axis=None``) instead.
    """
    import keras
    from keras.src.backend.tensorflow import trainer as tf_trainer

    batch = tuple(keras.KerasTensor(tuple(s.shape.as_list()), s.dtype.name) for s in spec)
    with strategy.scope():
        model._symbolic_build(data_batch=batch)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None

    original = tf_trainer.reduce_per_replica
    if getattr(original, "colorpast_fix", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(strategy):
            return keras.tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original(values, strategy, reduction)

    reduce_per_replica.colorpast_fix = True
    tf_trainer.reduce_per_replica = reduce_per_replica


def resolve_precision(setting: str) -> str:
    """The Keras dtype policy for ``mixed_precision``: float32, mixed_float16 or mixed_bfloat16.

    auto: bfloat16 on GPUs of compute capability 8.0 or newer (A100, H100: tensor cores,
    no loss scaling needed), float16 on 7.x (V100, T4; Keras scales the loss), float32 on
    the CPU. On a CPU with native bfloat16 (measured on AVX512_BF16), ``bfloat16`` trains
    seed16 about twice as fast with validation scores within seed-to-seed spread
    (benchmarks/RESULTS.md); it stays an option there, not the default. The GPU choices
    are NVIDIA's and Keras's guidance, not yet measured by this project.
    """
    if setting == "off":
        return "float32"
    if setting in ("float16", "bfloat16"):
        return f"mixed_{setting}"
    if setting != "auto":
        raise UserError(f"unknown mixed precision {setting!r}; choose auto, off, float16 or bfloat16")
    gpus = _gpus()
    if not gpus:
        return "float32"
    import tensorflow as tf

    cc = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))
    if cc >= (8, 0):
        return "mixed_bfloat16"
    if cc >= (7, 0):
        return "mixed_float16"
    return "float32"


def resolve_xla(setting: str):
    """``jit_compile`` for model.compile: off on the CPU (measured: seed16 trains at 0.79x
    with XLA, benchmarks/RESULTS.md), Keras's "auto" on a GPU (not yet measured here)."""
    if setting == "on":
        return True
    if setting == "off":
        return False
    if setting != "auto":
        raise UserError(f"unknown xla setting {setting!r}; choose auto, on or off")
    return "auto" if _gpus() else False


def make_optimizer(cfg: TrainConfig):
    import keras

    if cfg.optimizer == "adam":
        return keras.optimizers.Adam(cfg.lr)
    if cfg.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(cfg.lr)
    raise UserError(f"unknown optimizer {cfg.optimizer!r}; choose adam or rmsprop")


def make_loss(cfg: TrainConfig):
    """The model's loss (MSE, or its ModelSpec's own, e.g. colorful's rebalanced cross-entropy)."""
    from colorpast import models

    return models.loss(cfg.model, cfg.prior or None)


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


def save_checkpoint(run: Path, model, state: dict, keep: int) -> Path:
    """Write weights, optimizer variables and state under a temporary name, then rename."""
    step = int(state["global_step"])
    final = run / CKPT_DIR / f"step-{step:09d}"
    if final.exists():  # the same step again (an epoch end right after a step save)
        shutil.rmtree(final)
    tmp = run / CKPT_DIR / f".partial-{step:09d}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    model.save_weights(str(tmp / "model.weights.h5"))
    if os.environ.get("COLORPAST_FAULT") == f"kill-in-checkpoint:{step}":
        # Fault injection for the test suite: die half-way through writing a checkpoint.
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    opt_vars = [np.asarray(v.numpy()) for v in model.optimizer.variables]
    np.savez(tmp / "optimizer.npz", *opt_vars)
    (tmp / "state.json").write_text(json.dumps(state, indent=1))
    os.rename(tmp, final)
    for old in list_checkpoints(run)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(run: Path, model):
    """Restore the newest loadable checkpoint into ``model`` (built and compiled).

    Returns its state dict, or None when there is none. A checkpoint that fails to load
    (cut short by a full disk, say) is skipped in favour of the one before it.
    """
    for ckpt in reversed(list_checkpoints(run)):
        try:
            state = json.loads((ckpt / "state.json").read_text())
            model.load_weights(str(ckpt / "model.weights.h5"))
            with np.load(ckpt / "optimizer.npz") as z:
                values = [z[f"arr_{i}"] for i in range(len(z.files))]
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            if len(values) != len(model.optimizer.variables):
                raise ValueError("optimizer state does not match")
            for var, val in zip(model.optimizer.variables, values):
                var.assign(val)
            return state
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            continue
    return None


# ----------------------------------------------------------------------------------
# Callbacks


def _callbacks_module():
    import keras

    class Checkpointer(keras.callbacks.Callback):
        """Checkpoints at every epoch end (and every ``save_every`` steps), best weights,
        history; stops cleanly on a NaN loss without saving the NaN state."""

        def __init__(self, run: Path, cfg: TrainConfig, state: dict, write: bool = True):
            super().__init__()
            self.run, self.cfg, self.state, self.write = run, cfg, state, write
            self.nan_at = None

        def _step(self) -> int:
            return int(self.model.optimizer.iterations.numpy())

        def on_train_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                self.nan_at = (self.state["epoch"], self._step())
                self.model.stop_training = True
                return
            if self.cfg.save_every and self._step() % self.cfg.save_every == 0:
                self.save()

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
                    self.model.save_weights(str(tmp))
                    os.replace(tmp, self.run / BEST)
            self.save()
            if self.write:
                _write_history(self.run, self.state["history"])

        def save(self):
            self.state["global_step"] = self._step()
            if self.write:
                save_checkpoint(self.run, self.model, self.state, self.cfg.keep_checkpoints)

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

    def summary(self) -> str:
        best = f"best {'val_loss' if self.best is not None else 'loss'} {self.best:.5f} (epoch {self.best_epoch + 1})" if self.best is not None else "no validation"
        return (
            f"trained {self.epochs_done} epochs; {best}; weights: {self.run / BEST}, "
            f"final model: {self.run / FINAL}"
        )


def check_run_folder(run: Path, cfg: TrainConfig, restart: bool) -> TrainConfig:
    """Create or validate the run folder before any training; returns the config to use."""
    from colorpast.fsutil import writable_dir

    run = writable_dir(run)
    saved = run / "config.json"
    if restart:
        for p in [CKPT_DIR, "tensorboard"]:
            shutil.rmtree(run / p, ignore_errors=True)
        for p in [BEST, HISTORY, FINAL, "config.json"]:
            (run / p).unlink(missing_ok=True)
    elif saved.exists():
        old = TrainConfig.from_json(saved)
        diff = old.differences(cfg)
        if diff:
            raise UserError(
                f"{run} holds a run with other settings ({', '.join(diff)} differ); "
                "re-run with the same options to resume, pass --restart to start over, or use another --run"
            )
    cfg.to_json(run / "config.json")
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
        train_data: ``start_step -> tf.data.Dataset`` of endless (L, target) batches that
            yields, from ``start_step``, what a fresh stream yields after that many batches.
        val_data: ``() -> tf.data.Dataset`` of (L, target) batches, or None.
        val_count: images in ``val_data``, when known.
    Raises:
        TrainingError: the loss became NaN (the last good checkpoint is kept) or the
            device ran out of memory.
    """
    import keras
    import tensorflow as tf

    run = Path(run_dir)
    # A multi-worker strategy must exist before other TensorFlow work; it decides which
    # process writes: only the chief touches the run folder, the other workers get the
    # chief's state over the network and need no access to it.
    strategy = make_strategy(cfg.strategy)
    chief = strategy.extended.should_checkpoint
    if chief:
        cfg = check_run_folder(run, cfg, restart)
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.mixed_precision.set_global_policy(resolve_precision(cfg.mixed_precision))
    keras.utils.set_random_seed(cfg.seed)
    from colorpast.models import build

    with strategy.scope():
        model = build(cfg.model, (None, None, 1))
        model.compile(optimizer=make_optimizer(cfg), loss=make_loss(cfg), jit_compile=resolve_xla(cfg.xla))
        model.optimizer.build(model.trainable_variables)
    # Outside the scope: under a multi-worker strategy every variable made in it (loading
    # makes some) is a collective op that all workers must join, and only the chief loads.
    state = load_checkpoint(run, model) if chief else None
    if chief:
        check_disk(run, model.count_params(), cfg.keep_checkpoints)
    fresh = state is None
    state = state or {"epoch": 0, "global_step": 0, "history": []}
    if _multi_worker(strategy):
        state = _share_chief_state(strategy, chief, model, state)
        fresh = state["global_step"] == 0
        _build_before_fit(strategy, model, train_data(0).element_spec)
    step0 = int(state["global_step"])
    if chief and not fresh:
        _write_history(run, state["history"])  # drop rows written after that checkpoint
    Checkpointer, ProgressBar = _callbacks_module()
    ckpt = Checkpointer(run, cfg, state, write=chief)
    callbacks = [ckpt]
    if chief:
        callbacks.append(keras.callbacks.TensorBoard(str(run / "tensorboard"), write_graph=False))
    if verbose and chief:
        callbacks.append(ProgressBar(cfg.batch_size, cfg.epochs))

    def val():
        if val_data is None:
            return None
        ds = val_data()
        return ds.take(cfg.val_batches) if cfg.val_batches else ds

    # Keras warns that the input "ran out of data" when a finite validation set of
    # unknown length (TFRecords) ends: give it the number of batches when known.
    val_steps = None
    if val_data is not None and val_count:
        val_steps = math.ceil(val_count / cfg.batch_size)
        val_steps = min(val_steps, cfg.val_batches) if cfg.val_batches else val_steps

    epoch, within = divmod(step0, cfg.steps_per_epoch)
    if not fresh and epoch < cfg.epochs:
        log(f"resuming {run} at epoch {epoch + 1}, step {step0}")
    try:
        if within and epoch < cfg.epochs:
            # Finish the interrupted epoch first: its remaining steps only.
            model.fit(train_data(step0), initial_epoch=epoch, epochs=epoch + 1, steps_per_epoch=cfg.steps_per_epoch - within,
                      validation_data=val(), validation_steps=val_steps, callbacks=callbacks, shuffle=False, verbose=0)
            epoch += 1
        if epoch < cfg.epochs and ckpt.nan_at is None:
            model.fit(train_data(epoch * cfg.steps_per_epoch), initial_epoch=epoch, epochs=cfg.epochs,
                      steps_per_epoch=cfg.steps_per_epoch, validation_data=val(), validation_steps=val_steps,
                      callbacks=callbacks,
                      shuffle=False, verbose=0)
    except KeyboardInterrupt:
        ckpt.save()
        raise
    except tf.errors.ResourceExhaustedError:
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
        save_model_atomic(model, run / FINAL)
    return TrainResult(run, model, state["epoch"], state.get("best"), state.get("best_epoch"), step0)


def save_model_atomic(model, path) -> None:
    """Save a Keras model so that ``path`` is either the old file or the complete new one."""
    path = Path(path)
    tmp = path.with_name(path.stem + ".partial" + path.suffix)
    model.save(tmp)
    os.replace(tmp, path)


def train(cfg: TrainConfig, run_dir, restart: bool = False, verbose: bool = True, log=print) -> TrainResult:
    """Train on a prepared set (``cfg.data``): the same as ``colorpast train``."""
    from colorpast.data import pipeline

    if not cfg.data:
        raise UserError("no training data: pass --data data/prepared/NAME (made by colorpast prepare)")
    summary = pipeline.read_summary(cfg.data)
    crop = cfg.size if cfg.size and cfg.size != summary["size"] else None

    def train_data(start_step):
        return pipeline.dataset(cfg.data, "train", cfg.batch_size, cfg.model, crop=crop, seed=cfg.seed,
                                augment=cfg.augment, shuffle_buffer=cfg.shuffle_buffer, start_step=start_step)

    n_val = int(summary.get("counts", {}).get("val", 0))

    def val_data():
        return pipeline.dataset(cfg.data, "val", cfg.batch_size, cfg.model, crop=crop)

    return fit(cfg, run_dir, train_data, val_data if n_val else None, restart=restart, verbose=verbose, log=log,
               val_count=n_val)


def load(run_dir, weights: str = "final"):
    """A trained model from a run folder: its final model, or ``weights="best"``/``"last"``."""
    import keras

    run = Path(run_dir)
    if weights == "final" and (run / FINAL).exists():
        return keras.models.load_model(run / FINAL, compile=False)
    if not (run / "config.json").exists():
        raise UserError(f"{run} is not a training run (no config.json)")
    from colorpast.models import build

    cfg = TrainConfig.from_json(run / "config.json")
    model = build(cfg.model, (None, None, 1))
    if weights == "best" and (run / BEST).exists():
        model.load_weights(str(run / BEST))
        return model
    ckpts = list_checkpoints(run)
    if not ckpts:
        raise UserError(f"{run} has no trained weights yet")
    model.load_weights(str(ckpts[-1] / "model.weights.h5"))
    return model


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
