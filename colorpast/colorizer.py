"""Colorize a photo at full resolution: the original L plus predicted ab, upsampled.

As in richzhang/colorization: the model sees a downscaled L, its ab is upsampled back
to the photo's size and joined with the photo's own full-resolution L, so the output
keeps every pixel of detail and the input's size.

Memory: a photo stays in its own dtype (uint8 from a file) and the full-resolution steps
(its L, averaged down for the model; the upsampled ab; the conversion back to RGB) run in
bands of rows of about ``bands.BAND_PIXELS`` pixels (``colorpast.bands``); its L is kept
at full size in float32 up to ``LEAN_PIXELS``, and made again band by band above;
``colorize_paths`` writes each uint8 photo's colour into the photo's own array and hands
that to ``cv2.imwrite``, so a scan costs about its uint8 pixels once (a 300 MP scan 0.9
GB; ``photofiles.MAX_PIXELS`` is the limit), and groups photos by pixels
(``BATCH_PIXELS``), not by count. Measured with
``benchmarks/bench_colorize_memory.py`` (RESULTS.md, "Colorize: memory of 40 MP scans"
and "... of 300 MP scans").
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import keras
import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from colorpast import bands, bundled, color, hints as hint_tools, models, runs
from colorpast.errors import UserError, say
from colorpast.fsutil import atomic_path
from colorpast.models import predict_ab, spec as model_spec
# find_images, read_image and output_path re-exported: notebooks and users import them from here
from colorpast.photofiles import _by_pixels, find_images, not_photos, output_path, read_image


def train_hints_model() -> str:
    """What to do when a model takes no hints, in the words of the command line or the notebook."""
    return say("use siggraph17:official, Zhang et al. 2017's published model (colorpast weights fetch siggraph17 "
               "once, online), or train one (colorpast train --model effunet_hints)",
               'HINTS_MODEL = "best" (your run that takes hints, else the one this project ships, else Zhang et al. '
               '2017\'s published model), or train one (04_train with MODEL = "effunet_hints"), which it then finds')


BUNDLED = "bundled"  # NAME:bundled, the weights this project ships


def load_model(ref: str):
    """A model from a reference string, as the CLI takes them:

    - ``runs/NAME``: a training run folder (its final model, else its last checkpoint);
    - ``runs/NAME:best`` / ``runs/NAME:last``: the run's epoch with the lowest validation
      loss, or its last checkpoint (a run that overfits is better at its best epoch);
    - ``NAME:official``: a registered model with its published weights (``colorful:official``);
    - ``NAME:bundled``: a model this project trained and ships (``effunet:bundled``, ``colorpast.bundled``);
    - ``path/to/model.keras``: a saved Keras model.
    ``gray`` is not a model: callers treat the gray baseline themselves.
    """
    p = Path(ref)
    if ":" in ref and not p.exists():
        if named := runs.named_weights(ref):
            return runs.load(*named)
        name, _, weights = ref.partition(":")
        if name not in models.names():
            raise UserError(f"unknown model {name!r} in {ref!r}; choose one of: {', '.join(models.names())}")
        if weights == BUNDLED:
            return bundled.load(name)
        return models.build(name, (None, None, 1), weights=weights)
    if p.is_dir():
        return runs.load(p)
    if p.is_file() and p.suffix == ".keras":
        return keras.models.load_model(p, compile=False)
    raise UserError(f"no model at {ref!r}: give a run folder (runs/NAME), NAME:bundled, NAME:official or a .keras file")


def working_size(height: int, width: int, short: int, multiple: int) -> tuple[int, int]:
    """The size the model sees: shorter side ``short``, aspect kept, both sides multiples of ``multiple``."""
    scale = short / min(height, width)
    h = max(multiple, int(round(height * scale / multiple)) * multiple)
    w = max(multiple, int(round(width * scale / multiple)) * multiple)
    return h, w


def colorize(image, model, size: int | None = None, hints=None, normalize: bool = False, saturation: float = 1.0,
             raw_hints: bool = False, **decode) -> np.ndarray:
    """Colorize one photo; returns ``H x W x 3`` float32 RGB in [0, 1] at the input's size.

    Args:
        image: a file path, or an ``H x W`` gray or ``H x W x 3`` RGB array, uint8 or float
            in [0, 1]. A colour or sepia photo is colorized from its L alone; its own
            colours are discarded.
        model: a Keras model built by ``colorpast.models.build`` (or loaded from a run),
            or a reference string for :func:`load_model` (``runs/NAME``, ``colorful:official``).
        size: the shorter side, in pixels, at which the model runs (default: the model's
            ``default_size``). ab is predicted there and upsampled bilinearly.
        hints: colours you know, for a model that takes hints (``seed16_hints``): a list
            of points ``[{"x": 120, "y": 45, "color": "#b22234"}, ...]`` in the photo's
            pixels, a ``.json`` file of them, a scribble (an RGBA image or ``.png`` the
            photo's size, colour strokes on transparency), or ``colorpast.hints.Hints``.
            See ``colorpast.hints`` for how a colour becomes a hint.
        normalize: for a faded old print: the model sees its L stretched to a modern
            photo's range and despeckled (:func:`normalize_L`); the output keeps the
            photo's own L.
        saturation: the predicted ab times this (1: as predicted). Models trained to be
            safe paint timid colours; above 1 they get bolder, at a cost in accuracy
            (benchmarks/RESULTS.md, "Colour strength").
        raw_hints: the network's colours as they come. By default each hint's miss is
            added back around it (:func:`colorpast.hints.honour`), so a hinted spot ends
            near the colour given: 10 true hints gain about 0.5 dB PSNR on CBSD68.
        decode: options of the model's ab decoding, e.g. ``temperature=0.38`` for colorful.
    """
    if isinstance(image, (str, Path)):
        image = read_image(image)
    if isinstance(model, (str, Path)):
        model = load_model(str(model))
    return colorize_batch([image], model, size, hints=None if hints is None else [hints], normalize=normalize,
                          saturation=saturation, raw_hints=raw_hints, **decode)[0]


PNG_LEVEL = 6  # zlib level of colorize_paths' PNG files: Pillow's default, which they were written with before
# Above this size a photo's L is not kept at full size (4 bytes a pixel: 1.2 GB for a 300 MP
# scan) but made twice, band by band: once for the model's small L, once for the output
# (12 MP: 3.2 s instead of 1.9 s, bench_colorize.py).
LEAN_PIXELS = 50_000_000
BATCH_PIXELS = 24_000_000  # colorize_paths: photos decoded and colorized together (one at least)


# What a modern photo's lightness spans: the medians, over the shared ImageNet training
# photos, of each photo's 1st and 99th percentile of L (an aged print of the same photos:
# 10.9 and 83.8), from an exploratory script, not a benchmark; the first 300 of the
# 1,000 shared photos, re-checked, give 3.9 and 92.6. Its effect: RESULTS.md, "Old photos".
MODERN_L = (3.6, 94.3)
# At most this contrast gain: a heavily faded print spans about 40 L units (gain 2.3); a
# nearly flat photo (fog, a blank wall) must not have its noise blown up.
MAX_STRETCH = 3.0


def normalize_L(L: np.ndarray) -> np.ndarray:
    """What the model should see of an old print: ``h x w x 1`` L (0..100) with its 1st to
    99th percentile stretched towards a modern photo's (``MODERN_L``) when it spans less (a
    faded print; the gain at most ``MAX_STRETCH``), never squeezed; then a 3 x 3 median
    removes specks of dust and thin scratches. Only the model's input: the output keeps
    the photo's own L."""
    lo, hi = np.percentile(L, [1, 99])
    gain = min((MODERN_L[1] - MODERN_L[0]) / max(hi - lo, 1e-3), MAX_STRETCH)
    if gain > 1.0:
        mid = (lo + hi) / 2.0
        L = (L - mid) * gain + (MODERN_L[0] + MODERN_L[1]) / 2.0
    L = np.clip(L, 0.0, 100.0).astype(np.float32)
    return cv2.medianBlur(np.ascontiguousarray(L[..., 0]), 3)[..., None]


