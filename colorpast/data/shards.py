"""The on-disk format of a prepared set: uint8 RGB in TFRecord shards, plus a manifest.

A prepared folder (``colorpast prepare SOURCE --out data/prepared/NAME``) holds:

    prepared.json              summary: version, size, fit, counts per split, shard names
    manifest.csv               one row per source file: kept (with split, shard, key) or
                               rejected (with the reason)
    train-00000.tfrecord ...   shards, one tf.train.Example per image (see below)
    val-00000.tfrecord ...
    test-00000.tfrecord ...

Each record is a ``tf.train.Example`` with:
    image   bytes   raw uint8 RGB, row-major, height x width x 3 (3 bytes a pixel:
                    Lab is computed later, in-graph)
    height  int64
    width   int64
    key     bytes   the content hash (hex) of the source file's decoded pixels

Shards are written under a temporary name and renamed when complete, so a shard that
exists is whole.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
SPLITS = ("train", "val", "test")
SUMMARY = "prepared.json"
MANIFEST = "manifest.csv"


def shard_name(split: str, index: int) -> str:
    return f"{split}-{index:05d}.tfrecord"


def shard_files(prepared_dir, split: str) -> list[Path]:
    """The complete shards of one split, in order."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    return sorted(Path(prepared_dir).glob(f"{split}-[0-9][0-9][0-9][0-9][0-9].tfrecord"))


def encode(rgb: np.ndarray, key: str) -> bytes:
    """One ``H x W x 3`` uint8 image -> a serialized tf.train.Example."""
    import tensorflow as tf

    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected H x W x 3 uint8, got {rgb.shape}")
    feature = {
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[rgb.tobytes()])),
        "height": tf.train.Feature(int64_list=tf.train.Int64List(value=[rgb.shape[0]])),
        "width": tf.train.Feature(int64_list=tf.train.Int64List(value=[rgb.shape[1]])),
        "key": tf.train.Feature(bytes_list=tf.train.BytesList(value=[key.encode()])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def decode(record):
    """A serialized record (scalar string tensor) -> ``H x W x 3`` uint8 tensor. Graph-safe."""
    import tensorflow as tf

    spec = {
        "image": tf.io.FixedLenFeature([], tf.string),
        "height": tf.io.FixedLenFeature([], tf.int64),
        "width": tf.io.FixedLenFeature([], tf.int64),
    }
    ex = tf.io.parse_single_example(record, spec)
    img = tf.io.decode_raw(ex["image"], tf.uint8)
    return tf.reshape(img, tf.stack([ex["height"], ex["width"], 3]))


def write_shard(path, records) -> None:
    """Write serialized records to ``path`` atomically (temporary name, then rename)."""
    import os

    import tensorflow as tf

    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    with tf.io.TFRecordWriter(str(tmp)) as w:
        for r in records:
            w.write(r)
    os.replace(tmp, path)
