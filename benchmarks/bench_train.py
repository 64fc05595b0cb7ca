"""Training speed: is the input pipeline ever the bottleneck, and what do mixed precision
and XLA buy on this device?

seed16 training images/s fed by the real loader (colorpast.data.loader.Loader: uint8
crops read from the memory-mapped shards with the seed's augmentation transforms; the
augmentation and Lab run inside the train step, colorpast.train_step.Colorizer) against
the same step fed one batch repeated from memory (already a backend tensor), for each
configuration asked for:

    fp32        float32, no XLA (the CPU default)
    mixed       mixed precision (--precision: bfloat16, float16, or auto = what
                `colorpast train` would pick here), no XLA
    fp32+xla    float32, train step compiled with XLA
    mixed+xla   both
    fp32+critic float32 with train --adversarial 0.01's critic (colorpast.adversarial)

Every configuration has its own model, built under its dtype policy. Rounds alternate
over configurations and feeds (fp32 pipeline, fp32 memory, mixed pipeline, ...) so all
see the same machine load; each round times STEPS steps after a warm-up (tracing, XLA
compilation, oneDNN kernels, the shuffle buffer); medians are reported, with ratios to
fp32 from memory measured in the same run.

    .venv/bin/python benchmarks/bench_train.py --data data/prepared/imagenet1k [--batch 8 --steps 10 --rounds 3]
    .venv/bin/python benchmarks/bench_train.py --data ... --configs all --batch 64 --json out.json   # on a GPU
    .venv/bin/python benchmarks/bench_train.py --data ... --model effunet --configs fp32,fp32+critic --batch 16

Without --data a synthetic prepared set of 512 images at 224 is written to /tmp.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

from _common import machine, synthetic_prepared

# name: (mixed precision, XLA, weight of the adversarial term)
CONFIGS = {"fp32": (False, False, 0.0), "mixed": (True, False, 0.0), "fp32+xla": (False, True, 0.0),
           "mixed+xla": (True, True, 0.0), "fp32+critic": (False, False, 0.01)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--configs", default="fp32",
                    help="comma-separated from fp32, mixed, fp32+xla, mixed+xla, fp32+critic; or all")
    ap.add_argument("--model", default="seed16", help="the registered model to train (default seed16)")
    ap.add_argument("--precision", default="auto", choices=["auto", "bfloat16", "float16"],
                    help="the reduced precision of the mixed configurations")
    ap.add_argument("--xla", action="store_true", help="shorthand for --configs fp32+xla")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    names = [n for n in CONFIGS if n != "fp32+critic"] if a.configs == "all" else a.configs.split(",")
    if a.xla:
        names = ["fp32+xla"]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        ap.error(f"unknown configuration(s) {unknown}; choose from {', '.join(CONFIGS)} or all")

    import keras

    from colorpast.data import shards
    from colorpast.data.loader import Loader
    from colorpast.devices import resolve_precision
    from colorpast.models import build
    from colorpast.train_step import Colorizer

    mixed_policy = resolve_precision(a.precision)
    if mixed_policy == "float32":  # auto on a CPU: say what was measured instead
        mixed_policy = "mixed_bfloat16"
    data = Path(a.data) if a.data else synthetic_prepared(Path("/tmp/colorpast-bench-512"), 512)
    size = shards.read_summary(data)["size"]

    models = {}
    for name in names:
        mixed, xla, adversarial = CONFIGS[name]
        keras.mixed_precision.set_global_policy(mixed_policy if mixed else "float32")
        keras.utils.set_random_seed(0)
        model = Colorizer(build(a.model, (None, None, 1)), adversarial=adversarial)
        model.compile(keras.optimizers.Adam(3e-4), jit_compile=xla)
        models[name] = model
    keras.mixed_precision.set_global_policy("float32")

    pipe_it = Loader(shards.open_split(data, "train"), a.batch, seed=0).stream(threads=2)
    resident = {k: keras.ops.convert_to_tensor(v) for k, v in next(pipe_it).items()}
    mem_it = iter(lambda: resident, None)
    for model in models.values():
        for _ in range(2):  # warm-up
            model.train_on_batch(next(pipe_it))
            model.train_on_batch(next(mem_it))

    def timed(model, it):
        t = time.perf_counter()
        for _ in range(a.steps):
            loss = model.train_on_batch(next(it))
        float(loss)  # the last step has finished on the device
        return a.steps * a.batch / (time.perf_counter() - t)

    rounds = {(n, feed): [] for n in names for feed in ("pipeline", "memory")}
    for _ in range(a.rounds):
        for n, model in models.items():
            rounds[(n, "pipeline")].append(timed(model, pipe_it))
            rounds[(n, "memory")].append(timed(model, mem_it))
    med = {k: statistics.median(v) for k, v in rounds.items()}

    base = med[(names[0], "memory")]
    print(f"machine: {machine()}; {a.model}; data: {data} ({size}x{size}); batch {a.batch}, {a.steps} steps x {a.rounds} rounds; "
          f"mixed = {mixed_policy}")
    print(f"{'configuration':<12} {'pipeline img/s':>15} {'memory img/s':>13} {'pipeline/memory':>16} "
          f"{'memory vs ' + names[0]:>18}   rounds (pipeline | memory)")
    rows = []
    for n in names:
        p, m = med[(n, "pipeline")], med[(n, "memory")]
        print(f"{n:<12} {p:15.2f} {m:13.2f} {p / m:16.3f} {m / base:18.2f}   "
              f"{', '.join(f'{x:.1f}' for x in rounds[(n, 'pipeline')])} | {', '.join(f'{x:.1f}' for x in rounds[(n, 'memory')])}")
        rows.append({"config": n, "pipeline": p, "memory": m, "pipeline_over_memory": p / m, "memory_over_first": m / base,
                     "rounds_pipeline": rounds[(n, "pipeline")], "rounds_memory": rounds[(n, "memory")]})
    if len(names) == 1:
        print(f"ratio pipeline / memory: {med[(names[0], 'pipeline')] / base:.3f}  (goal >= 0.9)")
    if a.json:
        Path(a.json).write_text(json.dumps({"machine": machine(), "size": size, "batch": a.batch, "steps": a.steps,
                                            "rounds": a.rounds, "mixed_policy": mixed_policy, "results": rows}, indent=1))


if __name__ == "__main__":
    main()
