"""Peak memory of colour hints on big scans: 06's hints cell and one press of Colorize in the app.

Writes a 3:2 JPEG scan of --megapixels (a real photo scaled up, as bench_colorize_memory.py
does) and an untrained `.keras` model that takes hints (seed16_hints, or --model's) into
WORK, then runs, in a fresh process under `/usr/bin/time -v`, one of:

- `hints`: 06's "colours by position" cell, `photo_hints.colorize_with_points` with three
  points: the three panels shown and the full-resolution result written;
- `app`: `app_photo.colorize_photo` with a stroke painted on the 1,600 px canvas, what one
  press of Colorize runs on the server (the copies shown on upload included);

and reports the peak RSS ("Maximum resident set size") and wall time. --checkout runs
another checkout's colorpast on the same files (before this change: `photos.colorize_with_points`
and `app.colorize_photo`, which the script calls there instead).

    .venv/bin/python benchmarks/bench_hints_memory.py WORK --megapixels 100 --what hints [--checkout /tmp/old]
"""

import argparse
import os
import sys
from pathlib import Path

from _common import machine, peak_rss
from bench_colorize_memory import size_of

CALL = """
import sys, time
import numpy as np
import matplotlib
matplotlib.use("Agg")
from colorpast.colorizer import load_model
what, photo, model, out = sys.argv[1:5]
model = load_model(model)
from PIL import Image
Image.MAX_IMAGE_PIXELS = None  # the header only: the scan's size
w, h = Image.open(photo).size
points = [(w // 10, h // 10, "sky blue"), (w // 2, h // 2, "#b22234"), (w // 20, h - 10, "tan")]
t = time.perf_counter()
if what == "hints":
    try:
        from colorpast.photo_hints import colorize_with_points
    except ImportError:  # before the change
        from colorpast.photos import colorize_with_points
    colorize_with_points(photo, model, points, out, log=print)
else:
    stroke = np.zeros((1067, 1600, 4), np.uint8)  # the canvas of a 3:2 scan, at most 1,600 px wide
    stroke[100:140, 200:900] = (74, 127, 193, 255)
    try:
        from colorpast.app_photo import colorize_photo, shown
    except ImportError:  # before the change
        from colorpast.app import colorize_photo, gray_copy_of_file as shown
    shown(photo)  # what the page shows on upload, before the press
    r = colorize_photo(photo, model, out, strokes=[stroke])
    print(r.message)
print(f"seconds in the call: {time.perf_counter() - t:.0f}")
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--megapixels", type=float, default=100)
    ap.add_argument("--what", choices=["hints", "app"], default="hints")
    ap.add_argument("--model", default="seed16_hints", help="the registered model that takes hints, untrained")
    ap.add_argument("--checkout", help="run this checkout's colorpast instead, on the same files")
    a = ap.parse_args()

    from PIL import Image

    from colorpast.data.sources import embedded_sample
    from colorpast.models import build

    work = Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    size = size_of(a.megapixels)
    scan = work / f"scan-{size[0] * size[1] / 1e6:.0f}.jpg"
    if not scan.is_file():
        Image.MAX_IMAGE_PIXELS = None
        Image.fromarray(embedded_sample(["rocket"])[0].rgb).resize(size, Image.BICUBIC).save(scan, quality=92)
    model = work / f"{a.model}.keras"
    if not model.is_file():
        import keras

        keras.utils.set_random_seed(0)
        build(a.model).save(model)
    env = dict(os.environ)
    if a.checkout:
        env["PYTHONPATH"] = str(Path(a.checkout).resolve())
    out = work / f"out-{a.what}-{'old' if a.checkout else 'new'}"
    print(f"machine: {machine()}; {a.what} on one scan of {size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.1f} MP), "
          f"{a.model} untrained" + (f"; colorpast of {a.checkout}" if a.checkout else ""))
    gb, wall, said = peak_rss([sys.executable, "-c", CALL, a.what, str(scan), str(model), str(out)], env=env)
    print(said.strip().splitlines()[-2:])
    print(f"peak RSS {gb:.2f} GB, {wall:.0f} s")


if __name__ == "__main__":
    main()
