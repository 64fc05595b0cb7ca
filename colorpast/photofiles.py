"""Photo files: which files are photos, reading one, where its output goes.

``find_images`` lists the photos named or found under folders, ``read_image`` decodes
one as uint8 RGB (HEIC too, with the optional pillow-heif), ``output_path`` says where
``colorizer.colorize_paths`` writes its PNG, and ``_by_pixels`` groups files by their
pixel count, read from the headers. NumPy and Pillow only: no Keras, no model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from colorpast.errors import UserError

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
    """Where :func:`colorpast.colorizer.colorize_paths` writes ``file`` (found under ``paths``): ``out_dir/<name>.png``,
    keeping the folder structure below the folder it was found in."""
    file = Path(file)
    for r in map(Path, paths):
        if r.is_dir() and file.is_relative_to(r):
            return Path(out_dir) / file.relative_to(r).with_suffix(".png")
    return Path(out_dir) / (file.stem + ".png")


def _pixels(path) -> int:
    """A photo's pixel count from its header (no decoding); 0 when it cannot be read."""
    try:
        with Image.open(path) as im:
            return im.width * im.height
    except Exception:  # noqa: BLE001 - any unreadable file: its decode reports why
        return 0


def _by_pixels(files, batch_size: int, batch_pixels: int):
    """``files`` in groups of at most ``batch_size`` photos and ``batch_pixels`` pixels (a
    photo larger than that alone), so memory follows the pixels, not the count."""
    group, pixels = [], 0
    for f in files:
        p = _pixels(f)
        if group and (len(group) >= batch_size or pixels + p > batch_pixels):
            yield group
            group, pixels = [], 0
        group.append(f)
        pixels += p
    if group:
        yield group
