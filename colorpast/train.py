"""Training: one harness for every model and backend, checkpointed atomically, resumable exactly.

``fit`` trains a model (wrapped in ``colorpast.train_step.Colorizer``, which augments,
converts to Lab and computes the loss inside the compiled step) on batches from
``colorpast.data.loader``, checkpointing into a run folder (``colorpast.runs``: its
layout, checkpoints and ``load``). Re-running the same command resumes from the newest
complete checkpoint with the optimizer state and the data order it would have had, so
an interrupted run ends with the same weights as an uninterrupted one. Backends,
devices, strategies and precision are ``colorpast.devices``' business; the callbacks
that checkpoint and draw progress, ``colorpast.callbacks``'.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import keras

from colorpast import adversarial, devices
from colorpast.callbacks import Checkpointer, ProgressBar
from colorpast.config import TrainConfig
from colorpast.data import shards
from colorpast.data.loader import Loader
from colorpast.errors import TrainingError, UserError, say
from colorpast.models import build, check_size, effunet, efficientnet_lite
from colorpast.models import loss as models_loss, names as model_names, spec as model_spec
from colorpast.runs import (  # noqa: F401 - the run folder's names, also used as train.X
    BEST,
    CKPT_DIR,
    FINAL,
    HISTORY,
    WEIGHTS,
    _write_history,
    check_disk,
    check_run_folder,
    list_checkpoints,
    load,
    load_checkpoint,
    save_checkpoint,
    save_model_atomic,
    settings,
    write_config,
)
from colorpast.train_step import Colorizer


WARMUP = 0.05  # share of a cosine schedule's steps spent warming up from 0


def learning_rate(cfg: TrainConfig):
    """The learning rate, or a schedule of the optimizer's step: ``cosine`` warms up
    linearly from 0 to ``lr`` over the first 5 % of the run's steps, then decays to 0 at
    its last (``epochs x steps_per_epoch``). The schedule is a function of the step,
    so a resumed run continues it exactly; more epochs on resume stretch what is left."""
    if cfg.schedule == "constant":
        return cfg.lr
    if cfg.schedule == "cosine":
        total = max(1, cfg.epochs * cfg.steps_per_epoch)
        warmup = int(round(WARMUP * total))
        return keras.optimizers.schedules.CosineDecay(0.0, max(1, total - warmup), alpha=0.0,
                                                      warmup_target=cfg.lr, warmup_steps=warmup)
    raise UserError(f"unknown schedule {cfg.schedule!r}; choose constant or cosine")


def check_options(cfg: TrainConfig) -> None:
    """Bad values, and options that cannot work together, fail here, in one line, before
    the run folder is touched (a config.json written for a run that cannot start would
    then refuse the corrected command as "other settings"). Each field's own rules live
    with the field (``TrainConfig.check``); what depends on the model is checked here."""
    cfg.check()
    if cfg.model not in model_names():
        raise UserError(f"unknown model {cfg.model!r}; choose one of: {', '.join(model_names())}")
    if cfg.size is not None:
        try:
            check_size(cfg.model, cfg.size, cfg.size)
        except ValueError as e:
            raise UserError(f"{say('--size', 'size')} {cfg.size}: {e}") from None
    if cfg.prior and not Path(cfg.prior).is_file():
        raise UserError(f"no prior at {cfg.prior}; make one with: colorpast prior --data PREPARED --out {cfg.prior}")
    models_loss(cfg.model, None, kind=cfg.loss, rebalance=cfg.rebalance)  # raises for a bad pair
    if cfg.adversarial:
        adversarial.check(cfg.model)
    if not model_spec(cfg.model).encoder and (cfg.encoder or cfg.encoder_lr != 1.0):
        raise UserError(f"{cfg.model} has no pretrained encoder: leave out "
                        + say("--encoder and --encoder-lr", "encoder and encoder_lr")
                        + f" (the models with one: {', '.join(n for n in model_names() if model_spec(n).encoder)})")
    learning_rate(cfg)


def encoder_mode(cfg: TrainConfig) -> str:
    """How the pretrained encoder is built to train: ``frozen_first`` builds it as
    ``frozen_bn`` (the optimizer holds its weights still for the first epoch)."""
    mode = cfg.encoder or effunet.DEFAULT_ENCODER
    return "frozen_bn" if mode == "frozen_first" else mode


def _scaled_encoder(base):
    """``base`` (a Keras optimizer class) whose updates of the pretrained encoder's
    variables use the learning rate times ``scale``, and 0 for the first ``frozen_steps``
    optimizer steps. Keras optimizers have one learning rate; Adam's steps do not depend
    on the gradient's scale, so scaling the gradients would not do it: the update is
    split in two, the encoder's variables and the rest, each at its own rate."""

    class EncoderScaled(base):
        def __init__(self, learning_rate, scale: float, frozen_steps: int = 0):
            super().__init__(learning_rate)
            self.encoder_scale, self.frozen_steps = float(scale), int(frozen_steps)

        def _backend_update_step(self, grads, trainable_variables, learning_rate):
            enc = [efficientnet_lite.is_encoder(v) for v in trainable_variables]
            rest = [(g, v) for g, v, e in zip(grads, trainable_variables, enc) if not e]
            mine = [(g, v) for g, v, e in zip(grads, trainable_variables, enc) if e]
            if rest:
                super()._backend_update_step([g for g, _ in rest], [v for _, v in rest], learning_rate)
            if mine:
                scale = keras.ops.convert_to_tensor(self.encoder_scale, "float32")
                if self.frozen_steps:
                    scale = keras.ops.where(self.iterations < self.frozen_steps, 0.0, scale)
                lr = keras.ops.cast(learning_rate, "float32") * scale
                super()._backend_update_step([g for g, _ in mine], [v for _, v in mine], lr)

    EncoderScaled.__name__ = f"EncoderScaled{base.__name__}"
    return EncoderScaled


