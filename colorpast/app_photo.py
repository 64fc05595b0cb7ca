"""The app's work on one photo, without Gradio: what the page shows of it, the editor's
strokes as hints, and one press of Colorize (:func:`colorize_photo`).

Any photo colorpast reads goes through, up to ``photofiles.MAX_PIXELS`` (300 MP): the
page shows copies at most ``photos.DISPLAY_WIDTH`` wide (a HEIC too, which browsers
cannot draw), the strokes stay at the size of the canvas they were painted on, and the
result is made in uint8 in the photo's own memory (``colorizer.colorize_into``), so a
300 MP scan costs its pixels once, as ``colorpast colorize`` does. Each photo's result
has a name no other result takes (:func:`result_path`).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from colorpast import colorizer, hints as hint_tools, photofiles
from colorpast.photos import DISPLAY_WIDTH, fit_width

PNG_LEVEL = 1  # zlib level: 1 writes a megapixel in a quarter of the time 6 takes, files 10-20 % larger


def _over(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """``top`` composited over ``bottom``, both ``H x W x 4`` float RGBA in [0, 1]."""
    at, ab = top[..., 3:], bottom[..., 3:]
    a = at + ab * (1.0 - at)
    rgb = (top[..., :3] * at + bottom[..., :3] * ab * (1.0 - at)) / np.maximum(a, 1e-6)
    return np.concatenate([rgb, a], axis=-1)


def strokes_to_scribble(layers) -> np.ndarray | None:
    """The editor's stroke layers -> a scribble: ``h x w x 4`` uint8 RGBA at the size of the
    canvas they were painted on (a copy of the photo at most ``photos.DISPLAY_WIDTH``
    wide), strokes on transparency, as ``hints.scribble(..., scaled=True)`` reads it;
    None when nothing is painted. Layers of another size than the first are scaled to it.

    ``layers``: the editor's value (``{"layers": [...], ...}``) or its list of layers,
    each ``h x w x 4`` uint8.
    """
    if isinstance(layers, dict):
        layers = layers.get("layers") or []
    arrays = [np.asarray(x) for x in (layers or []) if x is not None]
    arrays = [a for a in arrays if a.ndim == 3 and a.shape[-1] == 4 and a[..., 3].any()]
    if not arrays:
        return None
    h, w = arrays[0].shape[:2]
    acc = np.zeros((h, w, 4), np.float32)
    for a in arrays:  # bottom layer first, as the editor stacks them
        if a.shape[:2] != (h, w):
            a = cv2.resize(a, (w, h), interpolation=cv2.INTER_NEAREST)
        acc = _over(a.astype(np.float32) / 255.0, acc)
    return np.clip(np.rint(acc * 255), 0, 255).astype(np.uint8)


def _weighted(scribble: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A scribble (``h x w x 3``: a, b, opacity) at another ``size``, its ab averaged by opacity."""
    h, w = size
    wt = scribble[..., 2:3]
    acc = cv2.resize(np.concatenate([scribble[..., :2] * wt, wt], -1), (w, h), interpolation=cv2.INTER_AREA)
    acc = acc.reshape(h, w, 3)
    on = acc[..., 2:] > 1e-6
    return np.concatenate([np.where(on, acc[..., :2] / np.maximum(acc[..., 2:], 1e-6), 0.0), acc[..., 2:]], -1)


def hints_for(shape, strokes=None, hints_file=None) -> hint_tools.Hints | None:
    """The photo's hints: painted strokes (a scribble from :func:`strokes_to_scribble`, at
    its canvas's size) and/or an uploaded hints file (a scribble PNG the photo's size or a
    JSON list of points); where both colour a pixel, the painted stroke wins (the two
    scribbles met at the smaller one's size). None when there are neither."""
    given = hint_tools.load(hints_file, shape) if hints_file else None
    painted = None if strokes is None else hint_tools.scribble(strokes, shape, source="the painted strokes", scaled=True)
    if given is None or painted is None:
        return painted if given is None else given
    if given.scribble is None:
        return hint_tools.Hints(tuple(shape), points=given.points, scribble=painted.scribble)
    p, g = painted.scribble, given.scribble
    size = min(p.shape[:2], g.shape[:2], key=lambda s: s[0] * s[1])
    p, g = (x if x.shape[:2] == size else _weighted(x, size) for x in (p, g))
    return hint_tools.Hints(tuple(shape), points=given.points, scribble=np.where(p[..., 2:] > 0, p, g))


