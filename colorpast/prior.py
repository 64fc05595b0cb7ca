"""The empirical distribution of ab over the 313 Colorful bins (``colorpast prior``).

Colorful's class rebalancing (Zhang et al. 2016, section 2.2) weights each pixel by
how rare its colour is in the training set. ``compute_prior`` counts, over the train
split of a prepared set, how many pixels fall nearest each of the 313 ab bins, and saves
the normalised counts (``313`` float64 summing to 1) as a ``.npy``. The loss
(``colorpast.models.colorful.make_loss(path)``) smooths it and turns it into weights.

Pixels are counted at a quarter of the resolution (the mean ab of each 4x4 cell), the
resolution at which the network predicts and the loss compares.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from keras import ops

from colorpast import color
from colorpast.data import shards
from colorpast.errors import UserError
from colorpast.fsutil import atomic_write, writable_dir
from colorpast.models import bins, colorful


def compute_prior(data, out, max_images: int | None = None) -> np.ndarray:
    """Count the train split of the prepared set ``data`` (its first ``max_images``
    images, when given) and save the distribution to ``out`` (a ``.npy``, written
    atomically); returns it."""
    data, out = Path(data), Path(out)
    if not data.is_dir():
        raise UserError(f"no prepared set folder {data}")
    writable_dir(out.parent)
    prior = prior_from_rgb_batches(_prepared_batches(data, max_images=max_images))
    with atomic_write(out, "wb") as f:
        np.save(f, prior)
    return prior


def prior_from_rgb_batches(batches) -> np.ndarray:
    """Iterable of ``N x H x W x 3`` uint8 RGB -> ``313`` float64 distribution (sums to 1).

    Each image's ab (Lab units) is averaged over 4x4 cells (H and W are cropped to
    multiples of 4) and each cell counted in its nearest bin.
    """
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
    split = shards.open_split(data_dir, "train")
    n = min(len(split), max_images or len(split))
    for start in range(0, n, batch_size):
        yield split.take(range(start, min(n, start + batch_size)))
