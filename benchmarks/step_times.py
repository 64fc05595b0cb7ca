"""Wall time of every training step of `colorpast train`, run exactly as the command line
runs it (the headline's options unless others are given), for comparing commits.

    PYTHONPATH=TREE .venv/bin/python benchmarks/step_times.py OUT.json RUN_DIR [colorpast train options]

With no train options: colorful on data/prepared/imagenet1k with the headline budget's
options (default preset, 128 px, batch 16, prior weights/prior_imagenet1k.npy), 1 epoch
of 6 steps, --restart. Writes {"tree", "rc", "step_s": [...]} to OUT.json; the first step
includes tracing. benchmarks/compare_commits.sh alternates two trees with it.
"""

import json
import sys
import time
from pathlib import Path

import colorpast.train as T

out, run, *extra = sys.argv[1:]
root = Path.cwd()
extra = extra or [
    "--data", str(root / "data/prepared/imagenet1k"), "--model", "colorful", "--prior", str(root / "weights/prior_imagenet1k.npy"),
    "--preset", "default", "--size", "128", "--batch-size", "16", "--epochs", "1", "--steps-per-epoch", "6", "--restart",
]
times = []
callbacks_module = T._callbacks_module


def timed_callbacks():
    checkpointer, progress = callbacks_module()

    class Timed(progress):
        def on_train_batch_begin(self, batch, logs=None):
            self.t_batch = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter() - self.t_batch)
            super().on_train_batch_end(batch, logs)

    return checkpointer, Timed


T._callbacks_module = timed_callbacks
from colorpast.cli import main  # noqa: E402

rc = main(["train", "--run", run, *extra])
Path(out).write_text(json.dumps({"tree": T.__file__, "rc": rc, "step_s": times}))
print(T.__file__, "step times (s):", [round(t, 2) for t in times])