def check_saturation(saturation: float) -> None:
    """A saturation from 0 (gray) to 4, or a one-line UserError."""
    if not 0.0 <= saturation <= 4.0:
        raise UserError(f"saturation multiplies the predicted colours, from 0 (gray) to 4; got {saturation}")


def _as_image(image) -> np.ndarray:
    """``image`` as an array in its own dtype, checked: ``H x W`` gray or ``H x W x 3|4``."""
    a = np.asarray(image)
    if not (a.ndim == 2 or a.ndim == 3 and a.shape[-1] in (3, 4)):
        raise ValueError(f"expected an H x W gray or H x W x 3 RGB image, got shape {a.shape}")
    return a


def _predict_small(images, model, size, hints=None, normalize: bool = False, saturation: float = 1.0,
                   raw_hints: bool = False, **decode) -> list[tuple[np.ndarray | None, np.ndarray]]:
    """Each photo's full-resolution L (``H x W x 1``; None above ``LEAN_PIXELS``, where it is
    made again as the output is) and ab at its working size (``h x w x 2``, Lab units, times
    ``saturation``); photos with the same working size share one model call.
    ``normalize``: the model sees :func:`normalize_L` of each L. A photo's hints are then
    honoured (:func:`colorpast.hints.honour`) unless ``raw_hints``."""
    s = model_spec(model)
    given = [None] * len(images) if hints is None else [
        None if h is None else hint_tools.load(h, im.shape[:2]) for h, im in zip(hints, images)]
    sizes = [working_size(im.shape[0], im.shape[1], size or s.default_size, s.multiple) for im in images]
    Ls = [bands.full_res_L(im) if im.shape[0] * im.shape[1] <= LEAN_PIXELS else None for im in images]
    out = [None] * len(images)
    for ws in dict.fromkeys(sizes):
        idx = [i for i, z in enumerate(sizes) if z == ws]
        L_small = np.stack([bands.small_L(images[i], ws) if Ls[i] is None else bands.resize_area(Ls[i], ws)
                            for i in idx])
        if normalize:
            L_small = np.stack([normalize_L(L) for L in L_small])
        maps = None
        if s.hints:  # n x wh x ww x 3: each photo's hints at the working size (none: zeros)
            maps = np.stack([hint_tools.empty_map(ws) if given[i] is None else given[i].to_map(ws) for i in idx])
        for k, (i, ab) in enumerate(zip(idx, predict_ab(model, L_small, hints=maps, **decode))):  # wh x ww x 2
            if given[i] is not None and not raw_hints:
                ab = hint_tools.honour(ab, L_small[k], maps[k])
            out[i] = (Ls[i], ab * np.float32(saturation))
    return out