def make_optimizer(cfg: TrainConfig):
    lr = learning_rate(cfg)
    kinds = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}
    if cfg.optimizer not in kinds:
        raise UserError(f"unknown optimizer {cfg.optimizer!r}; choose adam or rmsprop")
    frozen_steps = cfg.steps_per_epoch if cfg.encoder == "frozen_first" else 0
    if model_spec(cfg.model).encoder and (cfg.encoder_lr != 1.0 or frozen_steps):
        return _scaled_encoder(kinds[cfg.optimizer])(lr, cfg.encoder_lr, frozen_steps)
    return kinds[cfg.optimizer](lr)


# ----------------------------------------------------------------------------------
# Callbacks


def _callbacks_module():
    """The callback classes ``fit`` uses, from ``colorpast.callbacks`` (benchmarks/step_times.py
    replaces this function to time every step, in this tree and in older ones)."""
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
    monitor: str = "val_loss"  # what ``best`` is: "val_loss", or "loss" (training) for a run without validation

    def summary(self) -> str:
        if self.best is None:
            best = "no epoch finished yet"
        elif self.monitor == "val_loss":
            best = f"best val_loss {self.best:.5f} (epoch {self.best_epoch + 1})"
        else:
            best = f"no validation data; best training loss {self.best:.5f} (epoch {self.best_epoch + 1})"
        return (
            f"trained {self.epochs_done} epochs; {best}; weights: {self.run / BEST} "
            f"(colorize or evaluate them as {self.run}:best), final model: {self.run / FINAL}"
        )


def _result(run: Path, model, state: dict, resumed_from: int) -> TrainResult:
    # The Checkpointer keeps the epoch with the lowest val_loss, or the lowest training
    # loss when there is no validation: the history's columns tell which.
    monitor = "val_loss" if any("val_loss" in row for row in state["history"]) else "loss"
    return TrainResult(run, model.net, state["epoch"], state.get("best"), state.get("best_epoch"), resumed_from,
                       model, monitor)


