"""Helpers shared by the benchmark scripts."""

import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # prepared_fixture: synthetic prepared sets


def machine() -> str:
    import keras

    from colorpast import devices

    gpus = devices._gpus()
    dev = f"{len(gpus)} GPU" if gpus else "CPU only"
    return f"{platform.machine()}, {os.cpu_count()} cores, {dev}, Keras {keras.__version__} on {devices.backend()}"


def peak_rss(cmd, cwd=None, env=None) -> tuple[float, float, str]:
    """(peak RSS in GB, wall seconds, stdout) of ``cmd`` run under /usr/bin/time -v (in
    ``cwd``, with ``env``); a failed command stops the benchmark with its error's tail."""
    import re
    import subprocess
    import time

    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", *map(str, cmd)], capture_output=True, text=True, cwd=cwd, env=env)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{r.stderr[-3000:]}")
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    return kb / 1e6, wall, r.stdout


def synthetic_prepared(path: Path, n_train: int, size: int = 224, per_shard: int = 256, distinct: int = 64):
    """A prepared set of ``n_train`` images (``distinct`` synthetic photos repeated),
    written in the real shard format; reused if it already exists."""
    import numpy as np
    from prepared_fixture import make_prepared, synthetic_photo

    if (path / "prepared.json").exists():
        return path
    rng = np.random.default_rng(0)
    pool = [synthetic_photo(rng, size) for _ in range(distinct)]
    make_prepared(path, images={"train": [pool[i % distinct] for i in range(n_train)]}, size=size, per_shard=per_shard)
    return path
