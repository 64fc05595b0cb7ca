"""The training harness: run folder contents, resume, guards, and faults (SIGKILL, Ctrl-C)."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from colorpast import devices, train
from colorpast.config import TrainConfig
from colorpast.errors import TrainingError, UserError
from prepared_fixture import make_prepared

pytestmark = pytest.mark.slow

TINY = dict(model="seed16", batch_size=4, steps_per_epoch=3, epochs=2, lr=1e-3, val_batches=None)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    d = tmp_path_factory.mktemp("prep")
    make_prepared(d, {"train": 12, "val": 4}, size=32, per_shard=4)
    return d


def _history(run):
    return list(csv.DictReader(open(run / "history.csv")))


def test_run_folder_contents_and_resume(prepared, tmp_path):
    run = tmp_path / "run"
    cfg = TrainConfig(data=str(prepared), **TINY)
    res = train.train(cfg, run, verbose=False)
    assert res.epochs_done == 2 and res.resumed_from == 0
    for f in ["config.json", "best.weights.h5", "history.csv", "model.keras"]:
        assert (run / f).is_file(), f
    assert list((run / "tensorboard").rglob("events.out.tfevents*"))
    assert [c.name for c in train.list_checkpoints(run)] == ["step-000000003", "step-000000006"]
    assert [int(r["epoch"]) for r in _history(run)] == [0, 1]
    assert {"loss", "val_loss", "step"} <= set(_history(run)[0])
    assert json.loads((run / "config.json").read_text())["data"] == str(prepared)
    # Same command again: nothing to do; more epochs: continues from the checkpoint.
    again = train.train(cfg, run, verbose=False)
    assert again.resumed_from == 6 and len(_history(run)) == 2
    more = train.train(cfg.with_(epochs=3), run, verbose=False)
    assert more.resumed_from == 6 and [int(r["epoch"]) for r in _history(run)] == [0, 1, 2]
    # Other settings are refused, --restart starts over.
    with pytest.raises(UserError, match="lr differ"):
        train.train(cfg.with_(lr=0.1), run, verbose=False)
    fresh = train.train(cfg.with_(lr=0.1), run, restart=True, verbose=False)
    assert fresh.resumed_from == 0 and len(_history(run)) == 2


def _cli_train(run, prepared, *extra, env=None):
    args = [sys.executable, "-m", "colorpast", "train", "--data", str(prepared), "--run", str(run),
            "--epochs", "4", "--steps-per-epoch", "12", "--batch-size", "4", "--size", "32",
            "--val-batches", "1", "--deterministic", *extra]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _final_weights(run):
    m = train.load(run)
    return [w.copy() for w in m.get_weights()]


def _wait_for(path_fn, timeout=120):
    t0 = time.time()
    while not path_fn():
        if time.time() - t0 > timeout:
            raise TimeoutError
        time.sleep(0.01)


def test_sigkill_mid_epoch_and_during_checkpoint_resume_exactly(prepared, tmp_path):
    ref = tmp_path / "ref"
    p = _cli_train(ref, prepared)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    want = _final_weights(ref)

    # 1. SIGKILL in the middle of epoch 2 (after the epoch-1 checkpoint exists).
    run = tmp_path / "killed"
    p = _cli_train(run, prepared)
    _wait_for(lambda: (run / "checkpoints" / "step-000000012").is_dir())
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert not (run / "model.keras").exists()
    # 2. Resume, and die inside the checkpoint write at the end of epoch 3.
    p = _cli_train(run, prepared, env={"COLORPAST_FAULT": "kill-in-checkpoint:36"})
    p.communicate(timeout=300)
    assert p.returncode == -signal.SIGKILL
    assert list((run / "checkpoints").glob(".partial-*")), "the killed write should leave a partial checkpoint"
    assert not (run / "checkpoints" / "step-000000036").exists()
    # 3. Resume to the end.
    p = _cli_train(run, prepared)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert "resuming" in out and "trained 4 epochs" in out
    assert [int(r["epoch"]) for r in _history(run)] == [0, 1, 2, 3]
    assert [int(r["step"]) for r in _history(run)] == [12, 24, 36, 48]
    for a, b in zip(_final_weights(run), want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_ctrl_c_saves_mid_epoch_and_resumes_exactly(prepared, tmp_path):
    ref = tmp_path / "ref"
    p = _cli_train(ref, prepared, "--epochs", "2")
    assert p.wait(timeout=300) == 0
    run = tmp_path / "interrupted"
    p = _cli_train(run, prepared, "--epochs", "2")
    _wait_for(lambda: (run / "checkpoints" / "step-000000012").is_dir())
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130 and "interrupted" in err and "Traceback" not in err
    steps = [int(c.name.split("-")[1]) for c in train.list_checkpoints(run)]
    p = _cli_train(run, prepared, "--epochs", "2")
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert [int(r["epoch"]) for r in _history(run)] == [0, 1]
    for a, b in zip(_final_weights(run), _final_weights(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert steps[-1] >= 12  # the interrupt saved at least the epoch-1 state


def test_nan_loss_stops_and_keeps_last_good_checkpoint(prepared, tmp_path, monkeypatch):
    from keras import ops

    from colorpast.train_step import Colorizer

    cfg = TrainConfig(data=str(prepared), **{**TINY, "epochs": 4})
    honest = Colorizer.compute_loss

    def poisoned(self, *args, **kwargs):  # from step 7, in epoch 3, the loss is NaN
        loss = honest(self, *args, **kwargs)
        return ops.where(self.optimizer.iterations >= 7, float("nan"), loss)

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
        train.train(TrainConfig(data=str(prepared), **TINY), tmp_path / "full", verbose=False)
    assert not train.list_checkpoints(tmp_path / "full")


@pytest.mark.tensorflow
def test_mirrored_strategy_on_two_logical_cpus(prepared, tmp_path):
    script = f"""
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from colorpast import devices, train
from colorpast.config import TrainConfig
from colorpast import devices
s = devices.make_strategy("mirrored")
assert s.num_replicas_in_sync == 2, s.num_replicas_in_sync
cfg = TrainConfig(data={str(prepared)!r}, model="seed16", batch_size=4, steps_per_epoch=2, epochs=1,
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
def test_strategy_without_its_hardware_or_cluster_is_one_line(prepared, tmp_path, strategy, env, message):
    r = subprocess.run([sys.executable, "-m", "colorpast", "train", "--data", str(prepared), "--run", str(tmp_path / "r"),
                        "--strategy", strategy, "--epochs", "1", "--steps-per-epoch", "1"],
                       capture_output=True, text=True, timeout=120, env={**os.environ, **env})
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
    assert devices.resolve_xla("auto") is False
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
cfg = TrainConfig(data=sys.argv[5], model="seed16", batch_size=4, steps_per_epoch=2, epochs=epochs, val_batches=1,
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
    procs = [subprocess.Popen([sys.executable, "-c", MULTIWORKER, str(i), ports, str(runs[i]), str(epochs), str(prepared)],
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
