"""Build small prepared sets directly in the shard format, for tests that need one
without running `colorpast prepare` (whose own tests cover ingest)."""

import json

import numpy as np

from colorpast.data import shards


def synthetic_photo(rng, size):
    """A smooth colourful image (gradients and a disc), size x size x 3 uint8."""
    y, x = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    base = rng.random(3)
    img = np.stack([base[0] * x + 0.2, base[1] * y + 0.1, base[2] * (1 - x) * y + 0.3], -1)
    cy, cx, r = rng.random(3) * [size, size, size / 3]
    disc = (np.mgrid[0:size, 0:size][0] - cy) ** 2 + (np.mgrid[0:size, 0:size][1] - cx) ** 2 < r**2
    img[disc] = rng.random(3)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def make_prepared(path, counts=None, size=32, per_shard=4, seed=0, images=None):
    """Write a prepared set: ``counts`` {split: n} synthetic images (or ``images``
    {split: list of arrays}) in shards of ``per_shard``; returns {split: [arrays]}."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True, exist_ok=True)
    images = images or {s: [synthetic_photo(rng, size) for _ in range(n)] for s, n in (counts or {}).items()}
    for split, imgs in images.items():
        for i in range(0, len(imgs), per_shard):
            shards.write_shard(path / shards.shard_name(split, i // per_shard), imgs[i : i + per_shard])
    summary = {
        "version": shards.FORMAT_VERSION,
        "size": size,
        "fit": "crop",
        "counts": {s: len(v) for s, v in images.items()},
        "rejected": 0,
        "source": "synthetic",
    }
    (path / shards.SUMMARY).write_text(json.dumps(summary))
    return images
