"""Photo files: which files are photos, reading one, where its output goes.

``find_images`` lists the photos named or found under folders, ``read_image`` decodes
one as uint8 RGB (HEIC too, with the optional pillow-heif), ``output_path`` says where
``colorizer.colorize_paths`` writes its PNG, and ``_by_pixels`` groups files by their
pixel count, read from the headers. NumPy, Pillow and OpenCV: no Keras, no model.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import cv2
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
# The largest photo colorized: a 300 MP scan costs its uint8 pixels (900 MB) and the
# process (about 1 GB with TensorFlow and a model), within 2 GB (benchmarks/RESULTS.md,
# "Colorize: memory of 300 MP scans"). Pillow's decompression-bomb warning and error
# (from 89 and 179 MP) are left to this limit.
MAX_PIXELS = 300_000_000
# From this size on (a 12 MP phone photo and up), a photo OpenCV decodes goes straight into
# one uint8 array: Pillow's decode holds 4 bytes a pixel and its RGB copy 3 more (2.1 GB at
# 300 MP against 0.9; a 40 MP scan's colorize peaked at 1.51 GB before, 1.23 after).
BIG_PIXELS = 10_000_000
_CV2_FORMATS = {"JPEG", "PNG", "TIFF", "WEBP", "BMP", "PPM"}
# EXIF orientation -> the array transform that shows the photo upright (views, no copy)
_ORIENT = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1), 7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
           8: lambda a: np.rot90(a, 1)}
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
        with _open(path) as im:
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise UserError(f"{path}: {w} x {h} pixels ({w * h / 1e6:.0f} MP), more than colorpast colorizes "
                                f"({MAX_PIXELS / 1e6:.0f} MP, about 2 GB of memory); scale it down first")
            if w * h >= BIG_PIXELS and im.format in _CV2_FORMATS:
                big = _read_big(path, im.size, im.getexif().get(0x0112, 1))
                if big is not None:
                    return big
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                a = np.asarray(im, np.float32)
                return np.repeat(np.clip(a / 257.0, 0, 255).astype(np.uint8)[..., None], 3, axis=-1)
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, Image.DecompressionBombError) as e:
        raise UserError(f"{path}: not a readable image ({e.__class__.__name__})") from None
    except OSError as e:
        raise UserError(f"{path}: {e.strerror or e}") from None


_OPEN_LOCK = threading.Lock()


def _open(path):
    """``Image.open`` (the header only), without Pillow's decompression-bomb warning or
    error: the size is checked against ``MAX_PIXELS`` by the caller. Pillow's limit is a
    global, lifted for the call under a lock (colorize_paths opens photos in two threads)."""
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def _read_big(path, size: tuple[int, int], orientation: int) -> np.ndarray | None:
    """A big scan (``BIG_PIXELS`` and more; ``size`` its width and height as stored) decoded
    by OpenCV straight into one ``H x W x 3`` uint8 RGB array, turned upright by its EXIF
    ``orientation`` as a view (no copy). None when OpenCV cannot read it (a path it cannot
    open, as OpenCV on Windows with non-ASCII names): Pillow reads it then."""
    w, h = size
    flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    a = np.empty((h, w, 3), np.uint8)
    try:  # OpenCV 4.10 and later decode into the array given (imread's own result is copied once more)
        a = cv2.imread(str(path), a, flags)
    except (TypeError, cv2.error):
        a = cv2.imread(str(path), flags)
    if a is None or a.shape != (h, w, 3):
        return None
    rows = max(1, (1 << 22) // (3 * w))  # BGR to RGB in place, 4 MB at a time (cvtColor's dst=a copies the whole)
    for y0 in range(0, h, rows):
        band = a[y0:y0 + rows]
        band[:] = band[..., ::-1]
    return _ORIENT.get(orientation, lambda x: x)(a)


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


def output_path(file, paths, out_dir, listings: dict | None = None) -> Path:
    """Where :func:`colorpast.colorizer.colorize_paths` writes ``file`` (found under ``paths``): ``out_dir/<name>.png``,
    keeping the folder structure below the folder it was found in.

    Photos with the same name but another format beside each other (``a.jpg`` and
    ``a.png``, ``IMG_1.HEIC`` and ``IMG_1.JPG``) each get their own: ``a-jpg.png`` and
    ``a-png.png``, so that neither overwrites the other. ``listings``: a dict kept by the
    caller across the files of one run, so each folder is listed once, not once a photo."""
    file = Path(file)
    name = file.stem + (f"-{file.suffix.lstrip('.')}" if _has_twin(file, {} if listings is None else listings) else "") + ".png"
    for r in map(Path, paths):
        if r.is_dir() and file.is_relative_to(r):
            return Path(out_dir) / file.relative_to(r).parent / name
    return Path(out_dir) / name


def unused_path(path) -> Path:
    """``path`` when nothing is there, else the first free of ``NAME-2.png``, ``NAME-3.png``
    ...: a result written there never overwrites another."""
    path = Path(path)
    candidate, n = path, 2
    while candidate.exists():
        candidate, n = path.with_name(f"{path.stem}-{n}{path.suffix}"), n + 1
    return candidate


def _has_twin(file: Path, listings: dict) -> bool:
    """Whether another photo beside ``file`` has its name with another suffix (``listings``:
    each folder's photo names by lowercased stem, filled as folders are first seen)."""
    folder = file.parent
    if folder not in listings:
        stems: dict[str, set] = {}
        try:
            for f in folder.iterdir():
                if f.suffix.lower() in IMAGE_SUFFIXES:
                    stems.setdefault(f.stem.lower(), set()).add(f.name)
        except OSError:
            pass
        listings[folder] = stems
    return bool(listings[folder].get(file.stem.lower(), set()) - {file.name})


def _pixels(path) -> int:
    """A photo's pixel count from its header (no decoding); 0 when it cannot be read."""
    try:
        with _open(path) as im:
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
