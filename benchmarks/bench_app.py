"""The app's Colorize on a 1-megapixel photo with hints, seed16_hints, on this machine.

Times, REPEATS times each after one warm-up (tracing and compilation for the size), and
reports medians:

- ``colorize``: ``colorpast.colorizer.colorize(photo, model, hints=...)``, array in, array out,
  with a painted stroke (a scribble the photo's size) and 5 points;
- ``page``: ``colorpast.app_photo.colorize_photo``, all that one press of Colorize runs on the
  server: decode the photo file, the editor's strokes to a scribble, colorize, write
  the full-resolution PNG, the before and after copies for display (the gray "before"
  is remembered from the upload, as on the page).

Untrained weights: the speed does not depend on them.

    .venv/bin/python benchmarks/bench_app.py [--repeats 7]
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from _common import machine


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()

    import numpy as np
    from PIL import Image

    from colorpast import app_photo, colorizer, hints as hint_tools
    from colorpast.data.sources import embedded_sample
    from colorpast.models import build

    # A real photo at 1152 x 864 = 1.0 MP (4:3), in black and white, as it would be dropped in.
    src = embedded_sample(["rocket"])[0].rgb
    gray = np.asarray(Image.fromarray(src).resize((1152, 864), Image.BICUBIC).convert("L"))
    h, w = gray.shape
    stroke = np.zeros((h, w, 4), np.uint8)  # the editor's layer: it paints on a copy at most 1,600 px wide
    stroke[100:140, 200:900] = (74, 127, 193, 255)  # a sky-blue stroke, 40 px thick
    points = [{"x": int(x), "y": int(y), "color": "#3d7a2e"} for x, y in zip(np.linspace(50, w - 50, 5), [800] * 5)]
    hints = app_photo.hints_for((h, w), stroke)
    hints.points.extend(hint_tools.points(points, (h, w)).points)
    model = build("seed16_hints", (None, None, 1))
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}; photo {w} x {h} = {h * w / 1e6:.2f} MP; "
          f"hints: a {700 * 40:,} px stroke and {len(points)} points")

    def timed(fn):
        t = time.perf_counter()
        fn()
        first = time.perf_counter() - t
        times = []
        for _ in range(a.repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return first, times

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo.jpg"
        Image.fromarray(gray).save(photo, quality=92)
        rows = [
            ("colorize", timed(lambda: colorizer.colorize(gray, model, hints=hints))),
            ("page", timed(lambda: app_photo.colorize_photo(photo, model, tmp, strokes=[stroke]))),
        ]
    for name, (first, times) in rows:
        print(f"{name:9s}: median {statistics.median(times):.2f} s  (runs {', '.join(f'{x:.2f}' for x in times)}); "
              f"first call, compiling included: {first:.2f} s")


if __name__ == "__main__":
    main()
