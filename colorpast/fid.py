"""FID with the FID Inception the colorization papers use, in Keras, on any backend.

Colorization papers (ColorFormer, BigColor, CT2, DDColor, MultiColor) report FID with
pytorch-fid, clean-fid or torch-fidelity, which all use the same network, pytorch-fid's
FID Inception (``colorpast.models.fid_inception`` says how it differs from torchvision's).

Why a port and not a dependency: those packages need PyTorch (an 800 MB install) and
run only on it; the port reads the same ``.pth`` without torch (``colorpast.weights``)
and runs on TensorFlow, JAX or PyTorch. ``tests/test_fid.py`` checks it layer for layer
against a PyTorch reference of pytorch-fid's network with random weights. The network
and its conversion live in ``colorpast.models.fid_inception``; this module computes
features, cached reference statistics and FID with it.

The model: ``N x H x W x 3`` RGB in [0, 1] -> bilinear resize to 299 x 299 (half-pixel
centres, no antialiasing: PyTorch's ``interpolate(..., align_corners=False)``) ->
``2 x - 1`` -> the network -> global average pool: ``N x 2048`` features.
Images are quantized to 8 bits first, as the papers' saved PNG outputs are.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import keras
import numpy as np

from colorpast import metrics
from colorpast.fsutil import atomic_write
from colorpast.models.fid_inception import (  # noqa: F401 - the network's names, also offered as fid.X
    CONVERTED,
    SIZE,
    build_inception,
    convert,
    inception_from_state_dict,
    load_inception,
    weights_path,
)

FEATURES = 2048
MIN_IMAGES = 1000  # below this FID is strongly biased (and papers use 5,000 or 50,000)


def _to_input(img) -> np.ndarray:
    """``H x W x 3`` uint8 or float in [0, 1] -> ``299 x 299 x 3`` float32, quantized to 8 bits
    first (as a saved PNG is) and resized as pytorch-fid does."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        a = np.rint(np.clip(a.astype(np.float64), 0, 1) * 255.0).astype(np.uint8)
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"an image must be H x W x 3, got {a.shape}")
    x = a.astype(np.float32)[None] / 255.0
    if a.shape[:2] != (SIZE, SIZE):
        x = keras.ops.convert_to_numpy(
            keras.ops.image.resize(x, (SIZE, SIZE), interpolation="bilinear", antialias=False)
        )
    return x[0]


def features(images, model=None, batch_size: int = 25) -> np.ndarray:
    """``N x 2048`` float64 FID Inception features of ``images`` (a sequence of ``H x W x 3``
    uint8 or float RGB in [0, 1], any sizes; each is resized to 299 x 299 on its own)."""
    model = model if model is not None else load_inception()
    images = list(images)
    out = []
    for i in range(0, len(images), batch_size):
        batch = np.stack([_to_input(im) for im in images[i:i + batch_size]])
        out.append(np.asarray(model.predict_on_batch(batch), np.float64))
    return np.concatenate(out) if out else np.zeros((0, FEATURES))


def _set_key(images, model) -> str:
    """A content hash of a set of images and of the network's weights."""
    h = hashlib.sha256()

    for w in model.weights:  # a slice of each variable is cheap and tells weight files apart
        h.update(np.asarray(keras.ops.convert_to_numpy(w), np.float32).tobytes()[:4096])
    for im in images:
        a = np.ascontiguousarray(im)
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def reference_stats(images, model=None, cache_dir=None, log=print):
    """Mean and covariance of the features of a reference set (the real photos), cached.

    The cache file is named by a hash of the images' pixels and of the network's
    weights, so a changed photo, crop or weights file never reuses stale statistics.
    Returns ``(mu, sigma, n)``.
    """
    model = model if model is not None else load_inception()
    images = list(images)
    cache_dir = Path(cache_dir) if cache_dir is not None else weights_path().parent / "fid_stats"
    path = cache_dir / f"{_set_key(images, model)[:24]}.npz"
    if path.is_file():
        with np.load(path) as z:
            return z["mu"], z["sigma"], int(z["n"])
    mu, sigma = metrics.gaussian_stats(features(images, model))
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "wb") as f:
        np.savez(f, mu=mu, sigma=sigma, n=len(images))
    log(f"FID reference statistics of {len(images)} photos cached in {path}")
    return mu, sigma, len(images)


def fid(images, reference, model=None) -> float:
    """FID of ``images`` against ``reference`` = ``(mu, sigma, n)`` from :func:`reference_stats`.

    Warns when either set has fewer than 1,000 images: FID is then strongly biased
    upwards and only comparable with FIDs over the same number of images.
    """
    mu_r, sigma_r, n_r = reference
    images = list(images)
    n = min(len(images), n_r)
    if n < MIN_IMAGES:
        warnings.warn(small_n_note(n), stacklevel=2)
    mu, sigma = metrics.gaussian_stats(features(images, model))
    return metrics.frechet_distance_from_stats(mu, sigma, mu_r, sigma_r)


def small_n_note(n: int) -> str:
    return (
        f"FID over {n} images: below {MIN_IMAGES:,} FID is strongly biased upwards; compare it only "
        "with FIDs over the same images (papers use ImageNet val 5,000 or 50,000)"
    )
