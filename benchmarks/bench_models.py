"""Size, compute and CPU speed of every registered model at 224x224.

For each model: parameters (all, including BatchNorm statistics and frozen layers),
forward GFLOPs per 224x224 image counted analytically from the layer shapes
(2 FLOPs per multiply-add of Conv2D, Conv2DTranspose, DepthwiseConv2D and Dense layers,
nested models included; activations, BatchNorm and resizing are left out), and CPU
inference images/s: the model's compiled predict on a batch, median of REPEATS runs
after one warm-up. Usage:

    .venv/bin/python benchmarks/bench_models.py [--batch 8] [--repeats 5] [--models seed16,colorful,koalarization]
"""

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from colorpast import models  # noqa: E402

SIZE = 224


def _macs(layer) -> int:
    if isinstance(layer, keras.Model):
        return sum(_macs(sub) for sub in layer.layers)
    if isinstance(layer, keras.layers.Conv2DTranspose):
        _, h, w, cin = layer.input.shape
        kh, kw = layer.kernel_size
        return h * w * kh * kw * cin * layer.filters
    if isinstance(layer, keras.layers.SeparableConv2D):  # depthwise k x k, then pointwise 1 x 1
        _, h, w, cout = layer.output.shape
        cin = layer.input.shape[-1]
        return h * w * cin * (layer.kernel_size[0] * layer.kernel_size[1] * layer.depth_multiplier
                              + layer.depth_multiplier * cout)
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        _, h, w, c = layer.output.shape
        return h * w * c * layer.kernel_size[0] * layer.kernel_size[1] * layer.depth_multiplier
    if isinstance(layer, keras.layers.Conv2D):
        _, h, w, cout = layer.output.shape
        kh, kw = layer.kernel_size
        return h * w * kh * kw * layer.input.shape[-1] * cout // layer.groups
    if isinstance(layer, keras.layers.Dense):
        return int(np.prod(layer.input.shape[1:])) * layer.units
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--models", default=",".join(models.names()))
    a = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, TF {tf.__version__}")
    print(f"batch {a.batch} of {SIZE}x{SIZE}, median of {a.repeats}")
    print("| model | parameters | GFLOPs / 224x224 image | CPU images/s |")
    print("|---|---|---|---|")
    L = np.random.default_rng(0).uniform(0, 100, (a.batch, SIZE, SIZE, 1)).astype(np.float32)
    for name in a.models.split(","):
        kwargs = {"weights": None} if name in ("colorful", "koalarization") else {}
        m = models.build(name, input_shape=(SIZE, SIZE, 1), **kwargs)
        gflops = 2 * sum(_macs(layer) for layer in m.layers) / 1e9
        m.predict_on_batch(L)  # trace and warm up
        times = []
        for _ in range(a.repeats):
            t = time.perf_counter()
            models.spec(name).to_ab(m.predict_on_batch(L))
            times.append(time.perf_counter() - t)
        print(f"| {name} | {m.count_params():,} | {gflops:.1f} | {a.batch / statistics.median(times):.2f} |")


if __name__ == "__main__":
    main()
