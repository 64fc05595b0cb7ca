"""Colour hints: the colours a user knows, as sparse ab (Zhang et al., SIGGRAPH 2017).

A hint says "this spot is this colour". A model that takes hints (``ModelSpec.hints``)
gets, besides L, a hint map ``h x w x 3`` at its working size: the hinted a and b in Lab
units (0 where there is none) and a mask (1 where a hint is, else 0), as the 2017
paper feeds its network. Without hints the map is all zeros, and the model colorizes
automatically; it was trained that way on a quarter of its crops.

Where hints come from:

- **points**: ``[{"x": 120, "y": 45, "color": "#b22234"}, ...]``, x and y in the photo's
  own pixels (0 at the top left), a colour as ``#rrggbb``, ``#rgb`` or ``[r, g, b]``
  (0..255). Each point becomes a ``POINT_SIZE`` x ``POINT_SIZE`` patch of the hint map.
- **a scribble**: an RGBA image the size of the photo, colour strokes on a transparent
  background; every pixel with some opacity is a hint of its colour, weighted by it.
- **the truth** (evaluation, ``reveal``): N points at random positions, each revealing
  the mean ab of the true photo over the patch it covers, as the paper evaluates.
- **training** (``draw`` on the host, ``simulate`` in the compiled step): random
  patches of the augmented crop reveal their mean ab; see ``draw`` for the numbers.

A colour becomes a hint the way the 2017 paper's interface does it: the user's colour
is converted to Lab and its a and b are the hint; its L is dropped, since the output
keeps the photo's own L at every pixel. So "#b22234" (flag red, L 39) on a sky of L 80
gives a light red of the same hue and chroma, not a dark patch (``color_to_ab``).

What the model makes of them: a network given hints as input does not paint them back
exactly: the bundled hint model misses its own hints by 2.6 ab units on average, a
miss the pixels around each hint share. So after the model, ``honour`` adds each
hint's miss back, fading with distance and with difference in lightness (on by default in
``colorpast.colorizer``; benchmarks/RESULTS.md, "Hints honoured").
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from keras import ops

from colorpast import color
from colorpast.errors import UserError

POINT_SIZE = 3  # a point covers 3 x 3 pixels of the model's working size (224 px short side)
MAX_POINTS = 64  # training reveals up to this many patches in a crop
NO_HINTS = 0.25  # share of training crops with no hint: the model must still colorize alone
PATCH_SIZES = (1, 9)  # training patch sides, uniform in this range (the paper's 1 to 9 px)
REACH = 1.25  # a hint's correction fades over this many times the hints' spacing, sqrt(area / hints)
LIGHTNESS = 8.0  # ... and over this difference in L (Lab units): it stays on its object
CARRIED = 8.0  # the most of a miss carried (ab units): a colour the network did not expect stays its own
CELLS = 512  # at most this many groups of hinted pixels; a scribble is grouped coarser
DRAWS = 2 + 3 * MAX_POINTS  # uniforms a training element uses: none?, count, then (y, x, size) per patch
_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def parse_color(value) -> np.ndarray:
    """A colour as ``#rrggbb``, ``#rgb``, ``[r, g, b]`` (0..255) or a name in plain words
    (the CSS colour names: "red", "sky blue", "dark green", "tan") -> float32 RGB in [0, 1].

    Raises UserError naming the value when it does not parse.
    """
    if isinstance(value, str):
        m = _HEX.match(value.strip())
        if not m:
            named = _named(value)
            if named is None:
                raise UserError(f"colour {value!r} does not parse: give a colour name (red, sky blue, tan ...), "
                                "#rrggbb, #rgb or [r, g, b] with 0..255")
            return named
        h = m.group(1)
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], np.float32) / 255.0
    if isinstance(value, (list, tuple)) and len(value) == 3 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 255 for v in value
    ):
        return np.asarray(value, np.float32) / 255.0
    raise UserError(f"colour {value!r} does not parse: give a colour name (red, sky blue, tan ...), "
                    "#rrggbb, #rgb or [r, g, b] with 0..255")


def _named(value: str) -> np.ndarray | None:
    """A CSS colour name, spaces, hyphens and case ignored ("Sky blue" = "skyblue"); None if unknown."""
    from matplotlib.colors import CSS4_COLORS

    key = value.strip().lower().replace(" ", "").replace("-", "").replace("grey", "gray")
    hex_ = CSS4_COLORS.get(key)
    return None if hex_ is None else np.array([int(hex_[i:i + 2], 16) for i in (1, 3, 5)], np.float32) / 255.0


def color_to_ab(value) -> tuple[float, float]:
    """The hint a colour gives: its a and b in Lab units (its L is dropped; the photo's is kept)."""
    lab = color.rgb_to_lab(parse_color(value)[None])[0]
    return float(lab[1]), float(lab[2])


@dataclass(frozen=True)
class Point:
    """One hint: ``x``, ``y`` in the photo's pixels (float), ``ab`` in Lab units."""

    x: float
    y: float
    ab: tuple[float, float]


@dataclass
class Hints:
    """A photo's hints: points, a scribble (``h x w x 3``: a, b, opacity in [0, 1] at the
    photo's size or that of a scaled copy, as the app's canvas is), or both; ``shape`` is
    the photo's ``(H, W)``."""

    shape: tuple[int, int]
    points: list[Point] = field(default_factory=list)
    scribble: np.ndarray | None = None

    def __len__(self) -> int:
        """Points, plus one for a scribble with any stroke."""
        return len(self.points) + int(self.scribble is not None and bool(np.any(self.scribble[..., 2] > 0)))

    def to_map(self, size: tuple[int, int]) -> np.ndarray:
        """The ``h x w x 3`` float32 hint map (a, b, mask) at the model's working ``size``.

        A scribble is area-averaged (ab weighted by opacity; any coverage is a hint);
        a point paints a ``POINT_SIZE`` square centred on it. Where hints overlap, their
        ab is averaged.
        """
        h, w = size
        H, W = self.shape
        acc = np.zeros((h, w, 3), np.float64)  # sum of a * weight, b * weight, weight
        if self.scribble is not None:
            s = self.scribble.astype(np.float32)
            wt = s[..., 2:3]
            small = cv2.resize(np.concatenate([s[..., :2] * wt, wt], axis=-1), (w, h), interpolation=cv2.INTER_AREA)
            acc += small.reshape(h, w, 3)
        for p in self.points:
            y0, x0 = _patch_corner(p.y * h / H, h), _patch_corner(p.x * w / W, w)
            acc[y0:y0 + POINT_SIZE, x0:x0 + POINT_SIZE] += (p.ab[0], p.ab[1], 1.0)
        wt = acc[..., 2:3]
        on = wt > 1e-3
        out = np.zeros((h, w, 3), np.float32)
        out[..., :2] = np.where(on, acc[..., :2] / np.maximum(wt, 1e-3), 0.0)
        out[..., 2:] = on
        return out


def _patch_corner(c: float, n: int) -> int:
    """Top (or left) of the ``POINT_SIZE`` patch centred on coordinate ``c`` of an axis of ``n`` px."""
    return int(min(max(math.floor(c) - POINT_SIZE // 2, 0), max(n - POINT_SIZE, 0)))


def honour(ab, L, hint_map, reach: float = REACH, lightness: float = LIGHTNESS,
           carried: float = CARRIED) -> np.ndarray:
    """The model's ``ab`` (``h x w x 2``, Lab units) made to agree with its ``hint_map``
    (``h x w x 3``, the same size; ``L`` is ``h x w`` or ``h x w x 1``).

    Each hint's miss (its ab less the prediction's, averaged over the pixels it covers)
    is added back to every pixel, weighted by a Gaussian of the distance (its width
    ``reach`` times the hints' spacing, ``sqrt(h w / hints)``: a lone hint reaches across
    the photo, fifty stay local) and one of the difference in L (``lightness``), so a
    hint on a red coat does not tint the white wall beside it. Where several hints reach a
    pixel with weights summing past 1, their corrections are averaged (Nadaraya-Watson);
    below 1 the correction fades to none. A hint pixel thus ends near its hint's colour.
    A miss longer than ``carried`` (ab units) is carried at that length: the network
    already paints a colour it did not expect around its hint, and carrying all of the
    miss to every pixel of that lightness would tint the photo with it (0: all of it).

    Hinted pixels go in groups of ``POINT_SIZE`` squares (a point: one hint), coarser
    while there are more than ``CELLS`` groups (a scribble); ``reach`` 0 returns ``ab``.
    Chosen on the validation photos of photos-all (RESULTS, "Hints honoured").
    """
    ab = np.asarray(ab, np.float32)
    mask = np.asarray(hint_map)[..., 2] > 0
    if reach <= 0 or not mask.any():
        return ab
    h, w = mask.shape
    L = np.asarray(L, np.float32).reshape(h, w)
    ys, xs = np.nonzero(mask)
    miss = np.asarray(hint_map, np.float32)[ys, xs, :2] - ab[ys, xs]
    cell = POINT_SIZE
    while True:
        key = (ys // cell) * (w // cell + 1) + xs // cell
        groups, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        if len(groups) <= CELLS:
            break
        cell *= 2

    def mean(v):
        return np.bincount(inverse, weights=v, minlength=len(groups)) / counts

    gy, gx, gl = mean(ys.astype(np.float64)), mean(xs.astype(np.float64)), mean(L[ys, xs].astype(np.float64))
    gm = np.stack([mean(miss[:, 0]), mean(miss[:, 1])], axis=-1)
    if carried > 0:
        gm *= np.minimum(1.0, carried / np.maximum(np.hypot(gm[:, 0], gm[:, 1]), 1e-9))[:, None]
    weight = counts / float(POINT_SIZE * POINT_SIZE)  # a point's patch weighs 1
    sigma = reach * math.sqrt(h * w / max(weight.sum(), 1.0))
    num = np.zeros((h * w, 2), np.float32)
    den = np.zeros(h * w, np.float32)
    Lf = L.reshape(1, -1)
    for i in range(0, len(groups), 16):  # 16 groups at a time: 16 x h x w floats, whatever the scribble
        s = slice(i, i + 16)
        wy = np.exp(-((np.arange(h)[None, :] - gy[s, None]) ** 2) / (2 * sigma**2)).astype(np.float32)  # k x h
        wx = np.exp(-((np.arange(w)[None, :] - gx[s, None]) ** 2) / (2 * sigma**2)).astype(np.float32)  # k x w
        wt = np.exp(-((Lf - gl[s, None].astype(np.float32)) ** 2) / np.float32(2 * lightness**2))  # k x hw
        wt *= (weight[s, None, None].astype(np.float32) * wy[:, :, None] * wx[:, None, :]).reshape(len(wy), -1)
        num += wt.T @ gm[s].astype(np.float32)
        den += wt.sum(axis=0)
    num, den = num.reshape(h, w, 2), den.reshape(h, w)
    return (ab + num / np.maximum(den, 1.0)[..., None]).astype(np.float32)


def empty_map(size: tuple[int, int]) -> np.ndarray:
    """No hints: ``h x w x 3`` zeros."""
    return np.zeros((*size, 3), np.float32)


def points(items, shape, source: str = "hints") -> Hints:
    """Hints from ``[{"x": .., "y": .., "color": ..}, ...]`` for a photo of ``shape`` (H, W).

    A point outside the photo, a missing key or a colour that does not parse raises
    UserError naming the point.
    """
    H, W = shape
    if not isinstance(items, list):
        raise UserError(f"{source}: expected a list of points like [{{\"x\": 120, \"y\": 45, \"color\": \"#b22234\"}}]")
    out = []
    for i, it in enumerate(items, start=1):
        if not isinstance(it, dict) or not {"x", "y", "color"} <= set(it):
            raise UserError(f"{source}: point {i} needs x, y and color, got {it!r}")
        x, y = it["x"], it["y"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (x, y)):
            raise UserError(f"{source}: point {i} has non-numeric x or y ({x!r}, {y!r})")
        if not (0 <= x < W and 0 <= y < H):
            raise UserError(f"{source}: point {i} (x={x}, y={y}) is outside the {W} x {H} photo")
        try:
            ab = color_to_ab(it["color"])
        except UserError as e:
            raise UserError(f"{source}: point {i}: {e}") from None
        out.append(Point(float(x), float(y), ab))
    return Hints(tuple(shape), points=out)


def scribble(rgba, shape, source: str = "scribble", scaled: bool = False) -> Hints:
    """Hints from an RGBA image (``H x W x 4`` uint8) the size of the photo; with ``scaled``,
    of a copy of the photo scaled down or up (the app's canvas), the same shape to a pixel.

    Every pixel with some opacity is a hint of its colour, weighted by its opacity.
    A scribble of another size, or without an alpha channel, raises UserError.
    """
    a = np.asarray(rgba)
    H, W = shape
    if a.ndim != 3 or a.shape[-1] != 4:
        raise UserError(f"{source} has no transparency: draw the colour strokes on a transparent background (RGBA PNG)")
    if scaled and abs(a.shape[0] - a.shape[1] * H / W) > 1:
        raise UserError(f"{source} is {a.shape[1]} x {a.shape[0]}, not the shape of the {W} x {H} photo")
    if not scaled and a.shape[:2] != (H, W):
        raise UserError(f"{source} is {a.shape[1]} x {a.shape[0]} but the photo is {W} x {H}: draw it at the photo's size")
    alpha = a[..., 3].astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)
    rgb = a[..., :3].astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)
    ab = color.rgb_to_lab(rgb)[..., 1:]
    return Hints(tuple(shape), scribble=np.concatenate([ab * (alpha[..., None] > 0), alpha[..., None]], axis=-1))


def load(spec, shape) -> Hints:
    """Hints for a photo of ``shape`` (H, W) from what a user gives:

    a ``.json`` file of points, an image file (a scribble), a list of point dicts, an
    RGBA array, or ``Hints`` (returned as they are, after a size check).
    """
    if isinstance(spec, Hints):
        if tuple(spec.shape) != tuple(shape):
            raise UserError(f"hints made for a {spec.shape[1]} x {spec.shape[0]} photo, but it is {shape[1]} x {shape[0]}")
        return spec
    if isinstance(spec, list):
        return points(spec, shape)
    if isinstance(spec, np.ndarray):
        return scribble(spec, shape)
    p = Path(spec)
    if not p.is_file():
        raise UserError(f"{p}: no such hints file (give a .json list of points or a scribble .png)")
    if p.suffix.lower() == ".json":
        try:
            items = json.loads(p.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise UserError(f"{p}: not valid JSON ({e.__class__.__name__}: {e})") from None
        return points(items, shape, source=str(p))
    from PIL import Image, UnidentifiedImageError  # only for scribble files

    try:
        with Image.open(p) as im:
            rgba = np.asarray(im.convert("RGBA")) if "A" in im.getbands() or "transparency" in im.info else np.asarray(im)
    except (UnidentifiedImageError, OSError) as e:
        raise UserError(f"{p}: not a readable scribble image ({e.__class__.__name__})") from None
    return scribble(rgba, shape, source=str(p))


def reveal(truth_rgb, n: int, size: tuple[int, int], seed: int = 0) -> Hints:
    """``n`` hints from the true colours, as the 2017 paper evaluates: points at uniformly
    random positions of the photo, each revealing the true mean ab over the
    ``POINT_SIZE`` patch of the working ``size`` it covers. Deterministic in ``seed``.
    """
    t = np.asarray(truth_rgb)
    H, W = t.shape[:2]
    h, w = size
    rng = np.random.default_rng([int(seed), 2017])
    ab = color.rgb_to_lab(t.astype(np.float32) / (255.0 if t.dtype == np.uint8 else 1.0))[..., 1:]
    ab_small = cv2.resize(np.ascontiguousarray(ab), (w, h), interpolation=cv2.INTER_AREA).reshape(h, w, 2)
    out = []
    for x, y in zip(rng.uniform(0, W, n), rng.uniform(0, H, n)):
        y0, x0 = _patch_corner(y * h / H, h), _patch_corner(x * w / W, w)
        m = ab_small[y0:y0 + POINT_SIZE, x0:x0 + POINT_SIZE].reshape(-1, 2).mean(axis=0)
        out.append(Point(float(x), float(y), (float(m[0]), float(m[1]))))
    return Hints((H, W), points=out)


# ----------------------------------------------------------------------------------
# Training: drawn on the host, applied in the compiled step.


def draw(u: np.ndarray, crop: int) -> np.ndarray:
    """``n x MAX_POINTS x 4`` float32 patches (top, left, side, on) from ``n x DRAWS`` uniforms.

    A quarter of the crops (``NO_HINTS``) get none, so the model keeps colorizing on its
    own. The others get a log-uniform number of patches in 1..``MAX_POINTS`` (as many
    crops with 1 to 8 as with 8 to 64, the range the evaluation sweeps: 1, 5, 10, 50);
    each patch is a square of side uniform in 1..9 px (the 2017 paper's) at a uniformly
    random position, and reveals the true mean ab under it (``simulate``). The paper
    draws its count from a geometric distribution (p = 1/8, mean 7), which almost never
    reaches the 50 points its own evaluation goes to.
    """
    u = np.asarray(u, np.float64).reshape(-1, DRAWS)
    n = len(u)
    count = np.floor(np.exp(u[:, 1] * math.log(MAX_POINTS + 1))).clip(1, MAX_POINTS)
    count = np.where(u[:, 0] < NO_HINTS, 0, count)
    pts = u[:, 2:].reshape(n, MAX_POINTS, 3)
    lo, hi = PATCH_SIZES
    side = np.floor(lo + pts[..., 2] * (hi - lo + 1)).clip(lo, hi)
    top = np.floor(pts[..., 0] * (crop - side + 1))
    left = np.floor(pts[..., 1] * (crop - side + 1))
    on = (np.arange(MAX_POINTS)[None, :] < count[:, None]).astype(np.float64)
    return np.stack([top, left, side, on], axis=-1).astype(np.float32)


def simulate(ab, patches):
    """The hint map of training: ``N x H x W x 2`` true ab (Lab units) and ``N x K x 4``
    patches from ``draw`` -> ``N x H x W x 3`` (a, b, mask), in ``keras.ops``.

    Each patch reveals the mean ab under it; overlapping patches average. Written as
    row and column indicators and einsums (no scatter), so every backend compiles it
    and the work is ``N K H W`` multiply-adds.
    """
    h, w = ops.shape(ab)[1], ops.shape(ab)[2]
    top, left, side, on = (patches[..., i] for i in range(4))  # each N x K
    ys = ops.arange(h, dtype="float32")[None, None, :]
    xs = ops.arange(w, dtype="float32")[None, None, :]
    rows = ops.cast((ys >= top[..., None]) & (ys < (top + side)[..., None]), "float32")  # N x K x H
    cols = ops.cast((xs >= left[..., None]) & (xs < (left + side)[..., None]), "float32")  # N x K x W
    ab = ops.cast(ab, "float32")
    sums = ops.einsum("nkw,nkwc->nkc", cols, ops.einsum("nkh,nhwc->nkwc", rows, ab))  # N x K x 2
    means = sums / ops.maximum(side * side, 1.0)[..., None]
    cols_on = cols * on[..., None]
    total = ops.einsum("nkh,nkw,nkc->nhwc", rows, cols_on, means)  # N x H x W x 2
    count = ops.einsum("nkh,nkw->nhw", rows, cols_on)[..., None]  # N x H x W x 1
    mask = ops.cast(count > 0, "float32")
    return ops.concatenate([total / ops.maximum(count, 1.0), mask], axis=-1)
