"""The loader: crops a second on the host, host work against the old tf.data pipeline, memory.

crops: random 224 crops a second from ``colorpast.data.loader.Loader`` (seed augmentation
    transforms drawn, uint8 crops copied out of the shards, read image by image), batch 64, read
    in the calling thread and with 2 threads reading ahead; side by side with the previous
    loader's draws (a NumPy generator per element). Goal: 20,000 a second on 2 cores.

compare: what the host must do per training image, same images, same augmentations,
    batch 32 at 224. The old path (a tf.data pipeline, as colorpast did before the
    backends release) augments and converts to Lab on the host CPU, XLA-compiled, with
    2 parallel calls; the new path hands uint8 crops and transforms to the device, which
    does the rest inside the train step. Rounds alternate; medians and the ratio.

feeds: the same loader elements through three ways of running them ahead of training,
    batch 64 at 224, 2 threads each: colorpast's own generator (``Loader.stream(threads=2)``),
    ``keras.utils.PyDataset`` (workers=2, threads) and grain (``MapDataset ... to_iter_dataset``
    with 2 read threads; ``pip install grain``, not a project dependency). Rounds alternate.

memory: peak resident memory of a process that reads 2 passes (augmented, shuffled,
    batch 32) of a 1,000-image and of a 20,000-image prepared set (synthetic 224x224
    photos in the real shard format, written to --tmp), each in a fresh process.

    .venv/bin/python benchmarks/bench_loader.py crops --data data/prepared/imagenet1k
    .venv/bin/python benchmarks/bench_loader.py compare --data data/prepared/imagenet1k
    .venv/bin/python benchmarks/bench_loader.py feeds --data data/prepared/imagenet1k
    .venv/bin/python benchmarks/bench_loader.py memory [--tmp /tmp/colorpast-bench]
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import machine, synthetic_prepared


def _rate(it, n_batches, batch):
    next(it)  # warm-up (first reads, thread start, compilation)
    t = time.perf_counter()
    for _ in range(n_batches):
        next(it)
    return n_batches * batch / (time.perf_counter() - t)


def crops(a):
    import numpy as np

    from colorpast.data import shards
    from colorpast.data.loader import Loader, seed_transform

    class PerElementGenerator(Loader):
        """The previous loader's draws, for the side-by-side row: a NumPy generator seeded
        with (seed, element) per element, and the transform drawn from it one at a time."""

        def _draw(self, elements):
            index, corners, ts = [], [], []
            for e in elements:
                p, r = divmod(int(e), self.n)
                index.append(self._order(p)[r])
                rng = np.random.default_rng([self.seed, int(e)])
                corners.append(rng.uniform(size=2))
                ts.append(seed_transform(rng, self.crop, self.crop))
            return np.array(index), np.array(corners), np.stack(ts)

    split = shards.open_split(a.data, "train")
    loaders = {"committed (a batch's draws at once)": Loader(split, 64, a.crop, seed=0),
               "previous (a generator per element)": PerElementGenerator(split, 64, a.crop, seed=0)}
    rows = {}
    for r in range(a.rounds):
        for name, loader in loaders.items():
            rows.setdefault(f"{name}, 1 thread", []).append(_rate(loader.stream(r * 1000), a.batches, 64))
            rows.setdefault(f"{name}, 2 threads reading ahead", []).append(
                _rate(loader.stream(r * 1000 + 500, threads=2), a.batches, 64))
    print(f"machine: {machine()}; {len(split)} images; {a.crop} px crops, batch 64, {a.batches} batches x {a.rounds} rounds")
    for k, v in rows.items():
        print(f"{k:<58} {statistics.median(v):10.0f} crops/s   rounds: {', '.join(f'{x:.0f}' for x in v)}")
    names = list(rows)
    print(f"committed / previous, 1 thread: {statistics.median(rows[names[0]]) / statistics.median(rows[names[2]]):.2f}x")


def compare(a):
    import tensorflow as tf

    from colorpast import color
    from colorpast.data import shards
    from colorpast.data.loader import Loader
    from colorpast.train_step import affine_transform

    split = shards.open_split(a.data, "train")
    loader = Loader(split, 32, 224, seed=0)

    @tf.function(jit_compile=True)
    def host_step(rgb, transform):  # what the old pipeline did on the CPU
        lab = color.rgb_to_lab(affine_transform(tf.cast(rgb, tf.float32) / 255.0, transform))
        return lab[..., :1], lab[..., 1:]

    old = loader.tf_dataset().map(lambda b: host_step(b["rgb"], b["transform"]), num_parallel_calls=2, deterministic=True)
    makers = {"old: tf.data, augment + Lab on the host": lambda: iter(old.prefetch(2)),
              "new: loader, augment + Lab on the device": lambda: loader.stream()}
    rates = {k: [] for k in makers}
    for _ in range(a.rounds):
        for k, make in makers.items():
            it = make()  # a fresh iterator a round, dropped after it: no prefetching into the other's time
            rates[k].append(_rate(it, a.batches, 32))
            del it
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"machine: {machine()}; batch 32 at 224, {a.batches} batches x {a.rounds} rounds, host images/s")
    for k, v in rates.items():
        print(f"{k:<42} {med[k]:10.0f}   rounds: {', '.join(f'{x:.0f}' for x in v)}")
    o, n = med.values()
    print(f"new / old: {n / o:.1f}x")


def feeds(a):
    import keras

    from colorpast.data import shards
    from colorpast.data.loader import Loader

    loader = Loader(shards.open_split(a.data, "train"), 64, 224, seed=0)

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=2, use_multiprocessing=False, max_queue_size=4)

        def __len__(self):
            return 10**6

        def __getitem__(self, k):
            return loader.batch(k)

    def pydataset():
        ds = Batches()
        ds.on_epoch_begin()
        return iter(ds)

    makers = {"colorpast Loader.stream(threads=2)": lambda: loader.stream(threads=2),
              "keras.utils.PyDataset(workers=2)": pydataset}
    try:
        import grain

        def grain_iter():
            ds = grain.MapDataset.range(0, 10**9).map(loader.element).batch(64)
            return iter(ds.to_iter_dataset(grain.ReadOptions(num_threads=2, prefetch_buffer_size=128)))

        makers["grain MapDataset, 2 read threads"] = grain_iter
    except ImportError:
        print("grain is not installed (pip install grain): its row is left out")
    rates = {k: [] for k in makers}
    for _ in range(a.rounds):
        for k, make in makers.items():
            rates[k].append(_rate(make(), a.batches, 64))
    print(f"machine: {machine()}; batch 64 at 224, {a.batches} batches x {a.rounds} rounds, crops/s")
    for k, v in rates.items():
        print(f"{k:<36} {statistics.median(v):10.0f}   rounds: {', '.join(f'{x:.0f}' for x in v)}")


def memory(a):
    tmp = Path(a.tmp)
    script = """
