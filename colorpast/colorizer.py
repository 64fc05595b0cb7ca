"""Colorize a photo at full resolution: the original L plus predicted ab, upsampled.

As in richzhang/colorization: the model sees a downscaled L, its ab is upsampled back
to the photo's size and joined with the photo's own full-resolution L, so the output
keeps every pixel of detail and the input's size.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import keras
import numpy as np
from keras import ops
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm.auto import tqdm

from colorpast import color, devices, hints as hint_tools, models, runs
from colorpast.errors import UserError
from colorpast.fsutil import atomic_path
from colorpast.models import predict_ab, spec as model_spec

# HEIC/HEIF is what iPhones save (phone shots of prints); Pillow reads it only with the
# optional pillow-heif (``pip install colorpast[heic]``). Without it such a file is
# skipped with that reason, not passed over in silence.
HEIC_SUFFIXES = {".heic", ".heif"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm", *HEIC_SUFFIXES}
_HEIF = []  # [True] once pillow-heif's opener is registered, [False] when it is absent


def heif_readable() -> bool:
    """Whether Pillow reads HEIC/HEIF here (pillow-heif installed); registers its opener once."""
    if not _HEIF:
        try:  # optional: an extra (colorpast[heic]), so imported only when a HEIC file turns up
            import pillow_heif
        except ImportError:
            _HEIF.append(False)
        else:
            pillow_heif.register_heif_opener()
            _HEIF.append(True)
    return _HEIF[0]


def load_model(ref: str):
    """A model from a reference string, as the CLI takes them:

    - ``runs/NAME``: a training run folder (its final model, else its last checkpoint);
    - ``NAME:official``: a registered model with its published weights (``colorful:official``);
    - ``path/to/model.keras``: a saved Keras model.
    ``gray`` is not a model: callers treat the gray baseline themselves.
    """
    p = Path(ref)
    if ":" in ref and not p.exists():
        name, _, weights = ref.partition(":")
        if name not in models.names():
            raise UserError(f"unknown model {name!r} in {ref!r}; choose one of: {', '.join(models.names())}")
        return models.build(name, (None, None, 1), weights=weights)
    if p.is_dir():
        return runs.load(p)
    if p.is_file() and p.suffix == ".keras":
        return keras.models.load_model(p, compile=False)
    raise UserError(f"no model at {ref!r}: give a run folder (runs/NAME), NAME:official or a .keras file")


def read_image(path) -> np.ndarray:
    """Decode a photo file as ``H x W x 3`` uint8 RGB, honouring its EXIF orientation.

    Gray, palette, CMYK and RGBA images are converted to RGB. Raises UserError with the
    reason when the file is not a readable image, or is HEIC without pillow-heif.
    """
    if Path(path).suffix.lower() in HEIC_SUFFIXES and not heif_readable():
        raise UserError(f"{path}: a HEIC photo (what iPhones save); reading it needs the optional pillow-heif: "
                        "pip install pillow-heif (or colorpast[heic])")
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                a = np.asarray(im, np.float32)
                return np.repeat(np.clip(a / 257.0, 0, 255).astype(np.uint8)[..., None], 3, axis=-1)
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, Image.DecompressionBombError) as e:
        raise UserError(f"{path}: not a readable image ({e.__class__.__name__})") from None
    except OSError as e:
        raise UserError(f"{path}: {e.strerror or e}") from None


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


def colorize(image, model, size: int | None = None, hints=None, **decode) -> np.ndarray:
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
        decode: options of the model's ab decoding, e.g. ``temperature=0.38`` for colorful.
    """
    if isinstance(image, (str, Path)):
        image = read_image(image)
    if isinstance(model, (str, Path)):
        model = load_model(str(model))
    return colorize_batch([image], model, size, hints=None if hints is None else [hints], **decode)[0]


# The full-resolution steps are elementwise over millions of pixels: compiled, they fuse
# into one pass (on the 2-core CPU with TensorFlow's XLA, 12 MP: L 0.15 s instead of
# 0.5 s, Lab -> RGB 0.15 s instead of 0.6 s). They compile once per photo size.
def _full_res_L(rgb):
    """``H x W x 3`` float RGB -> ``H x W x 1`` L (0..100)."""
    return color.rgb_to_L(rgb)


def _compose(L_full, ab_small):
    """Full-res ``H x W x 1`` L + ``h x w x 2`` ab -> ``H x W x 3`` RGB, ab upsampled bilinearly."""
    ab = ops.image.resize(ab_small, tuple(L_full.shape[:2]), interpolation="bilinear")
    return color.lab_to_rgb(ops.concatenate([L_full, ab], axis=-1))


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


