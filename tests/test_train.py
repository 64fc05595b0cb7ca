"""The training harness: run folder contents, resume, guards, and faults (SIGKILL, Ctrl-C)."""

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from colorpast import devices, train
from colorpast.config import TrainConfig
from colorpast.errors import TrainingError, UserError
from conftest import cli
from prepared_fixture import make_prepared

# The loop's tests train conftest's two-convolution model: the network is not what they
# test, and seed16's sixteen layers cost most of their time (the JAX pass runs them again).
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("small_model")]

TINY = dict(model="test_small", batch_size=4, steps_per_epoch=3, epochs=2, lr=1e-3, val_batches=None)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    d = tmp_path_factory.mktemp("prep")
    make_prepared(d, {"train": 12, "val": 4}, size=32, per_shard=4)
    return d


def _history(run):
    return list(csv.DictReader(open(run / "history.csv")))


def test_run_folder_contents_and_resume(prepared, tmp_path, monkeypatch):
    run = tmp_path / "run"
    cfg = TrainConfig(data=str(prepared), **TINY)
    res = train.train(cfg, run, verbose=False)
    assert res.epochs_done == 2 and res.resumed_from == 0 and "best val_loss" in res.summary()
    for f in ["config.json", "best.weights.h5", "history.csv", "model.keras"]:
        assert (run / f).is_file(), f
    assert list((run / "tensorboard").rglob("events.out.tfevents*"))
    assert [c.name for c in train.list_checkpoints(run)] == ["step-000000003", "step-000000006"]
    # Keras writes the optimizer's variables into the weights file: nothing else holds them.
    assert sorted(p.name for p in train.list_checkpoints(run)[-1].iterdir()) == ["model.weights.h5", "state.json"]
    assert [int(r["epoch"]) for r in _history(run)] == [0, 1]
    assert {"loss", "val_loss", "step"} <= set(_history(run)[0])
    assert json.loads((run / "config.json").read_text())["data"] == str(prepared)
    # Same command again: nothing to do; more epochs: continues from the checkpoint.
    lines = []
    again = train.train(cfg, run, verbose=False, log=lines.append)
    assert again.resumed_from == 6 and len(_history(run)) == 2 and "is finished" in lines[-1]
    assert lines[-1].endswith("pass more --epochs to train further, or --restart to start over")
    from colorpast import errors

    monkeypatch.setattr(errors, "AUDIENCE", "notebook")  # 04's words: its parameters, not the CLI's options
    train.train(cfg, run, verbose=False, log=lines.append)
    assert lines[-1].endswith("raise EPOCHS to train further, or set RESTART = True to start over")
    monkeypatch.undo()
    more = train.train(cfg.with_(epochs=3), run, verbose=False)
    assert more.resumed_from == 6 and [int(r["epoch"]) for r in _history(run)] == [0, 1, 2]
    # Other settings are refused, --restart starts over.
    with pytest.raises(UserError, match="lr: 0.001 in the run, 0.1 now"):
        train.train(cfg.with_(lr=0.1), run, verbose=False)
    fresh = train.train(cfg.with_(lr=0.1), run, restart=True, verbose=False)
    assert fresh.resumed_from == 0 and len(_history(run)) == 2


def test_summary_names_the_loss_the_best_weights_were_chosen_by(tmp_path):
    from types import SimpleNamespace

    model = SimpleNamespace(net="network")
    validated = train._result(tmp_path, model, {"epoch": 2, "best": 0.5, "best_epoch": 1,
                                                "history": [{"loss": 0.7, "val_loss": 0.5}] * 2}, 0)
    assert validated.monitor == "val_loss" and "best val_loss 0.50000 (epoch 2)" in validated.summary()
    unvalidated = train._result(tmp_path, model, {"epoch": 2, "best": 0.25, "best_epoch": 0,
                                                  "history": [{"loss": 0.25}, {"loss": 0.3}]}, 0)
    text = unvalidated.summary()
    assert unvalidated.monitor == "loss" and "val_loss" not in text
    assert "no validation data; best training loss 0.25000 (epoch 1)" in text
    assert "no epoch finished" in train._result(tmp_path, model, {"epoch": 0, "history": []}, 0).summary()


# `colorpast train` in its own process (signals, SIGKILL, exit codes), training the small model.
CLI_WITH_SMALL_MODEL = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                        "from small_model import register_small; register_small(); "
                        "from colorpast.cli import main; sys.exit(main())")