import itertools, resource, sys
from colorpast.data import shards
from colorpast.data.loader import Loader
split = shards.open_split(sys.argv[1], "train")
loader = Loader(split, 32, 224, seed=0)
for b in itertools.islice(loader.stream(threads=2), 2 * len(split) // 32):
    pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""
    peaks = {}
    for n in (1000, 20000):
        data = synthetic_prepared(tmp / f"synthetic-{n}", n)
        out = subprocess.run([sys.executable, "-c", script, str(data)], capture_output=True, text=True,
                             check=True)
        peaks[n] = int(out.stdout.split()[-1])
        print(f"{n:>6} images: peak RSS {peaks[n]} MiB")
    print(f"ratio 20k / 1k: {peaks[20000] / peaks[1000]:.2f}  (O(batch) means about 1)")
    if a.json:
        Path(a.json).write_text(json.dumps(peaks))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["crops", "compare", "feeds", "memory"])
    ap.add_argument("--data", help="a prepared set (default: a synthetic one of 1,024 images)")
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--crop", type=int, default=224, help="crops: the crop size (default 224)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tmp", default="/tmp/colorpast-bench")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.what != "memory" and not a.data:
        a.data = synthetic_prepared(Path(a.tmp) / "synthetic-1024", 1024)
    {"crops": crops, "compare": compare, "feeds": feeds, "memory": memory}[a.what](a)


if __name__ == "__main__":
    main()
