"""``colorpast prior``: the empirical distribution of ab over the 313 Colorful bins.

Colorful's class rebalancing (Zhang et al. 2016, section 2.2) weights each pixel by
how rare its colour is in the training set. This command counts, over the train split
of a prepared set, how many pixels fall nearest each of the 313 ab bins, and saves the
normalised counts (``313`` float64 summing to 1) as a ``.npy``. The loss
(``colorpast.models.colorful.make_loss(path)``) smooths it and turns it into weights.

Pixels are counted at a quarter of the resolution (the mean ab of each 4x4 cell), the
resolution at which the network predicts and the loss compares.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from colorpast.errors import UserError

HELP = "compute the ab prior over the 313 Colorful bins from a prepared set"
DESCRIPTION = (
    "Count the train split's pixels per Colorful ab bin (at 1/4 resolution, as the loss sees them) "
    "and save the distribution as a .npy for class rebalancing: "
    "colorpast prior --data data/prepared/NAME --out weights/prior_NAME.npy"
)


def prior_from_rgb_batches(batches) -> np.ndarray:
    """Iterable of ``N x H x W x 3`` uint8 RGB -> ``313`` float64 distribution (sums to 1).

    Each image's ab (Lab units) is averaged over 4x4 cells (H and W are cropped to
    multiples of 4) and each cell counted in its nearest bin.
    """
    from keras import ops

    from colorpast import color
    from colorpast.models import bins, colorful

    counts = np.zeros(bins.Q, np.float64)
    for rgb in batches:
        rgb = np.asarray(rgb)
        if rgb.ndim == 3:
            rgb = rgb[None]
        if rgb.ndim != 4 or rgb.shape[-1] != 3:
            raise ValueError(f"expected N x H x W x 3 RGB, got shape {rgb.shape}")
        h, w = rgb.shape[1] // 4 * 4, rgb.shape[2] // 4 * 4
        if h == 0 or w == 0:
            continue
        ab = color.rgb_to_lab(rgb[:, :h, :w])[..., 1:]
        cells = ops.convert_to_numpy(colorful.target_from_ab(ab))
        counts += np.bincount(bins.hard_encode_np(cells).ravel(), minlength=bins.Q)
    if counts.sum() == 0:
        raise UserError("no pixels to count: the images were empty or there were none")
    return counts / counts.sum()


def _prepared_batches(data_dir, batch_size: int = 32, max_images: int | None = None):
    """Batches of uint8 RGB images from the train split of a prepared set."""
    from colorpast.data import shards

    split = shards.open_split(data_dir, "train")
    n = min(len(split), max_images or len(split))
    for start in range(0, n, batch_size):
        yield split.take(range(start, min(n, start + batch_size)))


def add_arguments(p) -> None:
    p.add_argument("--data", required=True, help="a prepared set folder (from colorpast prepare)")
    p.add_argument("--out", required=True, help="the .npy to write, e.g. weights/prior_NAME.npy")
    p.add_argument("--max-images", type=int, default=None, help="count only the first N train images")


def run(args) -> int:
    from colorpast.fsutil import writable_dir

    data = Path(args.data)
    if not data.is_dir():
        raise UserError(f"no prepared set folder {data}")
    out = Path(args.out)
    writable_dir(out.parent)
    prior = prior_from_rgb_batches(_prepared_batches(data, max_images=args.max_images))
    tmp = out.with_name(".partial-" + out.name)
    with open(tmp, "wb") as f:
        np.save(f, prior)
    tmp.replace(out)
    used = int((prior > 0).sum())
    print(f"prior over {used} of 313 bins written to {out}")
    return 0