def fit(cfg: TrainConfig, run_dir, train_data, val_data=None, restart: bool = False, verbose: bool = True, log=print) -> TrainResult:
    """Train ``cfg.model``; resumes from ``run_dir`` unless ``restart``.

    Args:
        train_data: a training ``colorpast.data.loader.Loader`` (endless; batch ``k`` is a
            function of its seed and ``k``, so a resumed run reads what it would have read).
        val_data: an evaluation ``Loader``, or None.
    Returns:
        a TrainResult; its ``model`` is the trained network itself (L -> output), not the
        training wrapper around it.
    Raises:
        TrainingError: the loss became NaN (the last good checkpoint is kept) or the
            device ran out of memory.
    """
    run = Path(run_dir)
    check_options(cfg)
    # A multi-worker strategy must exist before other TensorFlow work; it decides which
    # process writes: only the chief touches the run folder, the other workers get the
    # chief's state over the network and need no access to it.
    strategy = devices.make_strategy(cfg.strategy)
    chief = strategy.extended.should_checkpoint
    if chief:
        cfg = check_run_folder(run, cfg, restart, log=log)
    if cfg.deterministic:
        devices.enable_determinism()
    keras.mixed_precision.set_global_policy(devices.resolve_precision(cfg.mixed_precision))
    keras.utils.set_random_seed(cfg.seed)

    with strategy.scope():
        options = {"encoder": encoder_mode(cfg)} if model_spec(cfg.model).encoder else {}
        model = Colorizer(build(cfg.model, (None, None, 1), **options), prior=cfg.prior or None, loss=cfg.loss,
                          rebalance=cfg.rebalance, adversarial=cfg.adversarial)
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
        write_config(run, cfg)  # only now: a run that cannot resume is left as it was
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
        log(f"{run} is finished: {state['epoch']} of {cfg.epochs} epochs trained (step {step0}); " + say(
            "pass more --epochs to train further, or --restart to start over",
            "raise EPOCHS to train further, or set RESTART = True to start over"))
        if chief and not (run / FINAL).exists():
            save_model_atomic(model.net, run / FINAL)
        return _result(run, model, state, step0)
    if chief and not fresh:
        _write_history(run, state["history"])  # drop rows written after that checkpoint
    Checkpointer, ProgressBar = _callbacks_module()
    ckpt = Checkpointer(run, cfg, state, write=chief, log=log)
    callbacks = [ckpt]
    if chief and devices.has_tensorflow():  # Keras writes TensorBoard logs with tf.summary
        callbacks.append(keras.callbacks.TensorBoard(str(run / "tensorboard"), write_graph=False))
    bar = None
    if verbose and chief:
        bar = ProgressBar(cfg.batch_size, cfg.epochs, steps_per_epoch=cfg.steps_per_epoch, initial_step=step0)
        callbacks.append(bar)

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
            f"out of device memory at batch size {cfg.batch_size}; try a smaller " + say(
                f"--batch-size (for example {max(1, cfg.batch_size // 2)})",
                f"BATCH_SIZE (for example {max(1, cfg.batch_size // 2)}) with another RUN or RESTART = True")
            + "; the last checkpoint is kept"
        ) from None
    finally:
        if bar is not None:
            bar.close()
    if ckpt.nan_at is not None:
        e, s = ckpt.nan_at
        raise TrainingError(
            f"the loss became NaN in epoch {e + 1} (step {s}); training stopped and the last good "
            f"checkpoint (epoch {state['epoch']}) is kept; " + say(
                f"try a lower --lr (now {cfg.lr})",
                f"try a lower LR (for example {cfg.lr / 2:g}; now {cfg.lr}) with another RUN or RESTART = True")
        )
    if chief:
        save_model_atomic(model.net, run / FINAL)
    return _result(run, model, state, step0)


# Training speed on a CPU: (images a second, at this crop size), the quality curve's 4,000-image
# runs on the 2-core development CPU, one thread each, two at a time beside other trainings
# (benchmarks/RESULTS.md, "Recognition" and "A better recipe at equal compute"; seed16_hints:
# "Colour hints", beside three trainings). A Colab CPU runtime has 2 cores. effunet's is the
# effunet preset's, seed16_fast's the fast preset's, seed16's the default and seed presets'.
# The Lite2 models' are effunet's over the CPU time a Lite2 step costs against a Lite0 one,
# measured side by side (1.06; 1.10 with hints, whose gradient runs back through the encoder;
# RESULTS.md, "EfficientNet-Lite2"). Other crop sizes are scaled by pixels, other models are
# not measured: an estimate.
CPU_SPEED = {"effunet": (4000 / 1223, 224), "effunet_cls": (4000 / 1673, 224), "seed16_fast": (4000 / 254, 224),
             "seed16": (4000 / 761, 128), "seed16_cls": (4000 / 1017, 128), "seed16_hints": (4000 / 976, 128)}
