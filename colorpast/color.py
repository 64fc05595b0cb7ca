"""Colour science: sRGB <-> CIE Lab in ``keras.ops``, exactly as scikit-image defines it.

This is the one definition of Lab in the project, and the one home of the colour
constants the models share (how L and ab are scaled for a network).

- RGB is float32 in [0, 1] (uint8 input is accepted and divided by 255).
- Lab is CIE L*a*b*, illuminant D65, 2 degree observer, the constants of
  ``skimage.color.rgb2lab``: L in [0, 100], a and b roughly in [-110, 110]
  (the sRGB gamut spans a in [-86.2, 98.2] and b in [-107.9, 94.5]).

The functions are ``keras.ops``: they run unchanged on the TensorFlow, JAX and PyTorch
backends, batch over any leading dimensions, run inside a compiled train step (on the
GPU there) and inside ``tf.data`` maps on TensorFlow, and are differentiable. Called
with a NumPy array they return a NumPy array; with a backend tensor, a tensor.
Computation is float32; the difference from scikit-image's float64 is below 1e-3 in
each of L, a and b on every backend (tests/test_color.py measures it).

The 3x3 colour matrices are applied as explicit multiply-adds, not a matmul: on GPUs
a float32 matmul may run in TF32 (10-bit mantissa), which would cost about 0.1 Lab
units; elementwise float32 arithmetic is exact on every device.
"""

from __future__ import annotations

import numpy as np
from keras import ops

# Scaling constants shared by the models (richzhang/colorization's BaseColor: L is
# centred at 50 and spans 100, ab spans about +-110). seed16 uses ab / 128 (the seed
# paper's choice) so that tanh's [-1, 1] covers the whole gamut.
L_CENT = 50.0
L_NORM = 100.0
AB_NORM = 110.0
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

# The white point folded into the matrices: xyz / white = M_RGB_TO_XYZN @ rgb_lin.
_M_RGB_TO_XYZN = [[float(v) for v in row] for row in (_XYZ_FROM_RGB / _D65[:, None]).astype(np.float32)]
_M_XYZN_TO_RGB = [[float(v) for v in row] for row in (_RGB_FROM_XYZ * _D65[None, :]).astype(np.float32)]

# Piecewise thresholds and slopes, as scikit-image writes them (not the exact CIE
# fractions 216/24389 and 24389/27/116; their values differ in the fifth digit).
_SRGB_T = 0.04045
_LIN_T = 0.0031308
_LAB_T = 0.008856
_LAB_K = 7.787
_LAB_T_INV = 0.2068966
_LAB_OFFSET = 16.0 / 116.0

# sRGB -> linear light for the 256 values of 8-bit input, computed once in float64: a
# table lookup replaces three pow() calls a pixel, which makes the conversion of uint8
# data about 1.5x faster and slightly more exact than the float32 path.
_LINEAR_U8 = np.where(
    np.arange(256) / 255.0 > _SRGB_T,
    ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4,
    np.arange(256) / 255.0 / 12.92,
).astype(np.float32)


def _as_tensor(x):
    """Return (tensor, was_numpy): uint8 stays uint8 (see _linear), anything else float32."""
    was_numpy = not ops.is_tensor(x)
    if was_numpy:
        x = np.asarray(x)
        if x.dtype != np.uint8:
            x = x.astype(np.float32, copy=False)
    t = ops.convert_to_tensor(x)
    if ops.dtype(t) not in ("uint8", "float32"):
        t = ops.cast(t, "float32")
    return t, was_numpy


def _check_channels(t, name):
    if len(t.shape) >= 1 and t.shape[-1] is not None and t.shape[-1] != 3:
        raise ValueError(f"{name} expects 3 channels in the last axis, got shape {tuple(t.shape)}")


def _out(t, was_numpy):
    return ops.convert_to_numpy(t) if was_numpy else t


