"""The 313 quantized ab bins of Colorful (Zhang, Isola, Efros 2016) and the maths on them.

The ab plane is cut into 10 x 10 cells; the 313 cells that colours of the sRGB gamut
fall into are the classes. Their centres are computed here from one row per value of
a (the range of b kept for it), in exactly the order of the official
``resources/pts_in_hull.npy``: a ascending, then b ascending. ``pts_in_hull_bytes()``
serializes them as that file does (int64, NumPy format 1.0) and the tests check its
sha256 against the published one, so the class index ``q`` means the same bin here as
in the official weights.

Everything in Lab units (a and b roughly -110..110). Tensor functions are ``keras.ops``
(any backend) that batch over leading dimensions and run in-graph (inside a loss).
"""

from __future__ import annotations

import numpy as np
from keras import ops

GRID = 10.0  # bin spacing in Lab units
Q = 313  # number of in-gamut bins
SIGMA = 5.0  # Gaussian sigma (Lab units) of soft encoding and of prior smoothing
NEIGHBOURS = 5  # soft encoding spreads each ab over its 5 nearest bins
MIX = 0.5  # lambda: rebalancing weights mix the smoothed prior with uniform

# sha256 of the official resources/pts_in_hull.npy (5088 bytes), as pinned by the
# OpenVINO model zoo (models/public/colorization-v2/model.yml).
PTS_IN_HULL_SHA256 = "b5dec01315c34f43f1c8c089e84c45ae35d1838d8e77ed0e7ca930f79ffa450e"

# (a, lowest b, highest b) of the kept bins, every 10 units; 20 rows, 313 bins.
_ROWS = (
    (-90, 50, 90), (-80, 20, 90), (-70, 0, 90), (-60, -20, 90), (-50, -30, 100),
    (-40, -40, 100), (-30, -50, 100), (-20, -50, 100), (-10, -60, 100), (0, -70, 100),
    (10, -80, 90), (20, -80, 90), (30, -90, 90), (40, -100, 90), (50, -100, 80),
    (60, -110, 80), (70, -110, 80), (80, -110, 70), (90, -110, 70), (100, -90, 0),
)


def ab_bins() -> np.ndarray:
    """The ``313 x 2`` bin centres (a, b) in Lab units, float32, in the official order."""
    pts = [(a, b) for a, lo, hi in _ROWS for b in range(lo, hi + 1, int(GRID))]
    return np.asarray(pts, np.float32)


def pts_in_hull_bytes() -> bytes:
    """The bins serialized exactly as the official ``pts_in_hull.npy`` (for its checksum)."""
    arr = ab_bins().astype("<i8")
    header = "{'descr': '<i8', 'fortran_order': False, 'shape': (313, 2), }"
    header += " " * ((-(len(header) + 11)) % 16) + "\n"  # NumPy 1.0 pads to 16 bytes
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + arr.tobytes()


def nearest_bin_lut() -> np.ndarray:
    """``23 x 23`` int32: for the grid point (a, b) = (-110 + 10 i, -110 + 10 j), the index
    of the nearest bin (the bin itself where the point is one). Rounding ab to the grid
    and looking it up gives the hard (nearest-bin) class of a pixel."""
    g = np.arange(-110.0, 111.0, GRID)
    pts = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    d = ((pts[:, None, :] - ab_bins()[None].astype(np.float64)) ** 2).sum(-1)
    return d.argmin(1).astype(np.int32).reshape(len(g), len(g))


def hard_encode_np(ab: np.ndarray) -> np.ndarray:
    """``... x 2`` ab (Lab units, NumPy) -> ``...`` int32 index of the nearest bin (via the grid)."""
    idx = np.clip(np.rint((np.asarray(ab, np.float64) + 110.0) / GRID), 0, 22).astype(np.int64)
    return nearest_bin_lut()[idx[..., 0], idx[..., 1]]


def soft_encode(ab, sigma: float = SIGMA, neighbours: int = NEIGHBOURS):
    """``N x h x w x 2`` ab (Lab units) -> ``N x h x w x 313`` soft one-hot target.

    Each pixel's mass goes to its ``neighbours`` nearest bins with weights
    ``exp(-d^2 / (2 sigma^2))`` normalised to sum 1 (the paper: 5 neighbours, sigma 5).
    """
    ab = ops.cast(ops.convert_to_tensor(ab), "float32")
    centres = ops.convert_to_tensor(ab_bins())
    d2 = ops.sum(ops.square(ab[..., None, :] - centres), axis=-1)  # N x h x w x 313
    neg, idx = ops.top_k(-d2, k=neighbours)  # N x h x w x k
    wts = ops.softmax(neg / (2.0 * sigma**2), axis=-1)  # = normalised Gaussian weights
    # One 313-wide one-hot per neighbour, summed: never an N x h x w x k x 313 tensor.
    return sum(ops.one_hot(idx[..., i], Q) * wts[..., i : i + 1] for i in range(neighbours))


def smooth_prior(prior, sigma: float = SIGMA) -> np.ndarray:
    """Gaussian-smooth a 313-bin distribution over the ab plane (sigma in Lab units).

    Each bin's mass is spread over the bins with weights ``exp(-d^2 / (2 sigma^2))``
    normalised per source bin, so the total mass stays 1.
    """
    p = np.asarray(prior, np.float64).reshape(Q)
    c = ab_bins().astype(np.float64)
    k = np.exp(-((c[:, None] - c[None]) ** 2).sum(-1) / (2 * sigma**2))  # k[to, from]
    k /= k.sum(0, keepdims=True)
    out = k @ p
    return out / out.sum()


def rebalance_weights(prior, sigma: float = SIGMA, mix: float = MIX) -> np.ndarray:
    """Class-rebalancing weights ``w`` (313, float32) from an empirical ab prior.

    ``w ~ 1 / ((1 - mix) * smooth(prior) + mix / 313)``, scaled so that its expectation
    under the smoothed prior is 1 (Zhang et al. 2016, eq. 4: sigma 5, lambda 0.5).
    """
    p = np.asarray(prior, np.float64).reshape(-1)
    if p.shape != (Q,) or not np.all(np.isfinite(p)) or p.min() < 0 or p.sum() <= 0:
        raise ValueError(f"a prior is 313 non-negative numbers with a positive sum; got shape {p.shape}")
    ps = smooth_prior(p / p.sum(), sigma)
    w = 1.0 / ((1.0 - mix) * ps + mix / Q)
    w /= (ps * w).sum()
    return w.astype(np.float32)


def annealed_mean(logits, temperature: float):
    """``... x 313`` logits -> ``... x 2`` ab (Lab units): the mean of softmax(logits / T).

    Equals re-normalising ``p ** (1 / T)`` of the softmax distribution p: T = 1 gives
    the mean, T towards 0 the mode.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    p = ops.softmax(ops.cast(ops.convert_to_tensor(logits), "float32") / float(temperature), axis=-1)
    return ops.matmul(p, ops.convert_to_tensor(ab_bins()))
