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
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jfif", ".jpe", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm",
                  *HEIC_SUFFIXES}
# What a file that is not a photo is, and what to do with it (anything else: the generic reason).
NOT_PHOTOS = {
    ".pdf": "a PDF: save its pages as JPEG or PNG images first",
    ".zip": "a zip archive: unpack it and add the photos inside",
    ".rar": "an archive: unpack it and add the photos inside",
    ".7z": "an archive: unpack it and add the photos inside",
    ".mov": "a video, not a photo", ".mp4": "a video, not a photo",
    ".dng": "a camera RAW file: export it as JPEG or TIFF first", ".cr2": "a camera RAW file: export it as JPEG or TIFF first",
    ".nef": "a camera RAW file: export it as JPEG or TIFF first", ".arw": "a camera RAW file: export it as JPEG or TIFF first",
}
READABLE = "JPEG, PNG, TIFF, WebP, BMP, GIF or HEIC"
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


def _hidden(f: Path, root: Path) -> bool:
    """A hidden file or one in a hidden folder below ``root`` (.DS_Store, .ipynb_checkpoints): the system's, not the user's."""
    return any(part.startswith(".") for part in f.relative_to(root).parts)


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


def not_photos(paths) -> list[tuple[Path, str]]:
    """The files under the folders in ``paths`` that :func:`find_images` passes over, each
    with why (a PDF, a zip, a video ...), so that nobody's upload vanishes in silence.
    Hidden files (.DS_Store, a notebook's checkpoints) are the system's and not listed."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() not in IMAGE_SUFFIXES and not _hidden(f, p):
                    out.append((f, NOT_PHOTOS.get(f.suffix.lower(), f"not a photo format colorpast reads ({READABLE})")))
    return out


def output_path(file, paths, out_dir) -> Path:
    """Where :func:`colorpast.colorizer.colorize_paths` writes ``file`` (found under ``paths``): ``out_dir/<name>.png``,
    keeping the folder structure below the folder it was found in.

    Photos with the same name but another format beside each other (``a.jpg`` and
    ``a.png``, ``IMG_1.HEIC`` and ``IMG_1.JPG``) each get their own: ``a-jpg.png`` and
    ``a-png.png``, so that neither overwrites the other."""
    file = Path(file)
    name = file.stem + (f"-{file.suffix.lstrip('.')}" if _has_twin(file) else "") + ".png"
    for r in map(Path, paths):
        if r.is_dir() and file.is_relative_to(r):
            return Path(out_dir) / file.relative_to(r).parent / name
    return Path(out_dir) / name


def _has_twin(file: Path) -> bool:
    """Whether another photo beside ``file`` has its name with another suffix."""
    try:
        siblings = list(file.parent.iterdir())
    except OSError:
        return False
    stem = file.stem.lower()
    return any(f.stem.lower() == stem and f.suffix.lower() in IMAGE_SUFFIXES and f.name != file.name for f in siblings)


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
