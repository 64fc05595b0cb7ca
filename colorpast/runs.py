"""The run folder: its layout, checkpoints, and loading a trained model from it.

Training (``colorpast.train``) writes a run folder; colorize, the demo and the notebooks
read it through this module alone, without importing the training harness.

A run folder (``runs/NAME``, or a Google Drive folder on Colab) holds:

    config.json                 the TrainConfig; a re-run resumes with it
    checkpoints/step-00001200/  resumable state: model.weights.h5 (with the optimizer's
                                variables), state.json (epoch, global step, history, best
                                loss, the resolved precision and the Keras backend);
                                written under a temporary name and renamed when whole;
                                the newest ``keep_checkpoints`` kept, the others truncated
                                to 0 bytes and deleted (Google Drive's Trash counts them)
    best.weights.h5             weights with the lowest validation loss so far
    history.csv                 one row per completed epoch, rewritten from the checkpoint
    tensorboard/                TensorBoard logs
    model.keras                 the final model, written when the last epoch ends
    decode.json                 a 313-bin run's decoding temperature (colorpast.tune)

Re-running the same command resumes from the newest complete checkpoint, with the
optimizer state and the data order it would have had (the data stream is a function of
the seed and the global step, see ``colorpast.data.loader``), so an
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
import json
import os
import shutil
import signal
import warnings
from pathlib import Path

import keras

from colorpast import config, version
from colorpast.config import TrainConfig
from colorpast.errors import UserError, say
from colorpast.fsutil import PARTIAL, atomic_path, atomic_write, commit, discard, writable_dir
from colorpast.models import build, names, spec, with_decode
from colorpast.train_step import Colorizer

CONFIG = "config.json"
STARTED_WITH = "started_with"  # config.json's record of the colorpast that started the run
FINAL = "model.keras"
BEST = "best.weights.h5"
HISTORY = "history.csv"
CKPT_DIR = "checkpoints"
WEIGHTS = "model.weights.h5"  # in each checkpoint
DECODE = "decode.json"  # how a 313-bin run's output is decoded: its temperature (colorpast.tune)


def _write_history(run: Path, rows: list[dict]) -> None:
    """Rewrite history.csv from the checkpoint's rows, atomically."""
    if not rows:
        return
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with atomic_write(run / HISTORY, newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def list_checkpoints(run: Path) -> list[Path]:
    """Complete checkpoints, oldest first (a partial one has another name)."""
    d = run / CKPT_DIR
    return sorted(d.glob("step-[0-9]*")) if d.is_dir() else []


def _step_of(ckpt: Path) -> int:
    return int(ckpt.name.split("-", 1)[1])


def _fault(point: str, step: int) -> None:
    """Fault injection for the test suite: ``COLORPAST_FAULT=POINT:STEP`` (see the module
    docstring) kills or interrupts this process at exactly that point."""
    if os.environ.get("COLORPAST_FAULT") != f"{point}:{step}":
        return

    # SIGINT is what Ctrl-C (and a notebook's interrupt button) sends: Python raises
    # KeyboardInterrupt in the main thread as soon as this call returns. A process started
    # in the background by a shell without job control (`cmd &` in a script) inherits
    # SIGINT ignored, and Ctrl-C could never reach it; the injected one should, as in a
    # terminal, so Python's handler is put back first.
    if point.startswith("sigint") and signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    os.kill(os.getpid(), signal.SIGINT if point.startswith("sigint") else signal.SIGKILL)


def save_checkpoint(run: Path, model, state: dict, keep: int) -> Path:
    """Write weights (with the optimizer's variables) and state under a temporary name,
    then rename; prune to the newest ``keep``."""
    step = int(state["global_step"])
    folder = run / CKPT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(PARTIAL + "*"):  # left by a process killed while writing
        discard(stale)
    final = folder / f"step-{step:09d}"
    tmp = folder / f"{PARTIAL}{step:09d}-{os.getpid()}"
    tmp.mkdir()
    model.save_weights(str(tmp / WEIGHTS))
    _fault("kill-in-checkpoint", step)
    # What "auto" resolved to and the backend, so that a resume elsewhere can convert.
    net = getattr(model, "net", model)  # the trainer computes in float32; the network's policy is the run's
    saved = {**state, "precision": net.dtype_policy.name, "backend": keras.backend.backend()}
    (tmp / "state.json").write_text(json.dumps(saved, indent=1))
    if final.exists():  # the same step again (an epoch end right after a step save)
        os.rename(final, folder / f"{PARTIAL}{step:09d}-{os.getpid()}-replaced")
    commit(tmp, final)
    for stale in folder.glob(PARTIAL + "*"):
        discard(stale)
    older = [c for c in list_checkpoints(run) if _step_of(c) < step]
    # Newer ones exist only when this run resumed from an older checkpoint because they
    # did not load; this one supersedes them.
    newer = [c for c in list_checkpoints(run) if _step_of(c) > step]
    for old in older[: max(0, len(older) - (keep - 1))] + newer:
        try:
            discard(old)
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
            "fix or move them, or " + say("pass --restart", "set RESTART = True") + " to start over (it deletes them)"
        )
    return None


