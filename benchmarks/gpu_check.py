"""The GPU check: colorpast end to end on a machine with JAX (or PyTorch) and no TensorFlow.

One command (``bash benchmarks/gpu_check.sh PHOTOS``) that, in one call:

1. prepares a set from a folder of photos (``colorpast prepare``);
2. trains seed16 with checkpoints in a subprocess, kills it (SIGKILL) half-way through
   writing a mid-epoch checkpoint, resumes it, and checks the history is unbroken;
3. times, side by side and alternating, training fed by the real loader (uint8 crops
   read on the host, augmentation and Lab inside the compiled step) against the same
   step fed one device-resident batch, for each precision; both through ``fit`` with
   long epochs, so the ratio is the cost of the loader and the host-to-device copy;
4. prints a table last and writes ``gpu_check.json``.

Every phase prints a line when it starts, so a time-out shows where it stood. Run it
first on a CPU with tiny settings (the test suite does, with TensorFlow blocked: tests/test_benchmarks.py).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

T0 = time.time()


def phase(msg: str) -> None:
    print(f"[{time.time() - T0:7.1f} s] {msg}", flush=True)


def env_summary() -> dict:
    import keras

    from colorpast import devices

    info = {"backend": keras.backend.backend(), "keras": keras.__version__, "python": sys.version.split()[0]}
    if info["backend"] == "jax":
        import jax

        info["devices"] = [str(d) for d in jax.devices()]
        info["jax"] = jax.__version__
    elif info["backend"] == "torch":
        import torch

        info["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] or ["cpu"]
        info["torch"] = torch.__version__
    info["gpus"] = len(devices._gpus())
    info["tensorflow_importable"] = devices.has_tensorflow()
    return info


def kill_and_resume(prepared: Path, run: Path, a) -> dict:
    """Train in a subprocess, SIGKILL it inside a mid-epoch checkpoint, resume, check."""
    cmd = [sys.executable, "-m", "colorpast", "train", "--data", str(prepared), "--run", str(run), "--model", "seed16",
           "--epochs", "2", "--steps-per-epoch", str(a.train_steps), "--batch-size", str(a.batch), "--size", str(a.size),
           "--save-every", str(a.save_every), "--val-batches", "2", "--lr", "3e-4"]
    kill_at = 2 * a.save_every  # the second step checkpoint: mid-epoch 1 when save_every < steps / 2
    t = time.time()
    first = subprocess.run(cmd, env={**os.environ, "COLORPAST_FAULT": f"kill-in-checkpoint:{kill_at}"},
                           capture_output=True, text=True)
    killed_s = time.time() - t
    if first.returncode != -signal.SIGKILL:
        raise SystemExit(f"the first run should have been killed at step {kill_at}; rc {first.returncode}: {first.stderr[-2000:]}")
    t = time.time()
    second = subprocess.run(cmd, capture_output=True, text=True)
    resumed_s = time.time() - t
    if second.returncode != 0:
        raise SystemExit(f"resume failed (rc {second.returncode}): {second.stderr[-2000:]}")
    import csv

    steps = [int(r["step"]) for r in csv.DictReader(open(run / "history.csv"))]
    resumed_line = next((ln for ln in (second.stdout + second.stderr).splitlines() if "resuming" in ln), "")
    ok = steps == [a.train_steps, 2 * a.train_steps] and f"step {a.save_every}" in resumed_line
    phase(f"killed at step {kill_at} after {killed_s:.0f} s; {resumed_line.strip()!r}; history steps {steps}; "
          f"{'OK' if ok else 'WRONG'}")
    if not ok:
        raise SystemExit("kill and resume did not end with an unbroken history")
    return {"killed_at_step": kill_at, "resume_line": resumed_line.strip(), "history_steps": steps,
            "first_run_s": killed_s, "resumed_run_s": resumed_s}


def time_feeds(prepared: Path, a) -> list[dict]:
    """img/s of fit fed by the real loader vs by one device-resident batch, per precision."""
    import keras
    import numpy as np

    from colorpast.data import shards
    from colorpast.data.loader import Loader
    from colorpast.models import build
    from colorpast.train_step import Colorizer

    loader = Loader(shards.open_split(prepared, "train"), a.batch, a.size, seed=0)
    rows = []
    for precision in a.precisions.split(","):
        keras.backend.clear_session()
        keras.mixed_precision.set_global_policy(precision)
        keras.utils.set_random_seed(0)
        model = Colorizer(build("seed16", (None, None, 1)))
        model.compile(optimizer=keras.optimizers.Adam(3e-4))
        resident = {k: keras.ops.convert_to_tensor(v) for k, v in loader.batch(0).items()}

        def real():
            return ((b,) for b in loader.stream(0, threads=a.threads))

        def same():
            while True:
                yield (resident,)

        phase(f"{precision}: compiling and warming up")
        model.fit(same(), steps_per_epoch=a.warmup, epochs=1, verbose=0, shuffle=False)
        model.fit(real(), steps_per_epoch=a.warmup, epochs=1, verbose=0, shuffle=False)
        rates = {"loader": [], "resident": []}
        for r in range(a.rounds):
            for name, feed in (("loader", real), ("resident", same)):
                t = time.perf_counter()
                model.fit(feed(), steps_per_epoch=a.steps, epochs=1, verbose=0, shuffle=False)
                rates[name].append(a.steps * a.batch / (time.perf_counter() - t))
            phase(f"{precision}: round {r + 1}: loader {rates['loader'][-1]:.0f} img/s, resident {rates['resident'][-1]:.0f} img/s")
        med = {k: statistics.median(v) for k, v in rates.items()}
        rows.append({"precision": precision, "loader_img_s": med["loader"], "resident_img_s": med["resident"],
                     "ratio": med["loader"] / med["resident"], "rounds": rates})
    keras.mixed_precision.set_global_policy("float32")
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photos", required=True, help="a folder of colour photos to prepare")
    p.add_argument("--work", default="/tmp/colorpast-gpu-check", help="scratch folder (prepared set, run)")
    p.add_argument("--out", default=os.environ.get("OUT", "."), help="where gpu_check.json goes")
    p.add_argument("--size", type=int, default=224, help="training crop")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=60, help="steps per timed fit call (long: fit's per-call overhead)")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=4, help="loader threads reading ahead")
    p.add_argument("--train-steps", type=int, default=20, help="steps per epoch of the kill-and-resume run")
    p.add_argument("--save-every", type=int, default=5)
    p.add_argument("--precisions", default="float32,mixed_bfloat16")
    a = p.parse_args(argv)

    work, out = Path(a.work), Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    phase("environment")
    result = {"env": env_summary(), "settings": vars(a)}
    print(json.dumps(result["env"]), flush=True)

    from colorpast.data.prepare import prepare

    phase(f"prepare {a.photos}")
    t = time.time()
    summary = prepare(a.photos, work / "prepared", size=a.size, progress=False,
                      log=lambda m: phase(m))
    result["prepare"] = {"counts": summary["counts"], "seconds": time.time() - t}

    phase("train seed16, SIGKILL inside a mid-epoch checkpoint, resume")
    import shutil

    shutil.rmtree(work / "run", ignore_errors=True)
    result["kill_resume"] = kill_and_resume(work / "prepared", work / "run", a)

    phase("time the real loader against a device-resident batch")
    result["timing"] = time_feeds(work / "prepared", a)

    (out / "gpu_check.json").write_text(json.dumps(result, indent=1))
    print()
    print(f"backend {result['env']['backend']}, devices {result['env'].get('devices')}, batch {a.batch}, "
          f"crop {a.size}, {a.steps} steps a fit call, median of {a.rounds}")
    print(f"{'precision':<16} {'loader img/s':>13} {'resident img/s':>15} {'loader/resident':>16}")
    for r in result["timing"]:
        print(f"{r['precision']:<16} {r['loader_img_s']:>13.0f} {r['resident_img_s']:>15.0f} {r['ratio']:>16.3f}")
    print(f"kill and resume: {result['kill_resume']['resume_line']}; history steps {result['kill_resume']['history_steps']}")
    phase(f"done; {out / 'gpu_check.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