def to_uint8(rgb) -> np.ndarray:
    """Float RGB in [0, 1] -> uint8, rounded."""
    return np.clip(np.rint(np.asarray(rgb) * 255), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Shown:
    """What the page shows of a photo on upload, each at most ``DISPLAY_WIDTH`` wide, uint8."""

    preview: np.ndarray  # h x w x 3: the photo itself (a HEIC or a 300 MP scan, which a browser cannot show)
    gray: np.ndarray  # h x w x 3: its L alone (ab = 0): before, and the canvas to paint hints on
    shape: tuple[int, int]  # the photo's own (H, W)


def shown(photo) -> Shown:
    """:class:`Shown` of a photo file, remembered (read-only): the page shows it on upload
    and beside every result, and reading a photo takes 0.2 s a megapixel (RESULTS.md)."""
    p = Path(photo).resolve()
    return _shown(str(p), p.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _shown(path: str, mtime_ns: int) -> Shown:
    rgb = photofiles.read_image(path)
    preview = np.ascontiguousarray(fit_width(rgb, DISPLAY_WIDTH))
    out = Shown(preview, to_uint8(colorizer.gray(preview)), rgb.shape[:2])
    for a in (out.preview, out.gray):
        a.setflags(write=False)
    return out


def result_path(photo, out_dir, names: dict) -> Path:
    """Where ``photo``'s result goes: ``out_dir/NAME_colorized.png``, once per photo (a photo
    colorized again, with other hints, replaces its own result). A name another photo's
    result holds, on disk or earlier on this page, is never taken: ``NAME-png_colorized.png``
    for ``NAME.png`` after ``NAME.jpg``, then ``-2``, ``-3`` ... ``names``: the page's
    record of {photo file: its result}, kept between presses."""
    key = str(Path(photo).resolve())
    if key in names:
        return names[key]
    p, taken = Path(photo), set(names.values())
    first = Path(out_dir) / f"{p.stem}_colorized.png"
    twin = Path(out_dir) / f"{p.stem}-{p.suffix.lstrip('.').lower()}_colorized.png"
    candidate, n = (first if not first.exists() and first not in taken else twin), 2
    while candidate.exists() or candidate in taken:
        candidate, n = twin.with_name(f"{twin.stem}-{n}.png"), n + 1
    names[key] = candidate
    return candidate


@dataclass
class Result:
    before: np.ndarray  # h x w x 3 uint8: the gray photo, at most DISPLAY_WIDTH wide
    after: np.ndarray  # h x w x 3 uint8: the colorized photo, the same size
    png: Path  # the full-resolution colorized photo
    message: str


def colorize_photo(photo, model, out_dir, strokes=None, hints_file=None, model_ref: str = "",
                   normalize: bool = False, saturation: float = 1.0, names: dict | None = None) -> Result:
    """The page's one function: a photo file, a model, the editor's strokes and an
    optional hints file -> before and after for display, and the full-resolution PNG
    in ``out_dir`` (:func:`result_path`; ``names``: the page's record of them).
    ``normalize`` and ``saturation`` are :func:`colorpast.colorizer.colorize`'s (a faded
    print; colour strength). Mistakes raise UserError (one line)."""
    before = shown(photo).gray
    rgb = photofiles.read_image(photo)
    shape = rgb.shape[:2]
    painted = strokes_to_scribble(strokes)
    given = hints_for(shape, painted, hints_file)
    start = time.perf_counter()
    bgr = colorizer.colorize_into(rgb, model, hints=given, normalize=bool(normalize), saturation=float(saturation),
                                  bgr=True)
    seconds = time.perf_counter() - start
    del rgb
    png = colorizer.write_png(bgr, result_path(photo, out_dir, {} if names is None else names), level=PNG_LEVEL)
    after = cv2.cvtColor(np.ascontiguousarray(fit_width(bgr, before.shape[1])), cv2.COLOR_BGR2RGB)
    sources = (["your painted colours"] if painted is not None else []) + (
        [f"the hints in {Path(hints_file).name}"] if hints_file else [])
    what = "with " + " and ".join(sources) if sources else "without hints"
    message = (f"{shape[1]} x {shape[0]} px colorized {what} in {seconds:.1f} s"
               + (f" by {model_ref}" if model_ref else "") + f"; full resolution: {png.name}")
    return Result(before, after, png, message)
