"""`colorpast prepare` throughput: images/s from a folder of JPEGs to 224x224 shards.

Prepares FOLDER into a fresh temporary folder REPEATS times for each worker count
(alternating, so a noisy neighbour slows all settings alike) and reports the median
wall time and images/s (files decoded / seconds, rejected files included: each is
decoded too). TensorFlow is imported before timing, as the CLI does before `prepare`
runs; the time of starting the worker processes is included. Usage:

    .venv/bin/python benchmarks/bench_prepare.py ../shared/data/imagenet1k-256 [--workers 1 2] [--repeats 3]
"""

import argparse
import os
import platform
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from colorpast.data import prepare  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", help="a folder of photos, e.g. ../shared/data/imagenet1k-256")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--size", type=int, default=224)
    a = ap.parse_args()

    load_before = os.getloadavg()[0]
    times = {w: [] for w in a.workers}
    summary = None
    for _ in range(a.repeats):
        for w in a.workers:
            out = Path(tempfile.mkdtemp(prefix="bench-prepare-")) / "out"
            t = time.perf_counter()
            summary = prepare.prepare(a.folder, out, size=a.size, workers=w, progress=False, log=lambda *_: None)
            times[w].append(time.perf_counter() - t)
            shutil.rmtree(out.parent)
    n = summary["files"]
    kept = sum(summary["counts"].values())
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, TF {tf.__version__}; "
          f"1-min load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after (other jobs on the CPU)")
    print(f"{a.folder}: {n} files, {kept} kept, {summary['rejected']} rejected {summary['rejected_by_reason']}; "
          f"size {a.size}, median of {a.repeats}")
    for w in a.workers:
        m = statistics.median(times[w])
        print(f"workers {w}: {m:6.2f} s  {n / m:7.1f} images/s   (runs: {', '.join(f'{t:.2f}' for t in times[w])} s)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the parent: {peak:.0f} MB (TensorFlow included)")


if __name__ == "__main__":
    main()
