"""What converting EfficientNet-Lite0's ImageNet weights costs each time an effunet model is built.

    .venv/bin/python benchmarks/bench_build.py [--repeats 3]

Builds effunet with random weights and with the converted ImageNet weights, alternately,
and reads the package's .pth alone; prints the medians. colorpast converts at build time
(no cached converted file) because the difference is small: benchmarks/RESULTS.md.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from colorpast import models  # noqa: E402
from colorpast.models import efficientnet_lite as lite  # noqa: E402
from colorpast.pth import read_pth  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args(argv)
    models.build("effunet", (None, None, 1), weights=None)  # warm-up: Keras and the backend initialised
    res = {"build, random weights": [], "build, ImageNet weights converted": [], "read the .pth alone": []}
    for _ in range(a.repeats):
        for key, weights in (("build, random weights", None), ("build, ImageNet weights converted", "imagenet")):
            t = time.perf_counter()
            models.build("effunet", (None, None, 1), weights=weights)
            res[key].append(time.perf_counter() - t)
        t = time.perf_counter()
        read_pth(lite.pth_path())
        res["read the .pth alone"].append(time.perf_counter() - t)
    for key, times in res.items():
        print(f"{key}: median {statistics.median(times):.3f} s of {a.repeats}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