def _cli_train(run, prepared, *extra, env=None):
    args = [sys.executable, "-c", CLI_WITH_SMALL_MODEL, "train", "--data", str(prepared), "--run", str(run),
            "--model", "test_small", "--epochs", "4", "--steps-per-epoch", "12", "--batch-size", "4", "--size", "32",
            "--val-batches", "1", "--deterministic", *extra]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _final_weights(run):
    m = train.load(run)
    return [w.copy() for w in m.get_weights()]


def _steps(run):
    return [int(c.name.split("-")[1]) for c in train.list_checkpoints(run)]


def _state(ckpt):
    return json.loads((ckpt / "state.json").read_text())


def test_cli_interrupts_land_where_injected_and_resume_to_the_uninterrupted_weights(prepared, tmp_path):
    """Ctrl-C and SIGKILL mid-epoch, with --save-every, at steps named by fault injection
    (COLORPAST_FAULT), each resume training further full epochs: the checkpoints hold the
    steps where they landed, the resumes start there, and the end equals a run never stopped."""
    every = ("--save-every", "5")
    ref = tmp_path / "ref"
    p = _cli_train(ref, prepared, *every)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    want = _final_weights(ref)

    run = tmp_path / "stopped"
    # 1. Ctrl-C at step 17, in epoch 2, between the --save-every checkpoints 15 and 20.
    p = _cli_train(run, prepared, *every, env={"COLORPAST_FAULT": "sigint-at-step:17"})
    out, err = p.communicate(timeout=300)
    assert p.returncode == 130 and "interrupted" in err and "Traceback" not in err, err[-2000:]
    assert "interrupted at step 17" in out
    assert _steps(run) == [15, 17]  # the Ctrl-C checkpoint is the newest
    assert {k: _state(run / "checkpoints" / "step-000000017")[k] for k in ("global_step", "epoch")} == {"global_step": 17, "epoch": 1}
    assert [int(r["step"]) for r in _history(run)] == [12]
    # 2. Resume from it, and SIGKILL at step 41, right after the --save-every checkpoint 40.
    p = _cli_train(run, prepared, *every, env={"COLORPAST_FAULT": "sigkill-at-step:41"})
    out, err = p.communicate(timeout=300)
    assert p.returncode == -signal.SIGKILL, err[-2000:]
    assert "resuming" in out and "step 17" in out
    assert _steps(run) == [36, 40]
    assert {k: _state(run / "checkpoints" / "step-000000040")[k] for k in ("global_step", "epoch")} == {"global_step": 40, "epoch": 3}
    assert [int(r["step"]) for r in _history(run)] == [12, 24, 36]
    # 3. Resume from 40, and die half-way through writing checkpoint 45.
    p = _cli_train(run, prepared, *every, env={"COLORPAST_FAULT": "kill-in-checkpoint:45"})
    out, err = p.communicate(timeout=300)
    assert p.returncode == -signal.SIGKILL
    assert "step 40" in out
    assert list((run / "checkpoints").glob(".partial-*")), "the killed write should leave a partial checkpoint"
    assert _steps(run) == [36, 40]
    # 4. Resume to the end.
    p = _cli_train(run, prepared, *every)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert "step 40" in out and "trained 4 epochs" in out
    assert not list((run / "checkpoints").glob(".partial-*"))
    assert _steps(run) == [45, 48]
    assert [int(r["epoch"]) for r in _history(run)] == [0, 1, 2, 3]
    assert [int(r["step"]) for r in _history(run)] == [12, 24, 36, 48]
    for a, b in zip(_final_weights(run), want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # 5. A finished run says so and does not train again.
    mtime = (run / "model.keras").stat().st_mtime_ns
    p = _cli_train(run, prepared, *every)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0 and "is finished: 4 of 4 epochs" in out and "resuming" not in out, err
    assert (run / "model.keras").stat().st_mtime_ns == mtime and _steps(run) == [45, 48]


def _recording(prepared, calls):
    """The training loader of train.train, recording the step each of its streams starts at."""
    from colorpast.data import shards
    from colorpast.data.loader import Loader

    class Recording(Loader):
        def stream(self, start_step=0, *args, **kwargs):
            calls.append(start_step)
            return super().stream(start_step, *args, **kwargs)

        def tf_dataset(self, start_step=0, *args, **kwargs):
            calls.append(start_step)
            return super().tf_dataset(start_step, *args, **kwargs)

    return Recording(shards.open_split(prepared, "train"), 4, seed=0)


def test_ctrl_c_checkpoint_is_the_one_the_resume_starts_from(prepared, tmp_path, monkeypatch):
    cfg = TrainConfig(data=str(prepared), **{**TINY, "epochs": 4}, deterministic=True)
    calls = []
    ref = train.fit(cfg, tmp_path / "ref", _recording(prepared, calls), verbose=False, log=lambda m: None)
    assert calls == [0]
    want = [w.copy() for w in ref.model.get_weights()]

    run, lines = tmp_path / "run", []
    monkeypatch.setenv("COLORPAST_FAULT", "sigint-at-step:7")  # in epoch 3 (steps 7, 8, 9)
    with pytest.raises(KeyboardInterrupt):
        train.fit(cfg, run, _recording(prepared, calls), verbose=False, log=lines.append)
    assert any("interrupted at step 7" in m for m in lines), lines
    assert _steps(run) == [6, 7]
    state = _state(run / "checkpoints" / "step-000000007")
    assert (state["global_step"], state["epoch"], len(state["history"])) == (7, 2, 2)
    monkeypatch.delenv("COLORPAST_FAULT")
    calls.clear()
    res = train.fit(cfg, run, _recording(prepared, calls), verbose=False, log=lines.append)
    assert res.resumed_from == 7 and any("step 7" in m and "resuming" in m for m in lines)
    # The rest of epoch 3 from step 7, then epoch 4 from step 9: the data order of a run never stopped.
    assert calls == [7, 9]
    assert [int(r["step"]) for r in _history(run)] == [3, 6, 9, 12]
    for a, b in zip(res.model.get_weights(), want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_ctrl_c_between_an_epochs_last_step_and_its_end_keeps_the_history_whole(prepared, tmp_path, monkeypatch):
    """With --save-every a multiple of the epoch, step 3 ends epoch 1: a checkpoint written
    there before the epoch's end (validation, history row) would resume into epoch 2 and
    lose epoch 1's row. The epoch end writes that step; an interrupt just before it keeps
    the checkpoint before."""
    cfg = TrainConfig(data=str(prepared), **TINY, save_every=3)
    run, lines = tmp_path / "run", []
    monkeypatch.setenv("COLORPAST_FAULT", "sigint-at-step:3")
    with pytest.raises(KeyboardInterrupt):
        train.fit(cfg, run, _recording(prepared, []), verbose=False, log=lines.append)
    assert _steps(run) == [] and any("end of epoch 1" in m for m in lines), lines
    monkeypatch.delenv("COLORPAST_FAULT")
    res = train.fit(cfg, run, _recording(prepared, []), verbose=False, log=lines.append)
    assert res.resumed_from == 0 and [int(r["step"]) for r in _history(run)] == [3, 6]
    assert [_state(c)["epoch"] for c in train.list_checkpoints(run)] == [1, 2]


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_corrupt_checkpoints_fall_back_and_all_corrupt_stops_with_nothing_touched(prepared, tmp_path, capsys):
    from colorpast import cli

    cfg = TrainConfig(data=str(prepared), **TINY)
    run, lines = tmp_path / "run", []
    train.train(cfg, run, verbose=False, log=lines.append)
    newest = run / "checkpoints" / "step-000000006" / "model.weights.h5"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])  # cut short, as by a full disk
    res = train.train(cfg.with_(epochs=3), run, verbose=False, log=lines.append)
    assert res.resumed_from == 3 and any("step-000000006" in m and "do not load" in m for m in lines), lines
    assert _steps(run) == [6, 9] and [int(r["step"]) for r in _history(run)] == [3, 6, 9]
    assert train.load(run, weights="last") is not None  # step 6 was written again, whole

    for ckpt in train.list_checkpoints(run):
        (ckpt / "model.weights.h5").write_bytes(b"")
    before = _snapshot(run)
    saved = TrainConfig.from_json(run / "config.json")
    assert cli.main(["train", "--run", str(run), "--epochs", "4"]) == 2  # resumes with the saved settings
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "none loads" in err and "--restart" in err, err
    assert TrainConfig.from_json(run / "config.json") == saved
    assert _snapshot(run) == before, "a run whose checkpoints do not load must be left as it is"


