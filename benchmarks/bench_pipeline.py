"""The data pipeline: speed against a seed-style loader, and memory against dataset size.

throughput: (L, ab) batches/s at 224x224 from ``colorpast.data.pipeline.dataset`` on a
    prepared set, against the seed paper's way (per image in a Python loop: PIL open,
    resize to 224x224, skimage rgb2lab, stack) on the same source files. Both without
    augmentation; ours also with it. Rounds alternate; medians reported.

    .venv/bin/python benchmarks/bench_pipeline.py throughput --data data/prepared/imagenet1k --source ../shared/data/imagenet1k-256

memory: peak resident memory of a process that iterates one epoch (augmented,
    shuffled, batch 32) of a 1,000-image and of a 20,000-image prepared set (synthetic
    224x224 photos in the real shard format, written to --tmp), each in a fresh process.

    .venv/bin/python benchmarks/bench_pipeline.py memory [--tmp /tmp/colorpast-bench]
"""

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import machine, synthetic_prepared

BATCH = 32


def seed_style_batches(files, batch):
    """The seed's loader: one image at a time in Python."""
    import numpy as np
    import skimage.color
    from PIL import Image

    i = 0
    while True:
        Ls, abs_ = [], []
        for _ in range(batch):
            with Image.open(files[i % len(files)]) as im:
                rgb = np.asarray(im.convert("RGB").resize((224, 224)), np.float64) / 255.0
            lab = skimage.color.rgb2lab(rgb)
            Ls.append(lab[..., :1])
            abs_.append(lab[..., 1:] / 128.0)
            i += 1
        yield np.stack(Ls).astype(np.float32), np.stack(abs_).astype(np.float32)


def throughput(a):
    from colorpast.data.pipeline import dataset

    data, source = Path(a.data), Path(a.source)
    with open(data / "manifest.csv", newline="") as f:
        files = [source / r["file"] for r in csv.DictReader(f) if r["status"] == "kept" and r["split"] == "train"]
    makers = {
        "seed-style loader (PIL + skimage, per image)": lambda: seed_style_batches(files, BATCH),
        "colorpast dataset(), no augmentation": lambda: iter(dataset(data, "train", BATCH, augment=False)),
        "colorpast dataset(), seed augmentations": lambda: iter(dataset(data, "train", BATCH, augment=True)),
    }
    # Each round makes a fresh iterator, takes one batch (start-up, tracing), then times
    # the next ones; the iterator is dropped before the next loader runs, so no
    # prefetching happens in the background of another loader's timing.
    res = {k: [] for k in makers}
    for _ in range(a.rounds):
        for k, make in makers.items():
            it = make()
            next(it)
            t = time.perf_counter()
            for _ in range(a.batches):
                next(it)
            res[k].append(a.batches / (time.perf_counter() - t))
            del it
    print(f"machine: {machine()}; {len(files)} train images of {data}; batch {BATCH}, {a.batches} batches x {a.rounds} rounds")
    base = statistics.median(res[next(iter(res))])
    for k, v in res.items():
        m = statistics.median(v)
        print(f"{k:46s}: {m:7.2f} batches/s ({m * BATCH:7.1f} images/s)  x{m / base:5.1f}   rounds {', '.join(f'{x:.2f}' for x in v)}")


CHILD = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
import _common  # noqa: F401  (quiet TensorFlow)
from colorpast.data.pipeline import dataset
import tensorflow as tf
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
n = 0
t = time.perf_counter()
for L, t_ in dataset({data!r}, "train", {batch}, repeat=False, augment=True):
    n += int(L.shape[0])
print(json.dumps({{"images": n, "seconds": time.perf_counter() - t,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "before_kib": before}}))
"""


def memory(a):
    tmp = Path(a.tmp)
    rows = {}
    for n in a.sizes:
        t = time.perf_counter()
        d = synthetic_prepared(tmp / f"synthetic-{n}", n)
        made = time.perf_counter() - t
        code = CHILD.format(bench=str(Path(__file__).parent), data=str(d), batch=BATCH)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        rows[n] = json.loads(r.stdout.strip().splitlines()[-1])
        print(f"{n:6d} images ({made:.0f} s to write): one epoch {rows[n]['seconds']:.1f} s, "
              f"{rows[n]['images']} images, peak RSS {rows[n]['peak_kib'] / 1024:.0f} MiB "
              f"(after imports {rows[n]['before_kib'] / 1024:.0f} MiB)", flush=True)
    lo, hi = min(a.sizes), max(a.sizes)
    print(f"machine: {machine()}")
    print(f"peak RSS ratio {hi} / {lo} images: {rows[hi]['peak_kib'] / rows[lo]['peak_kib']:.3f} (goal <= 1.2)")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--data", required=True)
    t.add_argument("--source", required=True)
    t.add_argument("--batches", type=int, default=8)
    t.add_argument("--rounds", type=int, default=3)
    m = sub.add_parser("memory")
    m.add_argument("--tmp", default="/tmp/colorpast-bench")
    m.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000])
    a = ap.parse_args()
    throughput(a) if a.what == "throughput" else memory(a)


if __name__ == "__main__":
    main()
