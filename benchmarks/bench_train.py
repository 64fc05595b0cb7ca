"""Is the input pipeline ever the bottleneck? seed16 training images/s at 224x224 fed by
the real pipeline (colorpast.data.pipeline.dataset: shards, augmentation, Lab in-graph)
against the same model fed one batch repeated from memory.

Rounds alternate (pipeline, memory, pipeline, memory, ...) so both see the same machine
load; each round times STEPS training steps after a warm-up; medians are reported.

    .venv/bin/python benchmarks/bench_train.py --data data/prepared/imagenet1k [--batch 8 --steps 10 --rounds 3]

Without --data a synthetic prepared set of 512 images is written to /tmp.
"""

import argparse
import statistics
import time
from pathlib import Path

from _common import machine, synthetic_prepared


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--xla", action="store_true", help="compile the train step with XLA")
    a = ap.parse_args()

    import keras
    import tensorflow as tf

    from colorpast.data.pipeline import dataset, read_summary
    from colorpast.models import build

    data = Path(a.data) if a.data else synthetic_prepared(Path("/tmp/colorpast-bench-512"), 512)
    size = read_summary(data)["size"]
    keras.utils.set_random_seed(0)
    model = build("seed16", (None, None, 1))
    model.compile(keras.optimizers.Adam(3e-4), "mse", jit_compile=a.xla)

    pipe_it = iter(dataset(data, "train", a.batch, "seed16"))
    batch = next(pipe_it)
    mem_it = iter(tf.data.Dataset.from_tensors(batch).repeat())
    for _ in range(2):  # warm-up: tracing, oneDNN kernels, shuffle buffer
        model.train_on_batch(*next(pipe_it))
        model.train_on_batch(*next(mem_it))

    def timed(it):
        t = time.perf_counter()
        for _ in range(a.steps):
            model.train_on_batch(*next(it))
        return a.steps * a.batch / (time.perf_counter() - t)

    pipe, mem = [], []
    for _ in range(a.rounds):
        pipe.append(timed(pipe_it))
        mem.append(timed(mem_it))
    mp, mm = statistics.median(pipe), statistics.median(mem)
    print(f"machine: {machine()}; data: {data} ({size}x{size}); batch {a.batch}, {a.steps} steps x {a.rounds} rounds; xla={a.xla}")
    print(f"real pipeline     : {mp:7.2f} images/s   rounds {', '.join(f'{x:.2f}' for x in pipe)}")
    print(f"batch from memory : {mm:7.2f} images/s   rounds {', '.join(f'{x:.2f}' for x in mem)}")
    print(f"ratio pipeline / memory: {mp / mm:.3f}  (goal >= 0.9)")


if __name__ == "__main__":
    main()
