"""One source file -> a kept ``size x size x 3`` uint8 RGB image, or a rejection with its reason.

What ``colorpast prepare`` does to each file, in a worker process:

- decoded with Pillow, EXIF orientation applied; CMYK, palette, RGBA (composited on
  white), YCbCr and 16-bit RGB become 8-bit RGB; single-channel images (L, 1-bit,
  16-bit gray) are black-and-white and rejected as such;
- rejected: empty, unreadable, not an image, truncated or corrupt, animated (several
  frames), over ``max_pixels`` (a decompression bomb guard, checked from the header
  before any pixel is decoded), shorter side under ``min_side``, black-and-white (see
  ``GRAY_CHROMA``). Exact duplicates are found later, by ``content_key``;
- resized to ``size x size``: ``crop`` scales the short side to ``size`` and cuts the
  centre square; ``pad`` scales the long side to ``size`` and pads with black;
  ``squash`` ignores the aspect ratio.

Pillow and OpenCV are imported inside the functions that use them: every ``colorpast``
command line imports this module for its constants (``colorpast.data.settings``), and
OpenCV alone takes over 0.1 s to import. Nothing here imports TensorFlow (see
``colorpast.data.ingest``).
"""

from __future__ import annotations

import hashlib
import io
import warnings
import numpy as np

from colorpast.data import sources
from colorpast.data.settings import FITS, GRAY_CHROMA, MAX_BYTES, MAX_PIXELS, Settings  # noqa: F401 - also decode.X

class _Reject(Exception):
    """A file that cannot be kept; the message is its manifest reason."""


def configure(max_pixels: int) -> None:
    """Set up Pillow and OpenCV in this process for :func:`decode_entry` (once per worker)."""
    import cv2
    from PIL import Image

    cv2.setNumThreads(1)  # one process per core already; threads would oversubscribe
    Image.MAX_IMAGE_PIXELS = max_pixels
    # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make it an error.
    warnings.simplefilter("error", Image.DecompressionBombWarning)


def decode_entry(entry, cfg: Settings):
    """``("kept", key, size x size x 3 uint8, note)`` or ``("rejected", reason)`` for one
    ``sources.Entry``: every failure becomes a rejection, so a worker never raises."""
    try:
        return _decode(entry, cfg)
    except _Reject as r:
        return ("rejected", str(r))
    except MemoryError:
        return ("rejected", "too large: out of memory while decoding")
    except Exception as e:  # noqa: BLE001 - one strange file must never stop a 30,000-file run
        return ("rejected", f"decoder error: {type(e).__name__}: {e}")


def _decode(entry, cfg: Settings):
    """:func:`decode_entry`, raising ``_Reject`` for a file that cannot be kept."""
    from PIL import Image

    if entry.problem:
        raise _Reject(entry.problem)
    if entry.name.startswith("embedded:"):
        im = Image.fromarray(sources.load_embedded(entry.name))
    else:
        im = _open(entry, cfg)
    im, note = _to_rgb(im)
    w, h = im.size
    if min(w, h) < cfg.min_side:
        raise _Reject(f"too small: {w}x{h}, shorter side under {cfg.min_side} px")
    key = content_key(np.asarray(im))
    out, content = _resize(im, cfg.size, cfg.fit)
    chroma = mean_chroma(np.asarray(content))
    if chroma < cfg.gray_chroma:
        raise _Reject(f"black-and-white: mean chroma {chroma:.2f} < {cfg.gray_chroma} (Lab units)")
    return ("kept", key, np.asarray(out, dtype=np.uint8), note)


