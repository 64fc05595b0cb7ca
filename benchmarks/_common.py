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