def test_a_changed_precision_resumes_with_the_optimizer_state_converted(prepared, small_model, tmp_path, monkeypatch):
    """precision "auto" resolves to mixed_float16 on a T4 and float32 on a CPU runtime: a
    run moved between them resumes, in both directions, with Adam's moments carried over."""
    import keras

    cfg = TrainConfig(data=str(prepared), **{**TINY, "epochs": 1, "model": small_model})
    run, lines = tmp_path / "run", []

    def fit_as(precision, epochs):
        monkeypatch.setattr(devices, "resolve_precision", lambda setting: precision)
        return train.train(cfg.with_(epochs=epochs), run, verbose=False, log=lines.append)

    def adam(model):
        opt = model.optimizer
        return [np.array(v) for v in getattr(opt, "inner_optimizer", opt).variables]

    def loaded(precision):
        """A fresh model of ``precision`` with the newest checkpoint loaded into it."""
        keras.mixed_precision.set_global_policy(precision)
        from colorpast.models import build
        from colorpast.train_step import Colorizer

        model = Colorizer(build(small_model, (None, None, 1)))
        model.compile(optimizer=train.make_optimizer(cfg))
        model.optimizer.build(model.trainable_variables)
        assert train.load_checkpoint(run, model, log=lambda m: None) is not None
        return model

    try:
        half = fit_as("mixed_float16", 1)
        assert isinstance(half.trainer.optimizer, keras.optimizers.LossScaleOptimizer)
        # Steps are batches, also when the loss scale skips some and the optimizer's counter stands still.
        assert _steps(run) == [3] and _state(train.list_checkpoints(run)[-1])["precision"] == "mixed_float16"
        saved = adam(half.trainer)
        for a, b in zip(adam(loaded("float32")), saved):
            np.testing.assert_array_equal(a, b)
        full = fit_as("float32", 2)
        assert full.resumed_from == 3 and any("written in mixed_float16" in m for m in lines), lines
        assert [int(r["step"]) for r in _history(run)] == [3, 6]
        saved = adam(full.trainer)
        assert any(np.abs(v).sum() > 0 for v in saved[2:]), "Adam's moments should have moved"
        for a, b in zip(adam(loaded("mixed_float16")), saved):
            np.testing.assert_array_equal(a, b)
        again = fit_as("mixed_float16", 3)
        assert again.resumed_from == 6 and [int(r["step"]) for r in _history(run)] == [3, 6, 9]
        assert np.isfinite(float(_history(run)[-1]["loss"]))
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.tensorflow
def test_steps_count_batches_when_the_float16_loss_scale_skips_some(prepared, small_model, tmp_path, monkeypatch):
    """Under mixed_float16 Keras skips a step whose scaled gradients overflow, and the
    optimizer's ``iterations`` stands still: the global step (checkpoint names, history,
    where the data stream resumes) must still count the batches."""
    import keras

    from colorpast.data import shards
    from colorpast.data.loader import Loader
    from colorpast.train_step import Colorizer

    batches = tf.Variable(0)  # batches seen, in-graph (iterations is what float16 holds still)
    honest = Colorizer.compute_loss

    def huge_first_targets(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        kwargs = {"sample_weight": sample_weight, "training": training}
        if isinstance(y_pred["ab"], keras.KerasTensor):  # Keras building the step symbolically
            return honest(self, x, y, y_pred, **kwargs)
        # Targets of 1e5 keep the float32 loss finite (about 1e10) while the scaled
        # gradients overflow float16 (max 65504) in the layers below the float32 head.
        scale = tf.where(batches < 2, 1e5, 1.0)
        with tf.control_dependencies([batches.assign_add(1)]):
            return honest(self, x, y, {**y_pred, "ab": y_pred["ab"] * scale}, **kwargs)

    monkeypatch.setattr(Colorizer, "compute_loss", huge_first_targets)
    loader = Loader(shards.open_split(prepared, "train"), 4)
    monkeypatch.setattr(devices, "resolve_precision", lambda setting: "mixed_float16")
    try:
        res = train.fit(TrainConfig(data=str(prepared), **{**TINY, "model": small_model}), tmp_path / "run", loader,
                        verbose=False, log=lambda m: None)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert int(batches.numpy()) == 6
    assert int(res.trainer.optimizer.iterations.numpy()) < 6, "no step was skipped: the test proves nothing"
    assert _steps(tmp_path / "run") == [3, 6]
    assert [int(r["step"]) for r in _history(tmp_path / "run")] == [3, 6]


def test_pruned_checkpoints_are_emptied_before_they_are_deleted(prepared, tmp_path, monkeypatch):
    """On Google Drive a deleted file sits in the Trash and counts until it is emptied."""
    real_unlink = os.unlink
    sizes = []  # (file name, its size when unlinked), also through shutil.rmtree's dir_fd calls

    def unlink(path, *, dir_fd=None):
        sizes.append((os.path.basename(path), os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_size))
        return real_unlink(path, dir_fd=dir_fd)

    monkeypatch.setattr(os, "unlink", unlink)
    run = tmp_path / "run"
    train.train(TrainConfig(data=str(prepared), **{**TINY, "epochs": 3}), run, verbose=False, log=lambda m: None)
    assert _steps(run) == [6, 9]
    gone = [(name, n) for name, n in sizes if name in ("model.weights.h5", "state.json")]
    assert len(gone) >= 2, sizes  # step 3's weights and state
    assert all(n == 0 for _, n in gone), gone


def test_nan_loss_stops_and_keeps_last_good_checkpoint(prepared, tmp_path, monkeypatch):
    import keras
    from keras import ops

    from colorpast.train_step import Colorizer

    cfg = TrainConfig(data=str(prepared), **{**TINY, "epochs": 4})
    honest_init, honest_loss = Colorizer.__init__, Colorizer.compute_loss

    def counting_init(self, *args, **kwargs):
        honest_init(self, *args, **kwargs)
        # Training batches seen, as model state: read and updated inside the compiled step on every backend.
        self.batches = keras.Variable(0, dtype="int32", trainable=False, name="batches")

    def poisoned(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = honest_loss(self, x, y, y_pred, sample_weight, training)
        if not training:
            return loss
        seen = ops.convert_to_tensor(self.batches)
        self.batches.assign(seen + 1)
        return ops.where(seen >= 7, float("nan"), loss)  # from the 8th batch, in epoch 3, the loss is NaN

    monkeypatch.setattr(Colorizer, "__init__", counting_init)
    monkeypatch.setattr(Colorizer, "compute_loss", poisoned)
    run = tmp_path / "nan"
    with pytest.raises(TrainingError, match="NaN.*epoch 3.*last good checkpoint \\(epoch 2\\).*--lr"):
        train.train(cfg, run, verbose=False)
    assert [c.name for c in train.list_checkpoints(run)] == ["step-000000003", "step-000000006"]
    model = train.load(run, weights="last")
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert len(_history(run)) == 2 and not (run / "model.keras").exists()


@pytest.mark.tensorflow
def test_out_of_memory_names_the_batch_size_option(prepared, tmp_path, monkeypatch):
    import keras

    def oom(*a, **k):
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")

    monkeypatch.setattr(keras.Model, "fit", oom)
    with pytest.raises(TrainingError, match="--batch-size"):
        train.train(TrainConfig(data=str(prepared), **TINY), tmp_path / "oom", verbose=False)


def test_unwritable_or_full_run_folder_is_reported_before_training(prepared, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write"):
        train.train(TrainConfig(data=str(prepared), **TINY), blocker / "run", verbose=False)
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9, 10**6))
    with pytest.raises(UserError, match="MiB free"):
        train.train(TrainConfig(data=str(prepared), **{**TINY, "model": "seed16"}), tmp_path / "full", verbose=False)
    assert not train.list_checkpoints(tmp_path / "full")


@pytest.mark.tensorflow
def test_mirrored_strategy_on_two_logical_cpus(prepared, tmp_path):
    script = f"""
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from colorpast import devices, train
from colorpast.config import TrainConfig
import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})
from small_model import register_small; register_small()
s = devices.make_strategy("mirrored")
assert s.num_replicas_in_sync == 2, s.num_replicas_in_sync
cfg = TrainConfig(data={str(prepared)!r}, model="test_small", batch_size=4, steps_per_epoch=2, epochs=1,
                  val_batches=1, strategy="mirrored")
r = train.train(cfg, {str(tmp_path / 'mirrored')!r}, verbose=False)
print("OK", r.epochs_done)
import dataclasses; cfg = dataclasses.replace(cfg, epochs=2)
r = train.train(cfg, {str(tmp_path / 'mirrored')!r}, verbose=False)
print("RESUMED", r.resumed_from, r.epochs_done)
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "OK 1" in r.stdout and "RESUMED 2 2" in r.stdout
    assert [int(row["step"]) for row in _history(tmp_path / "mirrored")] == [2, 4]


def test_cli_train_errors_are_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "colorpast", "train", "--data", str(tmp_path / "nope"),
                        "--run", str(tmp_path / "r")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "not a prepared set" in r.stderr


@pytest.mark.parametrize("strategy, env, message", [
    ("tpu", {}, "no TPU found"),
    ("multiworker", {}, "needs TF_CONFIG"),
    ("multiworker", {"TF_CONFIG": "{not json"}, "TF_CONFIG is not a cluster description"),
    ("multiworker", {"TF_CONFIG": '{"cluster": {}}'}, "TF_CONFIG is not a cluster description"),
])
def test_strategy_without_its_hardware_or_cluster_is_one_line(prepared, tmp_path, strategy, env, message, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    r = cli("train", "--data", prepared, "--run", tmp_path / "r", "--strategy", strategy, "--epochs", "1",
            "--steps-per-epoch", "1")
    if devices.backend() != "tensorflow":  # TPUs and clusters are tf.distribute's, here
        message = "needs the TensorFlow backend"
    assert r.returncode == 2, r.stderr[-2000:]
    assert r.stderr.strip().count("\n") == 0 and message in r.stderr
    assert not (tmp_path / "r").exists()  # nothing written before the strategy is known


def test_mixed_precision_and_xla_paths_train_on_cpu(prepared, tmp_path):
    """The accelerator options work end to end (here on the CPU, which supports bfloat16)."""
    import keras

    try:
        cfg = TrainConfig(data=str(prepared), **{**TINY, "epochs": 1}, mixed_precision="bfloat16", xla="on")
        res = train.train(cfg, tmp_path / "mp", verbose=False)
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
        assert all(v.dtype == "float32" for v in res.model.trainable_variables)  # master weights
        assert res.epochs_done == 1 and np.isfinite(float(_history(tmp_path / "mp")[0]["loss"]))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert devices.resolve_precision("off") == "float32" and devices.resolve_precision("auto") == "float32"  # CPU
    # XLA: off on a CPU for TensorFlow (slower there); JAX always compiles with it.
    assert devices.resolve_xla("auto") == (False if devices.backend() == "tensorflow" else "auto")
    with pytest.raises(UserError, match="mixed precision"):
        devices.resolve_precision("fp8")


MULTIWORKER = """
import json, os, sys
index, ports, run, epochs = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3], int(sys.argv[4])
os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                                      "task": {"type": "worker", "index": index}})
import numpy as np
from colorpast import devices, train
from colorpast.config import TrainConfig
sys.path.insert(0, sys.argv[6])
from small_model import register_small; register_small()
cfg = TrainConfig(data=sys.argv[5], model="test_small", batch_size=4, steps_per_epoch=2, epochs=epochs, val_batches=1,
                  strategy="multiworker")