def saved_config(run) -> TrainConfig | None:
    """The config.json of a run folder, or None when it has none."""
    path = Path(run) / CONFIG
    if not path.is_file():
        return None
    try:
        return TrainConfig.from_json(path)
    except (ValueError, TypeError) as e:  # not JSON, or not an object of fields
        raise UserError(f"{path} is unreadable ({type(e).__name__}); "
                        + say("pass --restart", "set RESTART = True") + " to start the run over") from None


def started_with(run) -> dict | None:
    """The colorpast version (and commit) a run was started with, as ``version.describe()``
    gives it; None for a run made before runs recorded it."""
    try:
        record = json.loads((Path(run) / CONFIG).read_text()).get(STARTED_WITH)
    except (OSError, ValueError, AttributeError):
        return None
    return record if isinstance(record, dict) else None


def write_config(run, cfg: TrainConfig) -> None:
    """Write ``cfg`` as the run's config.json with the version the run was started with:
    this one for a new run, the recorded one (or none, for an older run) on a resume."""
    path = Path(run) / CONFIG
    cfg.to_json(path, **{STARTED_WITH: started_with(run) if path.exists() else version.describe()})


def settings(run, preset: str | None = None, restart: bool = False, **given) -> TrainConfig:
    """The config a run trains with, from the options given explicitly (None: not given).

    A new run (or ``restart``) starts from ``preset`` (default: "default") with the given
    options. A run folder that holds a config.json resumes with it: the settings not
    given are the run's own, whatever today's defaults and presets say, so a newer
    colorpast resumes runs started by an older one. Given options replace the saved
    ones; :func:`check_run_folder` refuses those that change what the run learns
    (``resumable`` ones, such as ``epochs``, may change), and a given ``preset`` other
    than the run's own. Every value is checked (``TrainConfig.check``).
    """
    saved = None if restart else saved_config(run)
    if saved is None:
        return config.preset(preset or "default").with_(**given).check()
    if preset is not None:
        given["preset"] = preset
    return saved.with_(**given).check()


def check_run_folder(run: Path, cfg: TrainConfig, restart: bool, log=print) -> TrainConfig:
    """Create or validate the run folder before any training; returns the config to use.

    A resumed run must have the saved settings that change what it learns
    (``TrainConfig.differences``); the others may change. A run started by another
    colorpast version says so in one line and resumes. A new run's config.json is
    written here; a resumed one's (its epochs may change) by ``fit`` once a checkpoint
    has loaded."""
    run = writable_dir(run)
    saved = run / CONFIG
    if restart:
        for p in [CKPT_DIR, "tensorboard", BEST, HISTORY, FINAL, CONFIG]:
            discard(run / p)  # truncated first: see fsutil.discard
    elif saved.exists():
        old = saved_config(run)
        diff = old.differences(cfg)
        if diff:
            what = "; ".join(f"{k}: {getattr(old, k)!r} in the run, {getattr(cfg, k)!r} now" for k in diff)
            raise UserError(f"{run} holds a run with other settings ({what}); " + say(
                "leave those options out (or give the run's own) to resume, pass --restart to start over, "
                "or use another --run",
                "give the run's own to resume, set RESTART = True to start over, or choose another RUN"))
        was, now = started_with(run), version.describe()
        if was is not None and was != now:
            log(f"{run} was started with colorpast {version.label(was)}; this is {version.label(now)}: "
                "resuming with the run's own settings")
    if not saved.exists():
        write_config(run, cfg)
    return cfg


def check_disk(run: Path, params: int, keep: int) -> None:
    """Refuse to start when the run folder cannot hold the checkpoints (float32 weights
    plus up to two optimizer slots each, ``keep`` of them, the best weights and the final model)."""
    need = params * 4 * 3 * (keep + 2)
    free = shutil.disk_usage(run).free
    if free < need:
        raise UserError(f"{run} has {free / 2**20:.0f} MiB free; this run needs about {need / 2**20:.0f} MiB for checkpoints")


