"""From RGB photos to (L, target) batches, with Lab computed in-graph.

Everything here is a ``tf.data`` pipeline; colour conversion runs as TensorFlow ops
(``colorpast.color``), so it runs in parallel with training and never in a Python loop.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from colorpast import color
from colorpast.models import spec as model_spec


def to_model_io(rgb, model_name: str):
    """``N x H x W x 3`` RGB (uint8, or float in [0, 1]) -> (L, target), both float32.

    L is ``N x H x W x 1`` in Lab units (0..100); target is the model's training target
    (for seed16, ab / 128), ``N x H x W x 2``.
    """
    L, ab = color.split_lab(color.rgb_to_lab(rgb))
    return L, model_spec(model_name).target_from_ab(ab)


_COMPILED_IO = {}


def compiled_model_io(model_name: str):
    """:func:`to_model_io` compiled with XLA, for tf.data maps.

    XLA fuses the per-pixel colour math into one pass: 2.4x the images/s of the plain
    graph on the 2-core CPU (benchmarks/RESULTS.md). tf.data runs on the CPU even when
    training runs on a GPU, so this is where its speed matters.
    """
    if model_name not in _COMPILED_IO:
        _COMPILED_IO[model_name] = tf.function(lambda rgb: to_model_io(rgb, model_name), jit_compile=True)
    return _COMPILED_IO[model_name]


def resize_short_side(rgb: np.ndarray, short: int) -> np.ndarray:
    """Resize ``H x W x 3`` uint8 so its shorter side is ``short`` pixels (area filter)."""
    h, w = rgb.shape[:2]
    scale = short / min(h, w)
    size = (max(short, round(h * scale)), max(short, round(w * scale)))
    out = tf.image.resize(tf.convert_to_tensor(rgb), size, method="area", antialias=True)
    return np.clip(np.rint(out.numpy()), 0, 255).astype(np.uint8)


def random_crops(images, crop: int, batch_size: int, model_name: str, seed: int = 0) -> tf.data.Dataset:
    """An endless, deterministic stream of (L, target) batches of random crops with flips.

    Args:
        images: list of ``H x W x 3`` uint8 arrays of any sizes, each side >= ``crop``.
            They stay in memory: meant for a handful of photos (the embedded sample).
        crop: square crop size in pixels.
        seed: the same seed gives the same batches.
    """
    if not images:
        raise ValueError("random_crops needs at least one image")
    small = [im for im in images if min(im.shape[:2]) < crop]
    if small:
        raise ValueError(f"every image must be at least {crop} px on each side")
    hmax = max(im.shape[0] for im in images)
    wmax = max(im.shape[1] for im in images)
    # One padded N x Hmax x Wmax x 3 tensor plus each image's true size: crops are
    # slices of it, so the whole stream runs in-graph.
    stack = np.zeros((len(images), hmax, wmax, 3), np.uint8)
    sizes = np.zeros((len(images), 2), np.int32)
    for i, im in enumerate(images):
        stack[i, : im.shape[0], : im.shape[1]] = im
        sizes[i] = im.shape[:2]
    stack_t = tf.constant(stack)
    sizes_t = tf.constant(sizes)
    n = len(images)

    def crop_one(seeds):
        # seeds: 4 x 2 int64, one stateless seed per random choice.
        i = tf.random.stateless_uniform([], seeds[0], 0, n, dtype=tf.int32)
        h, w = sizes_t[i, 0], sizes_t[i, 1]
        y = tf.random.stateless_uniform([], seeds[1], 0, h - crop + 1, dtype=tf.int32)
        x = tf.random.stateless_uniform([], seeds[2], 0, w - crop + 1, dtype=tf.int32)
        patch = stack_t[i, y : y + crop, x : x + crop, :]
        return tf.image.stateless_random_flip_left_right(patch, seeds[3])

    ds = tf.data.Dataset.random(seed=seed).batch(8, drop_remainder=True)
    ds = ds.map(lambda r: tf.reshape(r, [4, 2]))
    ds = ds.map(crop_one, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=True)
    ds = ds.map(compiled_model_io(model_name), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def fixed_batches(images, model_name: str, size: int) -> tf.data.Dataset:
    """Centre ``size`` x ``size`` crops of ``images`` as one (L, target) batch, for validation."""
    crops = []
    for im in images:
        h, w = im.shape[:2]
        y, x = (h - size) // 2, (w - size) // 2
        crops.append(im[y : y + size, x : x + size])
    rgb = np.stack(crops)
    return tf.data.Dataset.from_tensors(rgb).map(lambda b: to_model_io(b, model_name))


# ----------------------------------------------------------------------------------
# Streaming a prepared set (colorpast prepare) for training and evaluation.


def read_summary(prepared_dir) -> dict:
    """The ``prepared.json`` of a prepared folder, or a UserError saying what is missing."""
    import json
    from pathlib import Path

    from colorpast.data import shards
    from colorpast.errors import UserError

    p = Path(prepared_dir) / shards.SUMMARY
    if not p.is_file():
        raise UserError(f"{prepared_dir} is not a prepared set (no {shards.SUMMARY}); run: colorpast prepare SOURCE --out {prepared_dir}")
    return json.loads(p.read_text())


def augment_batch(rgb, seed, rotation=20.0, zoom=0.2, shear=0.2, flip=True):
    """The seed paper's augmentations, in-graph, one random transform per image.

    As Keras's ImageDataGenerator(rotation_range=20, zoom_range=0.2, shear_range=0.2,
    horizontal_flip=True) that the seed used: rotation uniform in +-20 degrees, zoom
    uniform in [0.8, 1.2] independently on x and y, shear uniform in +-0.2 *degrees*
    (ImageDataGenerator's unit for shear_range), flip with probability 1/2; pixels
    outside the source take the nearest edge value (its fill_mode="nearest").

    Args:
        rgb: ``N x H x W x 3``, uint8 or float32 in [0, 1]; interpolation happens in that
            type (uint8 keeps the pipeline in bytes until Lab: a quarter of the memory
            traffic, and the table-lookup path of ``color.rgb_to_lab``).
        seed: ``[2]`` int tensor; the same seed gives the same transforms.
    Returns:
        ``N x H x W x 3`` of the input's type.
    """
    n = tf.shape(rgb)[0]
    h = tf.cast(tf.shape(rgb)[1], tf.float32)
    w = tf.cast(tf.shape(rgb)[2], tf.float32)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
    deg = np.pi / 180.0
    theta = tf.random.stateless_uniform([n], seeds[0], -rotation, rotation) * deg
    phi = tf.random.stateless_uniform([n], seeds[1], -shear, shear) * deg
    zx = tf.random.stateless_uniform([n], seeds[2], 1.0 - zoom, 1.0 + zoom)
    zy = tf.random.stateless_uniform([n], seeds[3], 1.0 - zoom, 1.0 + zoom)
    fl = tf.where(tf.random.stateless_uniform([n], seeds[4]) < (0.5 if flip else 0.0), -1.0, 1.0)
    # Output pixel (x, y) samples the input at M @ (x - cx, y - cy) + (cx, cy), with
    # M = Rotate(theta) @ Shear(phi) @ Zoom(zx, zy) @ Flip: 2x2 entries per image.
    c, s = tf.cos(theta), tf.sin(theta)
    sh_a, sh_b = -tf.sin(phi), tf.cos(phi)  # Shear = [[1, -sin phi], [0, cos phi]]
    m00 = c * zx * fl
    m01 = (c * sh_a - s * sh_b) * zy
    m10 = s * zx * fl
    m11 = (s * sh_a + c * sh_b) * zy
    cx, cy = (w - 1.0) / 2.0, (h - 1.0) / 2.0
    a2 = cx - m00 * cx - m01 * cy
    b2 = cy - m10 * cx - m11 * cy
    zeros = tf.zeros_like(m00)
    transforms = tf.stack([m00, m01, a2, m10, m11, b2, zeros, zeros], axis=1)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=rgb,
        transforms=transforms,
        output_shape=tf.shape(rgb)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="NEAREST",
    )
    return out if rgb.dtype == tf.uint8 else tf.clip_by_value(out, 0.0, 1.0)


def dataset(
    prepared_dir,
    split: str = "train",
    batch_size: int = 16,
    model: str = "seed16",
    *,
    augment: bool | None = None,
    shuffle: bool | None = None,
    repeat: bool | None = None,
    crop: int | None = None,
    seed: int = 0,
    shuffle_buffer: int = 512,
    start_step: int = 0,
) -> tf.data.Dataset:
    """(L, target) float32 batches streamed from a prepared set's shards.

    L is ``N x H x W x 1`` in Lab units (0..100); target is the model's training target
    (for seed16, ab / 128, ``N x H x W x 2``). Lab is computed in-graph. Memory is
    O(batch + shuffle buffer), whatever the size of the set: shards are read record by
    record, never loaded whole.

    Defaults follow the split: ``train`` is shuffled, augmented (the seed's flip,
    rotation, zoom and shear) and repeated forever, with full batches; ``val`` and
    ``test`` are one pass in file order, unaugmented, with a last partial batch.

    Determinism and resume: the training stream is a fixed function of ``seed``. Pass
    ``p`` over the set shuffles shards and records with seeds derived from
    ``(seed, p)``, and image ``i`` of the stream is augmented with a seed derived from
    ``(seed, i)``. So ``start_step=k`` yields exactly the batches a fresh stream yields
    after ``k`` batches, skipping whole passes for free and reading (not decoding) the
    records of a partial pass; training resumes with the data order it would have had.

    Args:
        crop: square crop (random when augmenting, central otherwise) in pixels, for
            training below the prepared size; None keeps the prepared size.
    """
    from colorpast.data import shards
    from colorpast.errors import UserError

    train = split == "train"
    augment = train if augment is None else augment
    shuffle = train if shuffle is None else shuffle
    repeat = train if repeat is None else repeat
    files = [str(f) for f in shards.shard_files(prepared_dir, split)]
    summary = read_summary(prepared_dir)
    count = int(summary.get("counts", {}).get(split, 0))
    if not files or count == 0:
        raise UserError(f"{prepared_dir} has no {split} images")
    size = int(summary["size"])
    if crop is not None and crop > size:
        raise UserError(f"crop {crop} is larger than the prepared size {size}")
    files_t = tf.constant(files)
    seed = int(seed)

    def one_pass(p):
        order = files_t
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(files_t, seed=tf.stack([tf.constant(seed, tf.int64), p]))
        # Training mixes 4 shards at a time; evaluation reads the shards in order.
        cycle = min(4, len(files)) if shuffle else 1
        parallel = {"num_parallel_calls": cycle, "deterministic": True} if cycle > 1 else {}
        recs = tf.data.Dataset.from_tensor_slices(order).interleave(
            tf.data.TFRecordDataset, cycle_length=cycle, block_length=1, **parallel
        )
        if shuffle:
            # Block shuffle: windows of `shuffle_buffer` records permuted by a stateless
            # seed of (seed, pass, window). Unlike Dataset.shuffle, any pass's order can be
            # produced without replaying the passes before it, which exact resume needs.
            pass_seed = tf.constant(seed, tf.int64) * 1_000_003 + p

            def permute(w, block):
                return tf.random.experimental.stateless_shuffle(block, seed=tf.stack([pass_seed, w]))

            recs = recs.batch(shuffle_buffer).enumerate().map(permute).unbatch()
        return recs

    first_elem = int(start_step) * batch_size
    if repeat:
        first_pass, offset = divmod(first_elem, count)
        ds = tf.data.Dataset.range(first_pass, np.iinfo(np.int64).max).flat_map(one_pass).skip(offset)
    else:
        ds = one_pass(tf.constant(0, tf.int64)).skip(first_elem)
    # Pair every record with its index in the stream: it seeds that image's augmentation.
    ds = tf.data.Dataset.zip(ds, tf.data.Dataset.range(first_elem, np.iinfo(np.int64).max))

    def decode(record, index):
        img = tf.ensure_shape(shards.decode(record), [size, size, 3])
        if crop is not None:
            if augment:
                img = tf.image.stateless_random_crop(img, [crop, crop, 3], seed=tf.stack([index, seed + 1]))
            else:
                img = tf.image.resize_with_crop_or_pad(img, crop, crop)
        return img, index

    # Fixed parallelism and a 2-batch prefetch instead of AUTOTUNE: the autotuner grows
    # its buffers with the RAM it sees, so memory would depend on the machine and on how
    # long the run has gone; fixed, it is O(batch + shuffle buffer) from the first batch.
    workers = max(1, min(os.cpu_count() or 1, 8))
    ds = ds.map(decode, num_parallel_calls=workers, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=train)
    model_io = compiled_model_io(model)

    def to_io(rgb, index):
        if augment:
            rgb = augment_batch(rgb, tf.stack([tf.constant(seed, tf.int64), index[0]]))
        return model_io(rgb)

    ds = ds.map(to_io, num_parallel_calls=workers, deterministic=True)
    options = tf.data.Options()
    options.autotune.enabled = False  # see `workers` above
    # Under a multi-worker strategy each worker takes its share of every global batch,
    # so the order (a function of seed and step) stays the one the run resumes by; the
    # default, sharding by file, fails when a split has fewer shard files than workers.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.prefetch(2).with_options(options)
