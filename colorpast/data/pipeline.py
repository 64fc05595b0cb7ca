"""From RGB photos to (L, target) batches, with Lab computed in-graph.

Everything here is a ``tf.data`` pipeline; colour conversion runs as TensorFlow ops
(``colorpast.color``), so it runs in parallel with training and never in a Python loop.
"""

from __future__ import annotations

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
    ds = ds.map(lambda rgb: to_model_io(rgb, model_name), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
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