def colorize_batch(images, model, size: int | None = None, hints=None, normalize: bool = False,
                   saturation: float = 1.0, raw_hints: bool = False, **decode) -> list[np.ndarray]:
    """Colorize several photos (``H x W x 3`` float32 RGB in [0, 1] each); those with the
    same working size share one model call.

    hints: None, or one entry per photo (None for a photo without hints), each as
    :func:`colorize` takes it.
    normalize: show the model each photo's L through :func:`normalize_L` (faded prints).
    saturation: multiplies the predicted ab (1: as predicted).
    raw_hints: the network's colours, hints not honoured after it (:func:`colorize`).
    """
    _check(model, hints, saturation)
    images = [_as_image(im) for im in images]
    smalls = _predict_small(images, model, size, hints, normalize, saturation, raw_hints, **decode)
    return [bands._compose(im, ab, L=L) for im, (L, ab) in zip(images, smalls)]


def _check(model, hints, saturation: float) -> None:
    """A saturation in range, and hints only for a model that takes them (one line each)."""
    check_saturation(saturation)
    if hints is not None and any(h is not None for h in hints) and not model_spec(model).hints:
        raise UserError(f"{model.name} takes no colour hints; {train_hints_model()}")


def colorize_into(image, model, size: int | None = None, hints=None, normalize: bool = False,
                  saturation: float = 1.0, bgr: bool = False, raw_hints: bool = False, **decode) -> np.ndarray:
    """:func:`colorize` in uint8 and in the photo's own memory: an ``H x W x 3`` uint8 photo
    that is writable becomes its colorized self, band by band (any other is left alone
    and a new uint8 array returned), in OpenCV's channel order with ``bgr`` (for
    :func:`write_png`). A 300 MP scan costs its pixels once, as ``colorize_paths`` does,
    where :func:`colorize`'s float32 result alone is 3.6 GB."""
    _check(model, None if hints is None else [hints], saturation)
    image = _as_image(image)
    ((L, ab),) = _predict_small([image], model, size, None if hints is None else [hints], normalize, saturation,
                                raw_hints, **decode)
    mine = image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] == 3 and image.flags.writeable
    return bands._compose(image, ab, np.uint8, out=image if mine else None, bgr=bgr, L=L)


def gray(image) -> np.ndarray:
    """The gray baseline (ab = 0) of a photo: ``H x W x 3`` float32 RGB in [0, 1]."""
    rgb = bands._as_rgb_float(image)
    return color.lab_to_rgb(color.gray_lab(color.rgb_to_lab(rgb)[..., :1]))


# The median (a, b), in Lab units, of ImageNet photos: the 890 training photos of the shared
# imagenet1k-256 set, every 8th pixel each way (`python benchmarks/median_colour.py
# data/prepared/imagenet1k` measures it: a 0.47, b 5.27). A faint warm tint: the colour a
# model paints where it has learned only the average colour of photos.
SEPIA_AB = (0.47, 5.27)