def colorize_batch(images, model, size: int | None = None, hints=None, **decode) -> list[np.ndarray]:
    """Colorize several photos; those with the same working size share one model call.

    hints: None, or one entry per photo (None for a photo without hints), each as
    :func:`colorize` takes it.
    """
    s = model_spec(model)
    if hints is not None and any(h is not None for h in hints) and not s.hints:
        raise UserError(f"{model.name} takes no colour hints; train a model that does (--model seed16_hints)")
    rgbs = [_as_rgb_float(im) for im in images]
    given = [None] * len(rgbs) if hints is None else [
        None if h is None else hint_tools.load(h, rgb.shape[:2]) for h, rgb in zip(hints, rgbs)]
    Ls = [ops.convert_to_numpy(_compiled(_full_res_L)(ops.convert_to_tensor(rgb))) for rgb in rgbs]  # H x W x 1, 0..100
    sizes = [working_size(rgb.shape[0], rgb.shape[1], size or s.default_size, s.multiple) for rgb in rgbs]
    out = [None] * len(rgbs)
    for ws in dict.fromkeys(sizes):
        idx = [i for i, z in enumerate(sizes) if z == ws]
        L_small = np.stack([resize_area(Ls[i], ws) for i in idx])
        maps = None
        if s.hints:  # n x wh x ww x 3: each photo's hints at the working size (none: zeros)
            maps = np.stack([hint_tools.empty_map(ws) if given[i] is None else given[i].to_map(ws) for i in idx])
        ab_small = predict_ab(model, L_small, hints=maps, **decode)  # n x wh x ww x 2, Lab units
        for i, ab in zip(idx, ab_small):
            rgb = _compiled(_compose)(ops.convert_to_tensor(Ls[i]), ops.convert_to_tensor(ab))
            out[i] = ops.convert_to_numpy(rgb)
    return out


def gray(image) -> np.ndarray:
    """The gray baseline (ab = 0) of a photo: ``H x W x 3`` float32 RGB in [0, 1]."""
    rgb = _as_rgb_float(image)
    return color.lab_to_rgb(color.gray_lab(color.rgb_to_lab(rgb)[..., :1]))


def find_images(paths) -> list[Path]:
    """Files named on the command line, and image files found under folders (recursively)."""
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
        elif p.exists():
            found.append(p)
        else:
            raise UserError(f"{p}: no such file or folder")
    return found


def output_path(file, paths, out_dir) -> Path:
    """Where :func:`colorize_paths` writes ``file`` (found under ``paths``): ``out_dir/<name>.png``,
    keeping the folder structure below the folder it was found in."""
    file = Path(file)
    for r in map(Path, paths):
        if r.is_dir() and file.is_relative_to(r):
            return Path(out_dir) / file.relative_to(r).with_suffix(".png")
    return Path(out_dir) / (file.stem + ".png")


def colorize_paths(paths, model, out_dir, size=None, batch_size: int = 8, progress: bool = True, log=None,
                   hints=None, skip_done: bool = False, **decode):
    """Colorize files and folders into ``out_dir`` as PNG (``<name>.png``, folder structure kept).

    A file that cannot be read is reported through ``log`` and skipped; the rest go on.
    ``hints``: colour hints (as :func:`colorize` takes them) when ``paths`` name one photo.
    ``skip_done``: leave photos whose output already exists as they are (06's second
    session colorizes only the new uploads).
    Returns (written paths, failed [(path, reason)]).
    """
    if hints is not None and not model_spec(model).hints:
        raise UserError(f"{model.name} takes no colour hints; train a model that does (--model seed16_hints)")

    files = find_images(paths)
    out_dir = Path(out_dir)
    written, failed = [], []

    def target(f: Path) -> Path:
        return output_path(f, paths, out_dir)

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
    with ThreadPoolExecutor(max_workers=2) as pool:  # decoding overlaps with the model
        for start in range(0, len(files), batch_size):
            chunk = list(pool.map(load, files[start : start + batch_size]))
            good = [(f, im) for f, im, err in chunk if err is None]
            for f, _, err in chunk:
                if err is not None:
                    failed.append((f, err))
                    if log:
                        log(f"skipped {err}")
            if good:
                given = None if hints is None else [hints] * len(good)
                outs = colorize_batch([im for _, im in good], model, size, hints=given, **decode)
                for (f, _), rgb in zip(good, outs):
                    dest = target(f)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with atomic_path(dest) as tmp:  # a killed run never leaves a torn PNG
                        Image.fromarray(np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)).save(tmp)
                    written.append(dest)
            bar.update(len(chunk))
    bar.close()
    return written, failed
