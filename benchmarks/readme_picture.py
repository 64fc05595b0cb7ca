"""The README's picture: old prints as given, each beside its colour, in one strip.

    python benchmarks/readme_picture.py --model effunet:bundled [--photos P ...] [--out benchmarks/before_after.jpg]
    python benchmarks/readme_picture.py --from-figure

``--model`` colorizes the prints (by default three of the shared legacy-bw set: the
Sphinx in the 1870s, the Brooklyn Bridge in the 1880s, David Hilbert) with the input
normalized, as notebook 06 and the app do, and puts each beside the print as given.
``--from-figure`` makes the same strip from a figure already measured, without a model:
the print and "after" columns of three rows of ``benchmarks/old_photos_legacy_effunet.jpg``
(benchmarks/RESULTS.md, "Old photos with effunet"), where the rows and columns lie at the
pixel spans in ``FIGURE_ROWS`` and ``FIGURE_COLUMNS``. Every picture is scaled to
``--height`` pixels; the strip is written as JPEG.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data" / "legacy-bw"
PHOTOS = ["1870sSphinx.jpg", "1880sBrooklynBridge.jpg", "David_Hilbert.png"]
FIGURE = ROOT / "benchmarks" / "old_photos_legacy_effunet.jpg"
# Where those three rows, and the "the print" and "after" columns, lie in FIGURE (760 x 1935).
FIGURE_ROWS = [(288, 420), (470, 605), (1368, 1540)]
FIGURE_COLUMNS = [(30, 200), (578, 748)]
GAP, PAIR_GAP = 4, 20  # px between a print and its colour, and between two pairs


def _from_figure():
    """The (print, colour) pairs cut out of FIGURE: each cell's picture without its margin."""
    import numpy as np
    from PIL import Image

    src = Image.open(FIGURE).convert("RGB")
    dark = np.asarray(src.convert("L")) < 240

    def cell(rows, cols):
        (y0, y1), (x0, x1) = (rows[0] - 8, rows[1] + 8), (cols[0] - 6, cols[1] + 6)
        m = dark[y0:y1, x0:x1]
        ys = np.where(m.sum(1) > 0.3 * m.shape[1])[0]  # the picture's rows, not a caption's
        xs = np.where(m.sum(0) > 0.5 * m.shape[0])[0]  # its columns, not the row's label
        return src.crop((x0 + xs[0], y0 + ys[0], x0 + xs[-1] + 1, y0 + ys[-1] + 1))

    return [tuple(cell(r, c) for c in FIGURE_COLUMNS) for r in FIGURE_ROWS]


def _colorized(model_ref: str, photos: list[Path]):
    """(the print as given, the colorized print) for each photo."""
    import numpy as np
    from PIL import Image

    from colorpast.colorizer import colorize, load_model
    from colorpast.photofiles import read_image

    model = load_model(model_ref)
    pairs = []
    for p in photos:
        given = read_image(p)
        rgb = colorize(given, model, normalize=True)
        pairs.append((Image.fromarray(given), Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8))))
    return pairs


def strip(pairs, height: int):
    """One row: each print beside its colour, all scaled to ``height`` pixels."""
    from PIL import Image

    scaled = [[im.resize((max(1, round(im.width * height / im.height)), height), Image.LANCZOS) for im in pair]
              for pair in pairs]
    width = sum(a.width + GAP + b.width for a, b in scaled) + PAIR_GAP * (len(scaled) - 1)
    out, x = Image.new("RGB", (width, height), "white"), 0
    for a, b in scaled:
        out.paste(a, (x, 0))
        out.paste(b, (x + a.width + GAP, 0))
        x += a.width + GAP + b.width + PAIR_GAP
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="colorize the prints with this model (effunet:bundled, runs/NAME, ...)")
    source.add_argument("--from-figure", action="store_true", help=f"cut the strip out of {FIGURE.name}")
    p.add_argument("--photos", nargs="+", type=Path, default=[SHARED / n for n in PHOTOS])
    p.add_argument("--height", type=int, default=150, help="height of every picture in px (default 150)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "before_after.jpg")
    a = p.parse_args(argv)
    pairs = _from_figure() if a.from_figure else _colorized(a.model, a.photos)
    picture = strip(pairs, a.height)
    picture.save(a.out, quality=90)
    print(f"wrote {a.out} ({picture.width} x {picture.height}, {len(pairs)} prints)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
