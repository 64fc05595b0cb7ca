"""A photo's full-resolution steps, in bands of rows: its L, that L averaged down for the
model, and its own L joined with an upsampled ab and turned back into RGB.

A photo stays in its own dtype (uint8 from a file); only one band at a time, of about
``BAND_PIXELS`` pixels, is float. ``colorizer`` decides what to keep (the whole L, or none
above its ``LEAN_PIXELS``) and runs the model; this module does the pixel work. Measured
with ``benchmarks/bench_colorize_memory.py`` (RESULTS.md, "Colorize: memory of 40 MP scans"
and "... of 300 MP scans").
"""

from __future__ import annotations

import cv2
import numpy as np
from keras import ops

from colorpast import color, devices

# The full-resolution steps are elementwise over millions of pixels: compiled, they fuse
# into one pass (on the 2-core CPU with TensorFlow's XLA, 12 MP: L 0.15 s instead of
# 0.5 s, Lab -> RGB 0.15 s instead of 0.6 s). They run in bands of rows, the last one
# padded to the others' height, so they compile once per photo width.
BAND_PIXELS = 1 << 20 # about 1 MP a band: float32 temporaries of 12 MB, not of 480 MB for a 40 MP scan


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


def _full_res_L(rgb):
    """``h x W x 3`` float RGB -> ``h x W x 1`` L (0..100)."""
    return color.rgb_to_L(rgb)


def _compose_band(L, across, lo, hi, frac):
    """A band's ``h x W x 1`` L (the photo's own) and its ab -> ``h x W x 3`` RGB.

    The ab of band row ``i`` lies between rows ``lo[i]`` and ``hi[i]`` of ``across``
    (``hs x W x 2``, the small ab already resized across), at ``frac[i]`` (``h x 1 x 1``)."""
    ab = ops.take(across, lo, axis=0) * (1.0 - frac) + ops.take(across, hi, axis=0) * frac
    return color.lab_to_rgb(ops.concatenate([L, ab], axis=-1))


def _compose_band_rgb(rgb, across, lo, hi, frac):
    """:func:`_compose_band` from a band of the photo itself (``h x W x 3`` float RGB), its L made here."""
    return _compose_band(color.rgb_to_L(rgb), across, lo, hi, frac)


_COMPILED: dict = {}


def _compiled(fn):
    """``fn`` compiled for the active backend, once per process."""
    if fn not in _COMPILED:
        _COMPILED[fn] = devices.jit(fn)
    return _COMPILED[fn]


def resize_area(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``H x W x C`` float32 -> ``h x w x C`` by area averaging (OpenCV's INTER_AREA), on the host."""
    h, w = size
    out = cv2.resize(np.ascontiguousarray(a), (w, h), interpolation=cv2.INTER_AREA)
    return out.reshape(h, w, a.shape[-1])


def _bands(height: int, width: int):
    """``(y0, y1, rows)``: bands of ``rows`` rows (the last may be shorter) of about BAND_PIXELS."""
    rows = max(1, min(height, BAND_PIXELS // max(width, 1)))
    for y0 in range(0, height, rows):
        yield y0, min(height, y0 + rows), rows


def _run_band(fn, rows: int, band, *more, whole=()):
    """``fn`` (compiled) on ``band`` and the bands ``more``, each padded to ``rows`` rows with
    its last row (one traced shape per width), and the ``whole`` arrays as they are
    (after ``band``); cut back to the band's height."""
    n = len(band)
    padded = [b if n == rows else np.concatenate([b, np.repeat(b[-1:], rows - n, axis=0)]) for b in (band, *more)]
    args = [padded[0], *whole, *padded[1:]]
    return ops.convert_to_numpy(_compiled(fn)(*map(ops.convert_to_tensor, args)))[:n]


def full_res_L(image) -> np.ndarray:
    """The photo's L at full resolution (``H x W x 1`` float32, 0..100), band by band: the
    photo stays in its own dtype, and only one band at a time is float RGB."""
    h, w = image.shape[:2]
    L = np.empty((h, w, 1), np.float32)
    for y0, y1, rows in _bands(h, w):
        L[y0:y1] = _run_band(_full_res_L, rows, _as_rgb_float(image[y0:y1]))
    return L


def small_L(image, size: tuple[int, int]) -> np.ndarray:
    """The photo's L area-averaged to ``size`` (``h x w x 1`` float32), made band by band:
    each band's L is averaged across to ``w`` columns, then the ``H x w`` column of bands
    down to ``h`` rows. Area averaging is separable, so this is ``resize_area(full_res_L(image),
    size)`` to float rounding, without the photo's L at full size (1.2 GB for a 300 MP scan)."""
    H, W = image.shape[:2]
    h, w = size
    across = np.empty((H, w, 1), np.float32)
    for y0, y1, rows in _bands(H, W):
        L = _run_band(_full_res_L, rows, _as_rgb_float(image[y0:y1]))
        across[y0:y1] = resize_area(L, (y1 - y0, w))
    return resize_area(across, (h, w))


def _compose(image, ab_small, dtype=np.float32, out=None, bgr: bool = False, L=None) -> np.ndarray:
    """The photo's own full-resolution L + ``h x w x 2`` ab upsampled bilinearly -> ``H x W
    x 3`` RGB, float32 in [0, 1] or uint8 (rounded), made band by band: from ``L`` (``H x W
    x 1``, :func:`full_res_L`) when given, else from ``image`` (in its own dtype), each
    band's L made as it is needed.

    ``out``: the array to write into; it may be ``image`` itself (an ``H x W x 3`` uint8
    photo becomes its colorized self, band by band, each band read before it is written),
    so that a 300 MP scan costs one photo's memory, not three. ``bgr``: channels in
    OpenCV's order (for ``cv2.imwrite``).

    The upsampling is ``ops.image.resize``'s bilinear (half-pixel centres, edges held),
    done as its two separable passes: across, once, to ``h x W`` on the host; down, in
    each band's compiled step."""
    h, w = image.shape[:2]
    hs = ab_small.shape[0]
    across = cv2.resize(np.ascontiguousarray(ab_small, np.float32), (w, hs), interpolation=cv2.INTER_LINEAR)
    across = across.reshape(hs, w, 2)
    src = np.clip((np.arange(h) + 0.5) * (hs / h) - 0.5, 0, hs - 1)
    lo = np.floor(src).astype(np.int32)
    hi = np.minimum(lo + 1, hs - 1)
    frac = (src - lo).astype(np.float32)[:, None, None]
    if out is None:
        out = np.empty((h, w, 3), dtype)
    for y0, y1, rows in _bands(h, w):
        if L is not None:
            rgb = _run_band(_compose_band, rows, L[y0:y1], lo[y0:y1], hi[y0:y1], frac[y0:y1], whole=(across,))
        else:
            rgb = _run_band(_compose_band_rgb, rows, _as_rgb_float(image[y0:y1]), lo[y0:y1], hi[y0:y1], frac[y0:y1],
                            whole=(across,))
        if bgr:
            rgb = rgb[..., ::-1]
        out[y0:y1] = rgb if out.dtype == np.float32 else np.clip(np.rint(rgb * 255), 0, 255)
    return out

