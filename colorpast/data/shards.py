"""The on-disk format of a prepared set, and the one reader for it: uint8 RGB in NumPy shards.

A prepared folder (``colorpast prepare SOURCE --out data/prepared/NAME``) holds:

    prepared.json          summary: format version, size, fit, counts per split, shard names
    manifest.csv           one row per source file: kept (with split, shard, its index in
                           the shard, key) or rejected (with the reason)
    train-00000.npy ...    shards: ``n x size x size x 3`` uint8 RGB, row-major, one
    val-00000.npy ...      standard ``.npy`` file each (3 bytes a pixel: Lab is computed
    test-00000.npy ...     later, inside the train step)

Shards are read image by image at their offsets (``Split``): opening a split of any size
costs nothing, and a batch reads only its own images, so memory is O(batch), never
O(dataset), with no TensorFlow needed. Every file here is written through
``colorpast.fsutil`` (a temporary name, renamed when complete), so a file that exists is
whole.

This module is the only one that knows these names and columns: ``colorpast prepare``
writes a set through it, and training, evaluation and the notebooks read it through it.

Format 1 (colorpast before the backends release) stored TFRecord shards; such a set gets
a one-line error naming the command that prepares it again.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import numpy as np

from colorpast.errors import UserError, say
from colorpast.fsutil import atomic_write, discard, remove_partials, write_text_atomic

FORMAT_VERSION = 2
SPLITS = ("train", "val", "test")
SUMMARY = "prepared.json"
MANIFEST = "manifest.csv"
SUFFIX = ".npy"
MANIFEST_FIELDS = ("file", "status", "split", "shard", "index", "key", "reason", "note")
_STEM = re.compile(r"(%s)-(\d{5})" % "|".join(SPLITS))


def shard_name(split: str, index: int) -> str:
    return f"{split}-{index:05d}{SUFFIX}"


def split_and_index(stem: str) -> tuple[str, int] | None:
    """``("train", 2)`` for a shard's name without its suffix (``train-00002``); None for any other name."""
    m = _STEM.fullmatch(stem)
    return (m[1], int(m[2])) if m else None


def shard_files(prepared_dir, split: str) -> list[Path]:
    """The complete shards of one split, in order."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    return sorted(Path(prepared_dir).glob(f"{split}-[0-9][0-9][0-9][0-9][0-9]{SUFFIX}"))


def write_shard(path, images) -> None:
    """Write ``n`` equal-sized ``H x W x 3`` uint8 images to ``path`` atomically."""
    arr = np.stack([np.asarray(im, np.uint8) for im in images])
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"expected n x H x W x 3 uint8, got {arr.shape}")
    with atomic_write(path, "wb") as f:
        np.save(f, arr)


def manifest_row(file: str, status: str, split: str = "", shard: str = "", index="", key: str = "",
                 reason: str = "", note: str = "") -> dict:
    """One manifest record: ``status`` is kept (with split, shard, index and key), rejected or
    skipped (with the reason)."""
    return {"file": file, "status": status, "split": split, "shard": shard, "index": index, "key": key,
            "reason": reason, "note": note}


def write_manifest(path, rows) -> None:
    """Write manifest records (``manifest_row``) to the CSV ``path`` atomically."""
    with atomic_write(path, newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
        w.writeheader()
        w.writerows(rows)


def read_manifest(path) -> list[dict]:
    """The records of a manifest CSV (every value a string)."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_summary(prepared_dir, summary: dict) -> None:
    """Write ``prepared.json`` atomically."""
    write_text_atomic(Path(prepared_dir) / SUMMARY, json.dumps(summary, indent=2) + "\n")


def summary_or_none(prepared_dir) -> dict | None:
    """The ``prepared.json`` of a folder as it is (any version, complete or not); None when
    it is absent or unreadable. ``read_summary`` is the reader for a set to be used."""
    try:
        return json.loads((Path(prepared_dir) / SUMMARY).read_text())
    except (OSError, ValueError):
        return None


def remove_set(prepared_dir) -> None:
    """Delete a prepared set's files from its folder: every ``.npy`` and ``.tfrecord`` (shards
    of either format), manifest, summary, and the temporary files of a killed writer.
    Each is truncated first (``fsutil.discard``): on Drive, gigabytes of shards would
    otherwise sit in the Trash at full size."""
    d = Path(prepared_dir)
    for p in [*d.glob("*.tfrecord"), *d.glob(f"*{SUFFIX}"), d / MANIFEST, d / SUMMARY]:
        discard(p)
    remove_partials(d)