def save_model_atomic(model, path) -> None:
    """Save a Keras model so that ``path`` is either the old file or the complete new one."""
    with atomic_path(path) as tmp:
        model.save(tmp)


def missing_weights(run) -> str | None:
    """Why ``load(run)`` cannot give a model, in a few words; None when it can.

    config.json is written before the first checkpoint, so a run interrupted in its
    first epoch is a folder with settings and no weights: what picks a model (06, 05)
    passes it over instead of failing on it."""
    run = Path(run)
    if not run.is_dir():
        return f"{run} does not exist"
    if (run / FINAL).is_file() or list_checkpoints(run):
        return None
    if not (run / CONFIG).is_file():
        return f"{run} is not a training run (no {CONFIG})"
    return f"{run} has no trained weights yet (the first is written at the end of its first epoch)"


WEIGHTS_NAMES = ("final", "best", "last")  # what may follow a run folder and a colon: runs/NAME:best


def named_weights(ref) -> tuple[Path, str] | None:
    """``(run, weights)`` for a reference ``runs/NAME:WEIGHTS`` whose folder exists (the
    weights name unchecked: ``load`` says what it may be); None for any other reference,
    ``NAME:official`` of a registered model included, even beside a folder of that name."""
    run, colon, weights = str(ref).rpartition(":")
    if not (colon and run) or str(ref).partition(":")[0] in names() or not Path(run).is_dir():
        return None
    return Path(run), weights


def has_weights(run, weights: str) -> bool:
    """Whether ``load(run, weights)`` finds what it is asked for."""
    run = Path(run)
    if weights == "best":
        return (run / BEST).is_file()
    if weights == "last":
        return bool(list_checkpoints(run))
    return weights == "final" and missing_weights(run) is None


def load(run_dir, weights: str = "final"):
    """A trained model from a run folder: its final model (else its last checkpoint), or
    ``weights="best"`` (the epoch with the lowest validation loss) or ``"last"`` (the last
    checkpoint, even when a final model exists); with its decoding temperature (``DECODE``)."""
    f = Path(run_dir) / DECODE
    options = {"temperature": float(json.loads(f.read_text())["temperature"])} if f.is_file() else {}
    return with_decode(_load(Path(run_dir), weights), **options)


def _load(run: Path, weights: str):
    if weights not in WEIGHTS_NAMES:
        raise UserError(f"{run}:{weights}: a run's weights are {', '.join(WEIGHTS_NAMES)} (runs/NAME:best), "
                        f"not {weights!r}")
    if weights == "final" and (run / FINAL).exists():
        return keras.models.load_model(run / FINAL, compile=False)
    if not (run / "config.json").exists():
        raise UserError(f"{run} is not a training run (no config.json)")

    cfg = TrainConfig.from_json(run / "config.json")
    model = build(cfg.model, (None, None, 1))
    if weights == "best":
        if not (run / BEST).exists():
            raise UserError(f"{run} has no best weights yet ({BEST} is written at the end of its first epoch)")
        model.load_weights(str(run / BEST))
        return model
    # Checkpoints hold the training wrapper (the network and its optimizer).
    for ckpt in reversed(list_checkpoints(run)):
        try:
            Colorizer(model, prior=None, adversarial=cfg.adversarial).load_weights(str(ckpt / WEIGHTS))  # its critic too
            return model
        except Exception:  # noqa: BLE001 - a checkpoint cut short: the one before it, as when resuming
            continue
    raise UserError(f"{run} has no loadable trained weights yet")


def _recognises(run: Path) -> bool:
    """Whether the run's model has an ImageNet-trained encoder (effunet's family), the
    models that scored best (benchmarks/RESULTS.md, "Recognition")."""
    try:
        return spec(json.loads((run / "config.json").read_text()).get("model", "")).encoder
    except (OSError, ValueError):
        return False


def trained_runs(runs_dir) -> list[Path]:
    """Run folders under ``runs_dir`` (one or two levels deep, as ``runs/NAME`` and the
    demo's ``runs/demo/run``) that hold a final model or a checkpoint: the runs of models
    with an ImageNet-trained encoder first (they colour what they recognise), newest
    first within each group."""
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    found = []
    for settings in [*root.glob("*/config.json"), *root.glob("*/*/config.json")]:
        run = settings.parent
        finished = [run / FINAL] if (run / FINAL).is_file() else list_checkpoints(run)[-1:]
        if finished:
            found.append((finished[0].stat().st_mtime, run))
    return [run for _, run in sorted(found, key=lambda t: (not _recognises(t[1]), -t[0], str(t[1])))]
