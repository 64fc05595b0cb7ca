"""Full-resolution colorize of a 12-megapixel photo (4000 x 3000) on this machine.

Times ``colorpast.colorize(array, model)`` (array in, array out: Lab of the full photo,
the model at its 224 px working size, ab upsampled, back to RGB) for seed16 and
colorful (or --models), REPEATS times each after one warm-up, and reports medians. File decoding
and PNG encoding are timed separately: they depend on the format, not on colorpast.

    .venv/bin/python benchmarks/bench_colorize.py [--repeats 5] [--models seed16_fast effunet]
"""

import argparse
import io
import statistics
import time

from _common import machine


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--models", nargs="+", default=["seed16", "colorful"], help="registered models, untrained")
    a = ap.parse_args()

    import numpy as np
    from PIL import Image

    import colorpast
    from colorpast.data.sources import embedded_sample
    from colorpast.models import build

    # A real photo scaled up to 12 MP (4000 x 3000), so the content is natural.
    src = embedded_sample(["rocket"])[0].rgb
    photo = np.asarray(Image.fromarray(src).resize((4000, 3000), Image.BICUBIC))
    print(f"machine: {machine()}; photo {photo.shape[1]}x{photo.shape[0]} = {photo.shape[0] * photo.shape[1] / 1e6:.1f} MP")
    for name in a.models:
        model = build(name, (None, None, 1))
        t = time.perf_counter()
        colorpast.colorize(photo, model)  # first call: tracing, XLA compilation for this size
        first = time.perf_counter() - t
        times = []
        for _ in range(a.repeats):
            t = time.perf_counter()
            out = colorpast.colorize(photo, model)
            times.append(time.perf_counter() - t)
        assert out.shape == photo.shape
        print(f"colorize with {name:9s}: median {statistics.median(times):.2f} s  (runs {', '.join(f'{x:.2f}' for x in times)}); "
              f"first call, compiling included: {first:.2f} s")
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "JPEG", quality=92)
    t = time.perf_counter()
    Image.open(io.BytesIO(buf.getvalue())).convert("RGB").load()
    t_dec = time.perf_counter() - t
    t = time.perf_counter()
    Image.fromarray(photo).save(io.BytesIO(), "PNG")
    t_png = time.perf_counter() - t
    print(f"for scale: JPEG decode {t_dec:.2f} s, PNG encode {t_png:.2f} s of the same photo")


if __name__ == "__main__":
    main()
