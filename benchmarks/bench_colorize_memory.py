"""Peak memory of `colorpast colorize` on big scans, one and several at a time.

Writes SCANS JPEG scans of 7744 x 5164 (40 MP, a real photo scaled up, as an archive
scan is; --megapixels for another size, 3:2) and an untrained `.keras` model (seed16, or
--model's) into WORK, then runs the command line on one scan and on all of them under
`/usr/bin/time -v`, and reports each run's peak RSS ("Maximum resident set size") and
wall time. With --keep, the first scan's output is copied to WORK/first-<MP>.png, for
comparing two versions' outputs pixel by pixel. --python runs another checkout's
colorpast (its .venv/bin/python, run from that checkout) on the same files.

    .venv/bin/python benchmarks/bench_colorize_memory.py WORK [--scans 4] [--keep] [--model effunet] [--megapixels 300]
    .venv/bin/python benchmarks/bench_colorize_memory.py --compare A.png B.png
"""

import argparse
import shutil
import sys
from pathlib import Path

from _common import machine, peak_rss

SIZE = (7744, 5164)  # width x height: 40.0 MP


def size_of(megapixels: float) -> tuple[int, int]:
    """Width x height of a 3:2 scan of ``megapixels`` (40: the 7744 x 5164 of earlier runs)."""
    if megapixels == 40:
        return SIZE
    h = int((megapixels * 1e6 / 1.5) ** 0.5)
    return int(h * 1.5), h


def compare(a, b) -> None:
    import numpy as np
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    x = np.asarray(Image.open(a).convert("RGB"), np.int16)
    y = np.asarray(Image.open(b).convert("RGB"), np.int16)
    d = np.abs(x - y)
    print(f"{a} vs {b}: {x.shape[1]}x{x.shape[0]}; max difference {d.max()} / 255 per channel; "
          f"{(d > 0).mean() * 100:.3f} % of values differ; {(d > 1).mean() * 100:.4f} % by more than 1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work", nargs="?")
    ap.add_argument("--scans", type=int, default=4)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--compare", nargs=2)
    ap.add_argument("--model", default="seed16", help="the registered model to colorize with, untrained (default seed16)")
    ap.add_argument("--megapixels", type=float, default=40, help="the scans' size (default 40: 7744 x 5164)")
    ap.add_argument("--one", action="store_true", help="one scan only (a big one takes minutes)")
    ap.add_argument("--checkout", help="run this checkout's colorpast instead (its .venv), on the same files")
    a = ap.parse_args()
    if a.compare:
        return compare(*a.compare)

    import numpy as np
    from PIL import Image

    from colorpast.data.sources import embedded_sample
    from colorpast.models import build

    work = Path(a.work).resolve()
    size = size_of(a.megapixels)
    mp = f"{size[0] * size[1] / 1e6:.0f}"
    scans = work / ("scans" if size == SIZE else f"scans-{mp}")
    scans.mkdir(parents=True, exist_ok=True)
    model = work / f"{a.model}.keras"
    if not model.is_file():
        import keras

        keras.utils.set_random_seed(0)
        build(a.model).save(model)
    for i, name in enumerate(["rocket", "coffee", "astronaut", "chelsea"][: a.scans]):
        path = scans / f"scan{i}.jpg"
        if not path.is_file():
            photo = embedded_sample([name])[0].rgb
            Image.fromarray(photo).resize(size, Image.BICUBIC).save(path, quality=92)
    python, cwd = (sys.executable, None) if not a.checkout else (str(Path(a.checkout) / ".venv/bin/python"), a.checkout)
    cli = [python, "-m", "colorpast", "colorize", "--model", str(model)]
    print(f"model: {a.model} ({model.stat().st_size / 1e6:.1f} MB .keras)")
    print(f"machine: {machine()}; {a.scans} scans of {size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.1f} MP)"
          + (f"; colorpast of {a.checkout}" if a.checkout else ""))
    one, wall, _ = peak_rss([*cli, str(scans / "scan0.jpg"), "--out", str(work / "out1")], cwd)
    print(f"1 scan:  peak RSS {one:.2f} GB, {wall:.0f} s")
    if a.keep:
        shutil.copy(work / "out1/scan0.png", work / f"first-{mp}.png")
    if a.one:
        return
    many, wall, _ = peak_rss([*cli, str(scans), "--out", str(work / "outN")], cwd)
    print(f"{a.scans} scans: peak RSS {many:.2f} GB, {wall:.0f} s ({many / one:.2f} x one)")


if __name__ == "__main__":
    main()
