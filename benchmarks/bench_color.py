"""RGB -> Lab throughput: colorpast.color (TensorFlow, batched) against scikit-image.

Both convert the same batch of real photos (the embedded sample, centre-cropped to
SIZE x SIZE, repeated to BATCH images), alternating, REPEATS times; reports the median
time of each and the ratio. Usage:

    .venv/bin/python benchmarks/bench_color.py [--batch 64] [--size 224] [--repeats 7]
"""

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import skimage.color  # noqa: E402
import tensorflow as tf  # noqa: E402

from colorpast import color  # noqa: E402
from colorpast.data.loader import resize_short_side  # noqa: E402
from colorpast.data.sources import embedded_sample  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()

    crops = []
    for p in embedded_sample():
        im = resize_short_side(p.rgb, a.size)
        crops.append(im[: a.size, : a.size])
    batch = np.stack([crops[i % len(crops)] for i in range(a.batch)]).astype(np.float32) / 255.0
    tf_batch = tf.constant(batch)
    to_lab = tf.function(color.rgb_to_lab)
    to_lab(tf_batch).numpy()  # trace once

    t_tf, t_sk = [], []
    for _ in range(a.repeats):
        t = time.perf_counter()
        to_lab(tf_batch).numpy()
        t_tf.append(time.perf_counter() - t)
        t = time.perf_counter()
        for im in batch:
            skimage.color.rgb2lab(im)
        t_sk.append(time.perf_counter() - t)
    m_tf, m_sk = statistics.median(t_tf), statistics.median(t_sk)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, TF {tf.__version__}")
    print(f"{a.batch} images of {a.size}x{a.size}, median of {a.repeats}")
    print(f"colorpast.color.rgb_to_lab (tf.function, one batch): {m_tf * 1e3:8.1f} ms  {a.batch / m_tf:8.1f} images/s")
    print(f"skimage.color.rgb2lab (per image, float32 in)      : {m_sk * 1e3:8.1f} ms  {a.batch / m_sk:8.1f} images/s")
    print(f"ratio (skimage time / colorpast time): {m_sk / m_tf:.2f}x")


if __name__ == "__main__":
    main()