def sepia(image) -> np.ndarray:
    """The sepia baseline of a photo: its L with ``SEPIA_AB`` on every pixel (``H x W x 3``
    float32 RGB in [0, 1])."""
    L = color.rgb_to_lab(bands._as_rgb_float(image))[..., :1]
    return color.lab_to_rgb(np.concatenate([L, np.broadcast_to(np.float32(SEPIA_AB), L.shape[:-1] + (2,))], -1))


def write_png(bgr8: np.ndarray, path, level: int = PNG_LEVEL) -> Path:
    """``H x W x 3`` uint8 in OpenCV's order -> a PNG at ``path`` (zlib ``level``), atomically,
    by ``cv2.imwrite`` as it is; by Pillow (a copy) where OpenCV cannot open the path
    (OpenCV on Windows with non-ASCII names). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:  # a killed run never leaves a torn PNG
        try:
            if cv2.imwrite(str(tmp), bgr8, [cv2.IMWRITE_PNG_COMPRESSION, level]):
                return path
        except cv2.error:
            pass
        Image.fromarray(np.ascontiguousarray(bgr8[..., ::-1])).save(tmp, format="PNG", compress_level=level)
    return path


def colorize_paths(paths, model, out_dir, size=None, batch_size: int = 8, progress: bool = True, log=None,
                   hints=None, skip_done: bool = False, batch_pixels: int = BATCH_PIXELS, **decode):
    """Colorize files and folders into ``out_dir`` as PNG (``<name>.png``, folder structure kept).

    Photos are decoded and colorized in groups of at most ``batch_size`` photos and
    ``batch_pixels`` pixels (one photo at least), each output made in uint8 and written
    before the next: peak memory follows the largest group, not the number of photos.
    A file that cannot be read is reported through ``log`` and skipped; the rest go on;
    so is every file under a folder that is not a photo (a PDF, a zip), with why.
    ``hints``: colour hints (as :func:`colorize` takes them) when ``paths`` name one photo.
    ``skip_done``: leave photos whose output already exists as they are (06's second
    session colorizes only the new uploads).
    Returns (written paths, failed [(path, reason)]).
    """
    _check(model, None if hints is None else [hints], decode.get("saturation", 1.0))
    if hints is not None:  # checked before any work, so a mistake in them is one line and nothing is written
        files = find_images(paths)
        if len(files) != 1:
            raise UserError(f"hints belong to one photo; {len(files)} were given")
        hints = hint_tools.load(hints, read_image(files[0]).shape[:2])

    files = find_images(paths)
    if log:
        for f, why in not_photos(paths):
            log(f"skipped {f}: {why}")
    out_dir = Path(out_dir)
    written, failed = [], []

    listings: dict = {}  # each folder listed once for output_path's twins, not once a photo

    def target(f: Path) -> Path:
        return output_path(f, paths, out_dir, listings)

    if skip_done:
        todo = [f for f in files if not target(f).is_file()]
        if len(todo) < len(files) and log:
            log(f"{len(files) - len(todo)} of {len(files)} photos already colorized in {out_dir}: left as they are")
        files = todo

    def load(f):
        try:
            return f, read_image(f), None
        except UserError as e:
            return f, None, str(e)

    bar = tqdm(total=len(files), unit="photo", disable=not progress, desc="colorizing")
    with ThreadPoolExecutor(max_workers=2) as pool:  # a group's photos decode two at a time
        for group in _by_pixels(files, batch_size, batch_pixels):
            # A photo alone (a big scan) decodes here: decoded in the worker thread, four
            # 40 MP scans peaked at 1.77 GB against 1.72 GB here (bench_colorize_memory.py).
            chunk = list(pool.map(load, group)) if len(group) > 1 else [load(group[0])]
            good = [(f, _as_image(im)) for f, im, err in chunk if err is None]
            for f, _, err in chunk:
                if err is not None:
                    failed.append((f, err))
                    if log:
                        log(f"skipped {err}")
            del chunk  # from here on ``good`` holds the only reference to each photo
            given = None if hints is None else [hints] * len(good)
            small = _predict_small([im for _, im in good], model, size, given, **decode) if good else []
            while good:
                (f, photo), (L, ab) = good.pop(0), small.pop(0)
                # an RGB uint8 photo (every file read_image reads) becomes its colorized self,
                # in OpenCV's channel order for cv2.imwrite, which writes it as it is (Pillow
                # would copy it into 4 bytes a pixel first: 1.2 GB for a 300 MP scan)
                in_place = photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[-1] == 3 and photo.flags.writeable
                bgr8 = bands._compose(photo, ab, np.uint8, out=photo if in_place else None, bgr=True, L=L)
                del photo, L
                written.append(write_png(bgr8, target(f)))
                del bgr8
            bar.update(len(group))
    bar.close()
    return written, failed