def read_summary(prepared_dir) -> dict:
    """The ``prepared.json`` of a prepared folder, or a UserError saying what to run."""
    p = Path(prepared_dir) / SUMMARY
    if not p.is_file():
        raise UserError(f"{prepared_dir} is not a prepared set (no {SUMMARY}); " + say(
            f"run: colorpast prepare SOURCE --out {prepared_dir}",
            "run 02_preprocess first (its prepared set lands in data/prepared/NAME)"))
    try:
        summary = json.loads(p.read_text())
    except ValueError:
        raise UserError(f"{p} is unreadable; prepare it again: " + say(
            f"colorpast prepare SOURCE --out {prepared_dir} --restart", "delete it and run 02_preprocess")) from None
    version = summary.get("version")
    if version != FORMAT_VERSION:
        raise UserError(
            f"{prepared_dir} is a prepared set of format {version} ("
            + ("TFRecord shards, from an older colorpast" if version == 1 else "unknown to this colorpast")
            + "); prepare it again: " + say(f"colorpast prepare {summary.get('source', 'SOURCE')} --out {prepared_dir} --restart",
                                            "delete its prepared.json and run 02_preprocess")
        )
    return summary


class Split:
    """One split of a prepared set: ``len(s)`` images, ``s[i]`` one ``size x size x 3``
    uint8 image, ``s.take(indices)`` a stacked batch.

    Images are read one by one with ``os.pread`` at their offset in the shard (a ``.npy``
    stores them contiguously after its header): no shard is ever loaded or mapped whole,
    so the process holds only what it is given, and threads may read at once. (Memory
    mapping would count every page a pass touches as the process's resident memory:
    2.9 GB after two passes over 20,000 images, benchmarks/RESULTS.md.)
    """

    def __init__(self, prepared_dir, split: str):
        self.dir = Path(prepared_dir)
        self.split = split
        self.summary = read_summary(prepared_dir)
        self.size = int(self.summary["size"])
        self.files = shard_files(prepared_dir, split)
        self.shape = (self.size, self.size, 3)
        self.nbytes = self.size * self.size * 3
        self._fds, self._offsets, counts = [], [], []
        for f in self.files:
            with open(f, "rb") as fh:
                try:
                    version = np.lib.format.read_magic(fh)
                    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                                   (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                    if read_header is None:
                        raise ValueError(f"NumPy format {version}")
                    shape, fortran, dtype = read_header(fh)
                except ValueError as e:
                    raise UserError(f"{f} is not a readable shard ({e}); prepare the set again") from None
                offset = fh.tell()
            if dtype != np.uint8 or fortran or len(shape) != 4 or tuple(shape[1:]) != self.shape:
                raise UserError(f"{f} is not a shard of {self.size} x {self.size} RGB images ({dtype} {shape})")
            self._fds.append(os.open(f, os.O_RDONLY))
            self._offsets.append(offset)
            counts.append(shape[0])
        # Image i lives in shard s = searchsorted(ends, i, 'right'), at i - starts[s].
        counts = np.array(counts, np.int64)
        self.counts = counts
        self.ends = np.cumsum(counts)
        self.starts = self.ends - counts

    def __del__(self):
        for fd in getattr(self, "_fds", []):
            os.close(fd)

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
        data = os.pread(self._fds[s], self.nbytes, self._offsets[s] + j * self.nbytes)
        if len(data) != self.nbytes:
            raise UserError(f"{self.files[s]} is cut short; prepare the set again")
        return np.frombuffer(data, np.uint8).reshape(self.shape)

    def take(self, indices) -> np.ndarray:
        """``len(indices) x size x size x 3`` uint8."""
        return np.stack([self[i] for i in indices]) if len(indices) else np.zeros((0, *self.shape), np.uint8)

    def names(self) -> list[str]:
        """The source file of every image, in order (from manifest.csv; shard#index where it is absent)."""
        where = {}
        p = self.dir / MANIFEST
        for row in read_manifest(p) if p.is_file() else []:
            if row.get("status") == "kept" and row.get("split") == self.split and row.get("index", "") != "":
                where[(row["shard"], int(row["index"]))] = row["file"]
        out = []
        for f, n in zip(self.files, self.counts):
            out += [where.get((f.name, j), f"{f.stem}#{j}") for j in range(int(n))]
        return out


def open_split(prepared_dir, split: str) -> Split:
    """A split of a prepared set, or a UserError when it has no images."""
    s = Split(prepared_dir, split)
    if len(s) == 0:
        raise UserError(f"{prepared_dir} has no {split} images")
    return s
