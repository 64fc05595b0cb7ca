"""Colorize a photo at full resolution: the original L plus predicted ab, upsampled.

As in richzhang/colorization: the model sees a downscaled L, its ab is upsampled back
to the photo's size and joined with the photo's own full-resolution L, so the output
keeps every pixel of detail and the input's size.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from colorpast import color
from colorpast.models import predict_ab
from colorpast.models import spec as model_spec


def _as_rgb_float(image) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim == 2:  # black-and-white: R = G = B
        a = np.repeat(a[..., None], 3, axis=-1)
    if a.ndim != 3 or a.shape[-1] not in (3, 4):
        raise ValueError(f"expected an H x W gray or H x W x 3 RGB image, got shape {a.shape}")
    a = a[..., :3]
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    if a.dtype == np.uint16:
        return a.astype(np.float32) / 65535.0
    return np.clip(a.astype(np.float32), 0.0, 1.0)


def working_size(height: int, width: int, short: int, multiple: int) -> tuple[int, int]:
    """The size the model sees: shorter side ``short``, aspect kept, both sides multiples of ``multiple``."""
    scale = short / min(height, width)
    h = max(multiple, int(round(height * scale / multiple)) * multiple)
    w = max(multiple, int(round(width * scale / multiple)) * multiple)
    return h, w


def colorize(image, model, size: int | None = None) -> np.ndarray:
    """Colorize one photo; returns ``H x W x 3`` float32 RGB in [0, 1] at the input's size.

    Args:
        image: ``H x W`` gray or ``H x W x 3`` RGB, uint8 or float in [0, 1]. A colour or
            sepia photo is colorized from its L alone; its own colours are discarded.
        model: a Keras model built by ``colorpast.models.build`` (or loaded from a run).
        size: the shorter side, in pixels, at which the model runs (default: the model's
            ``default_size``). ab is predicted there and upsampled bilinearly.
    """
    rgb = _as_rgb_float(image)
    s = model_spec(model)
    h, w = rgb.shape[:2]
    L_full = color.rgb_to_lab(rgb)[..., :1]  # H x W x 1, 0..100
    wh, ww = working_size(h, w, size or s.default_size, s.multiple)
    L_small = tf.image.resize(L_full, (wh, ww), method="area", antialias=True)
    ab_small = predict_ab(model, L_small.numpy()[None])[0]  # wh x ww x 2, Lab units
    ab_full = tf.image.resize(ab_small, (h, w), method="bilinear").numpy()
    return color.lab_to_rgb(color.join_lab(L_full, ab_full))


def gray(image) -> np.ndarray:
    """The gray baseline (ab = 0) of a photo: ``H x W x 3`` float32 RGB in [0, 1]."""
    rgb = _as_rgb_float(image)
    return color.lab_to_rgb(color.gray_lab(color.rgb_to_lab(rgb)[..., :1]))