def _linear(t):
    """sRGB in [0, 1] (float32) or [0, 255] (uint8) -> linear light, float32.

    ``maximum`` keeps pow away from negative bases so gradients stay finite in the
    branch ``where`` discards.
    """
    if ops.dtype(t) == "uint8":
        return ops.take(ops.convert_to_tensor(_LINEAR_U8), ops.cast(t, "int32"))
    return ops.where(t > _SRGB_T, ops.power((ops.maximum(t, _SRGB_T) + 0.055) / 1.055, 2.4), t / 12.92)


def _mix3(c0, c1, c2, m):
    """Three channels through the 3x3 matrix ``m``: ``[m[i][0] c0 + m[i][1] c1 + m[i][2] c2 for i]``."""
    return [m[i][0] * c0 + m[i][1] * c1 + m[i][2] * c2 for i in range(3)]


def _f(t):
    """CIE Lab's companding of XYZ / white: cube root above ``_LAB_T``, linear below."""
    return ops.where(t > _LAB_T, ops.power(ops.maximum(t, _LAB_T), 1.0 / 3.0), _LAB_K * t + _LAB_OFFSET)


def rgb_to_lab(rgb):
    """sRGB to CIE Lab (D65, 2 degree observer), as ``skimage.color.rgb2lab``.

    Args:
        rgb: ``(..., 3)`` sRGB, float in [0, 1] or uint8 in [0, 255]; a backend tensor
            or anything NumPy can read. Any leading shape, e.g. ``N x H x W x 3``.

    Returns:
        ``(..., 3)`` float32 Lab: L in [0, 100], a and b in about [-110, 110].
        A NumPy array when ``rgb`` was not a tensor, otherwise a tensor.
    """
    t, was_numpy = _as_tensor(rgb)
    _check_channels(t, "rgb_to_lab")
    lin = _linear(t)
    x, y, z = _mix3(lin[..., 0], lin[..., 1], lin[..., 2], _M_RGB_TO_XYZN)  # XYZ / white
    fx, fy, fz = _f(x), _f(y), _f(z)
    lab = ops.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)
    return _out(lab, was_numpy)


def rgb_to_L(rgb):
    """Lightness alone: ``(..., 3)`` sRGB -> ``(..., 1)`` L in [0, 100], as ``rgb_to_lab(rgb)[..., :1]``.

    A third of the work of the full conversion (one cube root per pixel instead of
    three): colorize needs only the photo's L at full resolution.
    """
    t, was_numpy = _as_tensor(rgb)
    _check_channels(t, "rgb_to_L")
    lin = _linear(t)
    m = _M_RGB_TO_XYZN[1]
    y = m[0] * lin[..., 0:1] + m[1] * lin[..., 1:2] + m[2] * lin[..., 2:3]  # Y / white
    return _out(116.0 * _f(y) - 16.0, was_numpy)


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
    t = ops.cast(t, "float32")
    _check_channels(t, "lab_to_rgb")
    L, a, b = t[..., 0], t[..., 1], t[..., 2]
    fy = (L + 16.0) / 116.0
    fx = a / 500.0 + fy
    fz = ops.maximum(fy - b / 200.0, 0.0)

    def inv_f(f):
        return ops.where(f > _LAB_T_INV, f * f * f, (f - _LAB_OFFSET) / _LAB_K)

    lin = _mix3(inv_f(fx), inv_f(fy), inv_f(fz), _M_XYZN_TO_RGB)
    rgb = [ops.where(c > _LIN_T, 1.055 * ops.power(ops.maximum(c, _LIN_T), 1.0 / 2.4) - 0.055, c * 12.92) for c in lin]
    return _out(ops.clip(ops.stack(rgb, axis=-1), 0.0, 1.0), was_numpy)


def split_lab(lab):
    """``(..., 3)`` Lab -> (``(..., 1)`` L, ``(..., 2)`` ab), in Lab units."""
    return lab[..., :1], lab[..., 1:]


def gray_lab(L):
    """The gray baseline: ``(..., 1)`` L -> ``(..., 3)`` Lab with a = b = 0."""
    if ops.is_tensor(L):
        return ops.concatenate([L, ops.zeros_like(L), ops.zeros_like(L)], axis=-1)
    L = np.asarray(L, np.float32)
    return np.concatenate([L, np.zeros_like(L), np.zeros_like(L)], axis=-1)
