"""Colour science: sRGB <-> CIE Lab as TensorFlow ops, exactly as scikit-image defines it.

Everything colour-related lives here, so there is one definition of Lab in the project.

- RGB is float32 in [0, 1] (uint8 input is accepted and divided by 255).
- Lab is CIE L*a*b*, illuminant D65, 2 degree observer, the constants of
  ``skimage.color.rgb2lab``: L in [0, 100], a and b roughly in [-110, 110]
  (the sRGB gamut spans a in [-86.2, 98.2] and b in [-107.9, 94.5]).

The functions are plain TensorFlow ops: they batch over any leading dimensions, run
inside ``tf.data`` maps and inside Keras models (on the GPU there), and are
differentiable. Called with a NumPy array they return a NumPy array.
Computation is float32; the difference from scikit-image's float64 is below 1e-3 in
each of L, a and b (tests/test_color.py measures it).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

# Scaling constants shared by the models (as in richzhang/colorization's BaseColor):
# L is centred at 50 and spans 100; ab spans about +-110. seed16 uses ab / 128
# (the seed paper's choice) so that tanh's [-1, 1] covers the whole gamut.
AB_SCALE_SEED = 128.0

# sRGB primaries to CIE XYZ, exactly skimage.color.colorconv.xyz_from_rgb; the inverse
# is taken in float64, as scikit-image does, before rounding to float32.
_XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=np.float64,
)
_RGB_FROM_XYZ = np.linalg.inv(_XYZ_FROM_RGB)
# Reference white of D65 for the 2 degree observer (skimage: xyz_tristimulus_values).
_D65 = np.array([0.95047, 1.0, 1.08883], dtype=np.float64)

# Fold the white point into the matrices so each conversion is one matmul:
# xyz / white = rgb_lin @ (XYZ_FROM_RGB.T / white).
_M_RGB_TO_XYZN = (_XYZ_FROM_RGB.T / _D65[None, :]).astype(np.float32)
_M_XYZN_TO_RGB = (_RGB_FROM_XYZ.T * _D65[:, None]).astype(np.float32)

# Piecewise thresholds and slopes, as scikit-image writes them (not the exact CIE
# fractions 216/24389 and 24389/27/116; their values differ in the fifth digit).
_SRGB_T = 0.04045
_LIN_T = 0.0031308
_LAB_T = 0.008856
_LAB_K = 7.787
_LAB_T_INV = 0.2068966
_LAB_OFFSET = 16.0 / 116.0


# sRGB -> linear light for the 256 values of 8-bit input, computed once in float64: a
# table lookup replaces three pow() calls a pixel, which makes the conversion of prepared
# uint8 data about 1.5x faster and slightly more exact than the float32 path.
_LINEAR_U8 = np.where(
    np.arange(256) / 255.0 > _SRGB_T,
    ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4,
    np.arange(256) / 255.0 / 12.92,
).astype(np.float32)


def _as_tensor(x):
    """Return (tensor, was_numpy): uint8 stays uint8 (see _linear), anything else float32."""
    was_numpy = not tf.is_tensor(x)
    t = tf.convert_to_tensor(x)
    if t.dtype not in (tf.uint8, tf.float32):
        t = tf.cast(t, tf.float32)
    return t, was_numpy


def _linear(t):
    """sRGB in [0, 1] (float32) or [0, 255] (uint8) -> linear light, float32.

    tf.maximum keeps pow away from negative bases so gradients stay finite in the branch
    tf.where discards.
    """
    if t.dtype == tf.uint8:
        return tf.gather(tf.constant(_LINEAR_U8), tf.cast(t, tf.int32))
    return tf.where(t > _SRGB_T, tf.pow((tf.maximum(t, _SRGB_T) + 0.055) / 1.055, 2.4), t / 12.92)


def _check_channels(t, name):
    if t.shape.rank is not None and t.shape.rank >= 1 and t.shape[-1] is not None:
        if t.shape[-1] != 3:
            raise ValueError(f"{name} expects 3 channels in the last axis, got shape {t.shape}")


def _out(t, was_numpy):
    return t.numpy() if was_numpy else t


def rgb_to_lab(rgb):
    """sRGB to CIE Lab (D65, 2 degree observer), as ``skimage.color.rgb2lab``.

    Args:
        rgb: ``(..., 3)`` sRGB, float in [0, 1] or uint8 in [0, 255]; a tf.Tensor or
            anything NumPy can read. Any leading shape, e.g. ``N x H x W x 3``.

    Returns:
        ``(..., 3)`` float32 Lab: L in [0, 100], a and b in about [-110, 110].
        A NumPy array when ``rgb`` was not a tensor, otherwise a tensor.
    """
    t, was_numpy = _as_tensor(rgb)
    _check_channels(t, "rgb_to_lab")
    lin = _linear(t)
    xyzn = tf.tensordot(lin, _M_RGB_TO_XYZN, axes=[[-1], [0]])  # ... x 3, XYZ / white
    f = tf.where(
        xyzn > _LAB_T,
        tf.pow(tf.maximum(xyzn, _LAB_T), 1.0 / 3.0),
        _LAB_K * xyzn + _LAB_OFFSET,
    )
    fx, fy, fz = tf.unstack(f, axis=-1)
    lab = tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)
    return _out(lab, was_numpy)


def rgb_to_L(rgb):
    """Lightness alone: ``(..., 3)`` sRGB -> ``(..., 1)`` L in [0, 100], as ``rgb_to_lab(rgb)[..., :1]``.

    A third of the work of the full conversion (one cube root per pixel instead of
    three): colorize needs only the photo's L at full resolution.
    """
    t, was_numpy = _as_tensor(rgb)
    _check_channels(t, "rgb_to_L")
    lin = _linear(t)
    y = tf.tensordot(lin, _M_RGB_TO_XYZN[:, 1:2], axes=[[-1], [0]])  # ... x 1, Y / white
    fy = tf.where(y > _LAB_T, tf.pow(tf.maximum(y, _LAB_T), 1.0 / 3.0), _LAB_K * y + _LAB_OFFSET)
    return _out(116.0 * fy - 16.0, was_numpy)


def lab_to_rgb(lab):
    """CIE Lab (D65, 2 degree observer) to sRGB, as ``skimage.color.lab2rgb``.

    Out-of-gamut colours (a predicted ab that no sRGB colour has at that L) are handled
    as scikit-image handles them: a negative Z is set to 0, and the final RGB is
    clipped to [0, 1] channel by channel. So every input gives valid RGB, and any
    valid sRGB colour survives the round trip within 1e-4.

    Args:
        lab: ``(..., 3)`` float Lab, L in [0, 100], a and b in about [-110, 110].

    Returns:
        ``(..., 3)`` float32 sRGB in [0, 1]; NumPy in, NumPy out.
    """
    t, was_numpy = _as_tensor(lab)
    t = tf.cast(t, tf.float32)
    _check_channels(t, "lab_to_rgb")
    L, a, b = tf.unstack(t, axis=-1)
    fy = (L + 16.0) / 116.0
    fx = a / 500.0 + fy
    fz = tf.maximum(fy - b / 200.0, 0.0)
    f = tf.stack([fx, fy, fz], axis=-1)
    xyzn = tf.where(
        f > _LAB_T_INV,
        f * f * f,
        (f - _LAB_OFFSET) / _LAB_K,
    )
    lin = tf.tensordot(xyzn, _M_XYZN_TO_RGB, axes=[[-1], [0]])
    rgb = tf.where(
        lin > _LIN_T,
        1.055 * tf.pow(tf.maximum(lin, _LIN_T), 1.0 / 2.4) - 0.055,
        lin * 12.92,
    )
    return _out(tf.clip_by_value(rgb, 0.0, 1.0), was_numpy)


def split_lab(lab):
    """``(..., 3)`` Lab -> (``(..., 1)`` L, ``(..., 2)`` ab), in Lab units."""
    return lab[..., :1], lab[..., 1:]


def gray_lab(L):
    """The gray baseline: ``(..., 1)`` L -> ``(..., 3)`` Lab with a = b = 0."""
    if tf.is_tensor(L):
        return tf.concat([L, tf.zeros_like(L), tf.zeros_like(L)], axis=-1)
    L = np.asarray(L, np.float32)
    return np.concatenate([L, np.zeros_like(L), np.zeros_like(L)], axis=-1)
