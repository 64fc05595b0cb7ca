"""The on-disk format of a prepared set, and the one reader for it: uint8 RGB in NumPy shards.

A prepared folder (``colorpast prepare SOURCE --out data/prepared/NAME``) holds:

    prepared.json          summary: format version, size, fit, counts per split, shard names
    manifest.csv           one row per source file: kept (with split, shard, its index in
                           the shard, key) or rejected (with the reason)
    train-00000.npy ...    shards: ``n x size x size x 3`` uint8 RGB, row-major, one
    val-00000.npy ...      standard ``.npy`` file each (3 bytes a pixel: Lab is computed
    test-00000.npy ...     later, inside the train step)

Shards are read memory-mapped: opening a split of any size costs nothing, and a batch
reads only its own images, so memory is O(batch), never O(dataset), with no TensorFlow
needed. Shards are written under a temporary name and renamed when complete, so a shard
that exists is whole.

Format 1 (colorpast before the backends release) stored TFRecord shards; such a set gets
a one-line error naming the command that prepares it again.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np

from colorpast.errors import UserError

FORMAT_VERSION = 2
SPLITS = ("train", "val", "test")
SUMMARY = "prepared.json"
MANIFEST = "manifest.csv"
SUFFIX = ".npy"


def shard_name(split: str, index: int) -> str:
    return f"{split}-{index:05d}{SUFFIX}"


def shard_files(prepared_dir, split: str) -> list[Path]:
    """The complete shards of one split, in order."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    return sorted(Path(prepared_dir).glob(f"{split}-[0-9][0-9][0-9][0-9][0-9]{SUFFIX}"))


def write_shard(path, images) -> None:
    """Write ``n`` equal-sized ``H x W x 3`` uint8 images to ``path`` atomically."""
    path = Path(path)
    arr = np.stack([np.asarray(im, np.uint8) for im in images])
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"expected n x H x W x 3 uint8, got {arr.shape}")
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "wb") as f:
        np.save(f, arr)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_summary(prepared_dir) -> dict:
    """The ``prepared.json`` of a prepared folder, or a UserError saying what to run."""
    p = Path(prepared_dir) / SUMMARY
    if not p.is_file():
        raise UserError(f"{prepared_dir} is not a prepared set (no {SUMMARY}); run: colorpast prepare SOURCE --out {prepared_dir}")
    try:
        summary = json.loads(p.read_text())
    except ValueError:
        raise UserError(f"{p} is unreadable; prepare it again: colorpast prepare SOURCE --out {prepared_dir} --restart") from None
    version = summary.get("version")
    if version != FORMAT_VERSION:
        raise UserError(
            f"{prepared_dir} is a prepared set of format {version} ("
            + ("TFRecord shards, from an older colorpast" if version == 1 else "unknown to this colorpast")
            + f"); prepare it again: colorpast prepare {summary.get('source', 'SOURCE')} --out {prepared_dir} --restart"
        )
    return summary


class Split:
    """One split of a prepared set, memory-mapped: ``len(s)`` images, ``s[i]`` one
    ``size x size x 3`` uint8 image, ``s.take(indices)`` a stacked batch."""

    def __init__(self, prepared_dir, split: str):
        self.dir = Path(prepared_dir)
        self.split = split
        self.summary = read_summary(prepared_dir)
        self.size = int(self.summary["size"])
        self.files = shard_files(prepared_dir, split)
        self.shards = [np.load(f, mmap_mode="r") for f in self.files]
        for f, a in zip(self.files, self.shards):
            if a.dtype != np.uint8 or a.ndim != 4 or a.shape[1:] != (self.size, self.size, 3):
                raise UserError(f"{f} is not a shard of {self.size} x {self.size} RGB images ({a.dtype} {a.shape})")
        # Image i lives in shard s = searchsorted(ends, i, 'right'), at i - starts[s].
        counts = np.array([len(a) for a in self.shards], np.int64)
        self.ends = np.cumsum(counts)
        self.starts = self.ends - counts

    def __len__(self) -> int:
        return int(self.ends[-1]) if len(self.ends) else 0

    def locate(self, i: int) -> tuple[int, int]:
        """(shard number, index in that shard) of image ``i``."""
        if not 0 <= i < len(self):
            raise IndexError(f"image {i} of a split of {len(self)}")
        s = int(np.searchsorted(self.ends, i, side="right"))
        return s, int(i - self.starts[s])

    def __getitem__(self, i: int) -> np.ndarray:
        s, j = self.locate(int(i))
        return self.shards[s][j]

    def take(self, indices) -> np.ndarray:
        """``len(indices) x size x size x 3`` uint8, copied out of the shards."""
        return np.stack([self[i] for i in indices]) if len(indices) else np.zeros((0, self.size, self.size, 3), np.uint8)

    def names(self) -> list[str]:
        """The source file of every image, in order (from manifest.csv; keys where it is absent)."""
        where = {}
        p = self.dir / MANIFEST
        if p.is_file():
            with open(p, newline="") as f:
                for row in csv.DictReader(f):
                    if row.get("status") == "kept" and row.get("split") == self.split and row.get("index", "") != "":
                        where[(row["shard"], int(row["index"]))] = row["file"]
        out = []
        for f, a in zip(self.files, self.shards):
            out += [where.get((f.name, j), f"{f.stem}#{j}") for j in range(len(a))]
        return out


def open_split(prepared_dir, split: str) -> Split:
    """A split of a prepared set, or a UserError when it has no images."""
    s = Split(prepared_dir, split)
    if len(s) == 0:
        raise UserError(f"{prepared_dir} has no {split} images")
    return s