def _open(entry, cfg: Settings):
    """A file's bytes -> its loaded, upright Pillow image; its size checked from the header
    before a pixel is decoded."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        data = entry.read(MAX_BYTES)
    except ValueError as e:
        raise _Reject(f"too large: {e}") from None
    except (OSError, KeyError) as e:  # KeyError: a zip member that vanished
        raise _Reject(f"unreadable: {getattr(e, 'strerror', None) or e}") from None
    if not data:
        raise _Reject("empty file: 0 bytes")
    try:
        im = Image.open(io.BytesIO(data))  # reads the header only; checks MAX_IMAGE_PIXELS
    except UnidentifiedImageError:
        raise _Reject("not an image: no decoder recognises it") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _Reject(f"too large: over {cfg.max_pixels} pixels (decompression bomb guard)") from None
    except Exception as e:  # noqa: BLE001 - any header a decoder chokes on is corrupt
        raise _Reject(f"corrupt: {type(e).__name__}: {e}") from None
    w, h = im.size
    if w * h > cfg.max_pixels:
        raise _Reject(f"too large: {w}x{h} is over {cfg.max_pixels} pixels (decompression bomb guard)")
    if min(w, h) < cfg.min_side:
        raise _Reject(f"too small: {w}x{h}, shorter side under {cfg.min_side} px")
    frames = getattr(im, "n_frames", 1)
    # MPO: a phone's JPEG with extra frames (depth map, preview); the first is the photo.
    if frames > 1 and im.format != "MPO":
        raise _Reject(f"animated or multi-page: {frames} frames")
    try:
        im.load()
    except Exception as e:  # noqa: BLE001 - truncated data raises OSError, others vary by format
        raise _Reject(f"truncated or corrupt: {type(e).__name__}: {e}") from None
    try:
        return ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not cost a good photo
        return im


_GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_CONVERTIBLE = {"CMYK", "YCbCr", "LAB", "HSV", "RGBX"}


def _to_rgb(im):
    """A loaded Pillow image -> (8-bit RGB image, note about the conversion)."""
    from PIL import Image

    mode = im.mode
    if mode == "RGB":
        return im, ""
    if mode in _GRAY_MODES:
        raise _Reject(f"black-and-white: single-channel image (mode {mode})")
    if mode in ("P", "PA"):
        im = im.convert("RGBA")
    if mode in _CONVERTIBLE:
        return im.convert("RGB"), f"converted from {mode}"
    if im.mode in ("RGBA", "RGBa"):
        rgba = im.convert("RGBA")
        if rgba.getextrema()[3][0] == 255:  # fully opaque: the alpha channel says nothing
            return rgba.convert("RGB"), f"converted from {mode}"
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB"), f"converted from {mode}, transparency on white"
    raise _Reject(f"unsupported pixel mode {mode}")


def content_key(rgb: np.ndarray) -> str:
    """SHA-256 (hex) of decoded ``H x W x 3`` uint8 pixels and their shape."""
    h = hashlib.sha256(f"{rgb.shape[0]}x{rgb.shape[1]}x3:".encode())
    h.update(np.ascontiguousarray(rgb).tobytes())
    return h.hexdigest()


def _resize(im, size: int, fit: str):
    """RGB image -> (``size x size`` RGB image, the resized content before padding)."""
    from PIL import Image

    w, h = im.size
    lanczos = Image.Resampling.LANCZOS
    if fit == "crop":
        s = min(w, h)
        box = ((w - s) / 2, (h - s) / 2, (w + s) / 2, (h + s) / 2)
        out = im.resize((size, size), lanczos, box=box, reducing_gap=3.0)
        return out, out
    if fit == "squash":
        out = im.resize((size, size), lanczos, reducing_gap=3.0)
        return out, out
    scale = size / max(w, h)
    content = im.resize((max(1, round(w * scale)), max(1, round(h * scale))), lanczos, reducing_gap=3.0)
    out = Image.new("RGB", (size, size))
    out.paste(content, ((size - content.width) // 2, (size - content.height) // 2))
    return out, content


def mean_chroma(rgb: np.ndarray) -> float:
    """Mean CIE Lab chroma sqrt(a^2 + b^2) of an ``H x W x 3`` uint8 image, in Lab units."""
    import cv2

    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)  # float in: exact Lab
    return float(np.hypot(lab[..., 1], lab[..., 2]).mean())
