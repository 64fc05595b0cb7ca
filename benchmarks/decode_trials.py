"""Ways to draw more colour from a trained model at colorize time, side by side.

    python benchmarks/decode_trials.py RUN DATA [--split test]

Colorizes every photo of DATA (a folder at full resolution, or a prepared set's split)
once with RUN, then scores ``ab' = c + s (ab - c)`` for centres c = 0 (``--saturation
s``), the sepia colour (``colorpast.evaluate.SEPIA_AB``) and the photo's own mean
predicted ab, and strengths s: mean CIEDE2000, CF and ΔCF (benchmarks/RESULTS.md, "What
the models have learned at these budgets"). None of these but c = 0 is in the package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from colorpast import color, metrics  # noqa: E402
from colorpast.colorizer import colorize, load_model  # noqa: E402
from colorpast.evaluate import SEPIA_AB, load_photos  # noqa: E402

TRIALS = [("zero", 2.0), ("sepia", 1.5), ("sepia", 2.0), ("sepia", 3.0),
          ("image-mean", 1.5), ("image-mean", 2.0), ("image-mean", 3.0)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", help="a run folder or .keras file")
    p.add_argument("data", help="a folder of photos or a prepared set")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    a = p.parse_args(argv)
    model = load_model(a.run)
    preds = [(rgb.astype(np.float32) / 255.0, color.rgb_to_lab(colorize(rgb, model)))
             for _, rgb in load_photos(a.data, a.split)]
    truth_cf = np.mean([metrics.colorfulness(t) for t, _ in preds])
    print(f"| decode | CIEDE2000 | CF | ΔCF |  ({len(preds)} photos of {a.data}, {a.run})\n|---|---|---|---|")
    for centre, s in [("as predicted", 1.0), *TRIALS]:
        errs, cfs = [], []
        for t, lab in preds:
            ab = lab[..., 1:]
            c = {"sepia": np.float32(SEPIA_AB), "image-mean": ab.reshape(-1, 2).mean(0)}.get(centre, np.zeros(2, np.float32))
            out = np.clip(color.lab_to_rgb(np.concatenate([lab[..., :1], c + s * (ab - c)], -1)), 0.0, 1.0)
            errs.append(metrics.ciede2000(t, out))
            cfs.append(metrics.colorfulness(out))
        label = centre if s == 1.0 else f"{centre}, s {s:g}"
        print(f"| {label} | {np.mean(errs):.2f} | {np.mean(cfs):.1f} | {abs(np.mean(cfs) - truth_cf):.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
