"""The median colour (a, b in Lab units) of a prepared set's photos: ``evaluate``'s sepia baseline.

    python benchmarks/median_colour.py data/prepared/imagenet1k [--split train] [--step 8]

Every ``step``-th pixel each way of every photo of the split; prints the per-channel
median and mean of a and b. ``colorpast.evaluate.SEPIA_AB`` is this script's median on
the 890 training photos of the shared imagenet1k-256 set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from colorpast import color  # noqa: E402
from colorpast.data import shards  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", help="a prepared set (colorpast prepare)")
    p.add_argument("--split", default="train", choices=["train", "val", "test"])
    p.add_argument("--step", type=int, default=8, help="every STEP-th pixel each way (default 8)")
    a = p.parse_args(argv)
    images = shards.open_split(Path(a.data), a.split)
    ab = np.concatenate([color.rgb_to_lab(np.asarray(images[i][:: a.step, :: a.step], np.float32) / 255.0)[..., 1:]
                         .reshape(-1, 2) for i in range(len(images))])
    med, mean = np.median(ab, 0), ab.mean(0)
    print(f"{len(images)} photos, {len(ab):,} pixels: median a {med[0]:.2f} b {med[1]:.2f}; "
          f"mean a {mean[0]:.2f} b {mean[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