r = train.train(cfg, run, verbose=False)
print("RESULT", json.dumps({"epochs": r.epochs_done, "resumed": r.resumed_from,
                            "replicas": r.model.distribute_strategy.num_replicas_in_sync,
                            "weights": float(sum(np.abs(w).sum() for w in r.model.get_weights()))}))
"""


def _free_ports(n):
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _two_workers(prepared, runs, epochs):
    ports = ",".join(map(str, _free_ports(2)))
    procs = [subprocess.Popen([sys.executable, "-c", MULTIWORKER, str(i), ports, str(runs[i]), str(epochs), str(prepared),
                               str(Path(__file__).parent)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.split("RESULT", 1)[1]))
    return results


@pytest.mark.tensorflow
def test_multiworker_strategy_two_processes_chief_writes_and_resume(prepared, tmp_path):
    """Two real workers on localhost (TF_CONFIG): they train in step, only the chief
    writes the run folder (the other is given a path it must never create), and a
    second launch resumes both from the chief's checkpoint with the chief's weights."""
    chief_run, other_run = tmp_path / "chief", tmp_path / "not-written"
    first = _two_workers(prepared, [chief_run, other_run], epochs=2)
    assert [r["epochs"] for r in first] == [2, 2] and first[0]["replicas"] == 2
    assert first[0]["weights"] == pytest.approx(first[1]["weights"], rel=1e-6)
    assert not other_run.exists()
    assert [int(r["step"]) for r in _history(chief_run)] == [2, 4]
    assert (chief_run / "model.keras").exists() and (chief_run / "best.weights.h5").exists()

    again = _two_workers(prepared, [chief_run, other_run], epochs=3)
    assert [r["resumed"] for r in again] == [4, 4] and [r["epochs"] for r in again] == [3, 3]
    assert again[0]["weights"] == pytest.approx(again[1]["weights"], rel=1e-6)
    assert [int(r["step"]) for r in _history(chief_run)] == [2, 4, 6]
    assert not other_run.exists()


@pytest.mark.tensorflow
@pytest.mark.parametrize("cc, policy", [((9, 0), "mixed_bfloat16"), ((8, 0), "mixed_bfloat16"), ((7, 5), "mixed_float16"),
                                        ((7, 0), "mixed_float16"), ((6, 1), "float32")])
def test_auto_precision_follows_the_gpu_generation(monkeypatch, cc, policy):
    """H100/A100 get bfloat16, T4/V100 float16 (loss-scaled by Keras), older GPUs float32."""
    monkeypatch.setattr(devices, "_gpus", lambda: ["fake-gpu"])
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda d: {"compute_capability": cc})
    assert devices.resolve_precision("auto") == policy
    assert devices.resolve_xla("auto") == "auto"  # Keras decides per model on a GPU
    assert devices.resolve_precision("off") == "float32" and devices.resolve_xla("off") is False


def test_a_runs_best_epoch_colorizes_and_evaluates_as_run_colon_best(prepared, tmp_path, monkeypatch):
    """``runs/NAME:best`` (and ``:last``) reach the epoch the Checkpointer kept and the last
    checkpoint from every command that takes a model; a run that overfits is better there."""
    import keras
    from PIL import Image

    from colorpast import model_choice, runs
    from colorpast.colorizer import load_model

    run = tmp_path / "run"
    res = train.train(TrainConfig(data=str(prepared), **TINY), run, verbose=False)
    assert f"{run}:best" in res.summary()
    # Make the best weights unlike the final model's, so each route is told apart.
    best = runs.load(run)
    best.set_weights([np.full_like(w, 0.01) for w in best.get_weights()])
    best.save_weights(run / runs.BEST)
    L = np.linspace(0, 100, 2 * 16 * 16, dtype="float32").reshape(2, 16, 16, 1)
    final, last = (keras.ops.convert_to_numpy(m(L)) for m in (runs.load(run), runs.load(run, "last")))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(load_model(f"{run}:best")(L)),
                               keras.ops.convert_to_numpy(best(L)), atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(load_model(f"{run}:last")(L)), last, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(load_model(f"{run}:final")(L)), final, atol=1e-6)
    assert np.abs(keras.ops.convert_to_numpy(best(L)) - final).max() > 1e-3
    assert model_choice._can_colorize(f"{run}:best") and model_choice._can_colorize(f"{run}:last")

    photo = tmp_path / "in" / "p.png"
    photo.parent.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 24, 3), np.uint8)).save(photo)
    r = cli("colorize", photo, "--model", f"{run}:best", "--out", tmp_path / "out", "--size", "16")
    assert r.returncode == 0 and (tmp_path / "out" / "p.png").is_file(), r.stderr
    r = cli("evaluate", "--data", photo.parent, "--models", f"{run}:best", "--out", tmp_path / "rep", "--size", "16")
    assert r.returncode == 0, r.stderr
    assert f"{run}:best" in (tmp_path / "rep" / "metrics.csv").read_text()

    # Mistakes are one line: a weights name the run has not, a run with no best weights yet.
    r = cli("colorize", photo, "--model", f"{run}:bset", "--out", tmp_path / "out2")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "a run's weights are final, best, last (runs/NAME:best), not 'bset'" in r.stderr
    (run / runs.BEST).unlink()
    assert not model_choice._can_colorize(f"{run}:best")
    # A folder that shares a registered model's name does not hide its published weights.
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "no-weights"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "colorful").mkdir()
    with pytest.raises(UserError, match="colorpast weights fetch colorful"):
        load_model("colorful:official")
    with pytest.raises(UserError, match="has no best weights yet"):
        load_model(f"{run}:best")