CPU_SPEED["effunet_hints"] = CPU_SPEED["effunet"]  # its hints join the stem: effunet's cost (not measured alone)
CPU_SPEED.update({"effunet_lite2": (CPU_SPEED["effunet"][0] / 1.06, 224),
                  "effunet_lite2_hints": (CPU_SPEED["effunet_hints"][0] / 1.10, 224),
                  "effunet_lite2_cls": (CPU_SPEED["effunet_cls"][0] / 1.06, 224)})


def done_steps(run) -> int:
    """The steps a run has trained, by its newest checkpoint that reads (0 without one)."""
    for ckpt in reversed(list_checkpoints(Path(run))):
        try:
            return int(json.loads((ckpt / "state.json").read_text())["global_step"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return 0


def cpu_estimate(cfg: TrainConfig, run=None, restart: bool = False) -> str:
    """One line for a run about to train on a CPU: how long what is left of it takes (the
    steps ``run`` has trained already counted, unless ``restart``), how long until its next
    checkpoint, and, when that is more than a quarter of an hour, a smaller run to pick
    (04 on a CPU runtime prints it)."""
    size = cfg.size or 224  # None: the model's own, 224
    measured, at = CPU_SPEED.get(cfg.model, (None, 224))
    rate = (measured or CPU_SPEED["seed16"][0] * (CPU_SPEED["seed16"][1] / 224) ** 2) * (at / size) ** 2
    total = cfg.epochs * cfg.steps_per_epoch
    done = 0 if run is None or restart else min(done_steps(run), total)
    per_epoch = cfg.steps_per_epoch * cfg.batch_size
    left = (total - done) * cfg.batch_size

    def span(seconds: float) -> str:
        return f"{seconds / 3600:.1f} hours" if seconds >= 5400 else f"{max(1, round(seconds / 60))} min"

    if not left:
        return f"{run} has trained all its {cfg.epochs} epochs: nothing is left to train"
    so_far = f"({done // cfg.steps_per_epoch} of {cfg.epochs} epochs trained) has {left:,} images left" if done else \
        f"trains {left:,} images"
    to_next = (cfg.steps_per_epoch - done % cfg.steps_per_epoch) * cfg.batch_size
    line = (f"on a CPU this run {so_far} at about {rate:.1f} a second "
            f"({cfg.model} at {size} px, " + ("measured on a 2-core CPU" if measured else
                                            "not measured: seed16's speed") + f"): about {span(left / rate)}, "
            f"the {'next' if done else 'first'} checkpoint after {span(to_next / rate)}")
    if per_epoch / rate <= 900:
        return line
    small = max(1, round(600 * rate / cfg.batch_size))  # steps for about ten minutes an epoch
    return line + ". For a first look, a checkpoint every ~10 minutes: " + say(
        f"--steps-per-epoch {small}, or a GPU",
        f"STEPS_PER_EPOCH = {small} with another RUN (or RESTART = True), or a GPU runtime")


def train(cfg: TrainConfig, run_dir, restart: bool = False, verbose: bool = True, log=print) -> TrainResult:
    """Train on a prepared set (``cfg.data``): the same as ``colorpast train``."""
    if not cfg.data:
        raise UserError("no training data: " + say("pass --data data/prepared/NAME (made by colorpast prepare)",
                                                   "set DATA to data/prepared/NAME (made by 02_preprocess)"))
    check_options(cfg)
    summary = shards.read_summary(cfg.data)
    if cfg.size and cfg.size > int(summary["size"]):
        raise UserError(f"crop {cfg.size} is larger than the prepared size {summary['size']}")
    crop = cfg.size or None
    # The data stage draws hint patches and print parameters; it never learns what a model is.
    extra = {"hints": model_spec(cfg.model).hints, "age": cfg.age}
    train_data = Loader(shards.open_split(cfg.data, "train"), cfg.batch_size, crop, augment=cfg.augment, seed=cfg.seed,
                        **extra)
    val_split = shards.Split(cfg.data, "val")
    val_data = Loader(val_split, cfg.batch_size, crop, train=False, **extra) if len(val_split) else None
    return fit(cfg, run_dir, train_data, val_data, restart=restart, verbose=verbose, log=log)
