"""Film files in: which files are films, what one holds, and its frames, one at a time.

Decoding is FFmpeg's, through PyAV, whose wheel carries FFmpeg's libraries: every
container and codec people have (mp4, mov, mkv, webm, avi; H.264, HEVC, VP8/9, AV1,
MPEG-4, MJPEG ...) with nothing else to install. Frames come one at a time as ``H x W x 3``
uint8 RGB, so a film of any length costs one frame's memory; a frame that does not
decode is reported by its number and the rest go on. NumPy and PyAV: no Keras.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from colorpast.errors import UserError

FILM_SUFFIXES = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ogv", ".3gp",
                 ".ts", ".mts", ".m2ts", ".vob", ".dv", ".mxf"}
# FFmpeg opens a photo as a one-frame "video" of these formats: a photo is not a film.
_STILL_FORMATS = ("image2", "_pipe", "gif", "apng", "webp")
# The YUV -> RGB matrix a frame names (FFmpeg's AVColorSpace) -> swscale's; an untagged
# frame gets BT.709 from 720 rows up and BT.601 below, as players assume.
_MATRIX = {1: "ITU709", 4: "FCC", 5: "ITU601", 6: "ITU601", 7: "SMPTE240M", 9: "BT2020", 10: "BT2020"}


def is_film(path) -> bool:
    """Whether ``path`` is named like a film (by its suffix)."""
    return Path(path).suffix.lower() in FILM_SUFFIXES


def find_films(paths) -> list[Path]:
    """The films named in ``paths`` (by suffix) and those found under its folders (recursively, hidden ones left)."""
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if is_film(f) and f.is_file()
                            and not any(part.startswith(".") for part in f.relative_to(p).parts))
        elif is_film(p):
            if not p.exists():
                raise UserError(f"{p}: no such file")
            found.append(p)
    return found


@dataclass(frozen=True)
class FilmInfo:
    """What a film holds. ``width`` x ``height`` as it is shown (a phone's rotation applied);
    ``frames`` from the container's header when it has one, else ``duration`` x ``fps``
    (an estimate); ``audio``: the sound's codec ("aac"), None for a silent film."""

    path: Path
    width: int
    height: int
    fps: Fraction
    frames: int
    duration: float
    time_base: Fraction
    audio: str | None
    rotation: int = 0

    def describe(self) -> str:
        """One line: ``1280 x 720, 24 fps, 30.0 s (720 frames), sound: vorbis``."""
        fps = f"{float(self.fps):.3g}"
        sound = f"sound: {self.audio}" if self.audio else "no sound"
        return f"{self.width} x {self.height}, {fps} fps, {self.duration:.1f} s ({self.frames} frames), {sound}"


def open_film(path):
    """``av.open(path)`` with its video stream, or a one-line UserError saying what ``path`` is instead."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: no such file")
    try:
        c = av.open(str(p))
    except av.error.FFmpegError as e:
        raise UserError(f"{p}: not a video FFmpeg can read ({e.strerror or e.__class__.__name__})") from None
    if any(c.format.name.endswith(s) or c.format.name == s for s in _STILL_FORMATS):
        c.close()
        raise UserError(f"{p}: a still image, not a film: colorpast colorize colours it as a photo under its own suffix")
    if not c.streams.video:
        kinds = sorted({s.type for s in c.streams}) or ["nothing"]
        c.close()
        raise UserError(f"{p}: no video stream in it (it holds {', '.join(kinds)})")
    return c, c.streams.video[0]


def probe(path) -> FilmInfo:
    """A film's size, frame rate, length and sound, from its headers (nothing decoded but its first frame's
    rotation); a one-line UserError when it is not a film."""
    c, s = open_film(path)
    with c:
        fps = s.average_rate or s.guessed_rate or s.base_rate or Fraction(25)
        tb = s.time_base or Fraction(1, int(round(fps)))
        if s.duration:
            duration = float(s.duration * tb)
        elif c.duration:
            duration = c.duration / av.time_base
        else:
            duration = 0.0
        frames = s.frames or int(round(duration * fps))
        rotation = 0
        try:
            first = next(c.decode(s), None)
            rotation = int(getattr(first, "rotation", 0) or 0) % 360 if first is not None else 0
        except av.error.FFmpegError:
            pass  # the first frame's own error is reported when frames() reaches it
        width, height = (s.height, s.width) if rotation in (90, 270) else (s.width, s.height)
        audio = c.streams.audio[0].codec_context.codec.name if c.streams.audio else None
        return FilmInfo(Path(path), width, height, Fraction(fps), int(frames), duration, Fraction(tb), audio, rotation)


@dataclass
class Frame:
    """One frame: its ``index`` (0 for the first), its ``pts`` (in the stream's time base),
    ``rgb`` (``H x W x 3`` uint8, as shown), or None with ``error`` when it did not decode."""

    index: int
    pts: int | None
    rgb: np.ndarray | None
    error: str = ""


def to_rgb(frame) -> np.ndarray:
    """A decoded ``av.VideoFrame`` -> ``H x W x 3`` uint8 RGB with the matrix and range it
    names, turned as it is shown (a phone's rotation: counter-clockwise by ``frame.rotation``,
    FFmpeg's display matrix)."""
    kw = {}
    if frame.format.name.startswith(("yuv", "nv", "p0", "p2")):  # YUV (gray and RGB frames have no matrix)
        kw["src_colorspace"] = _MATRIX.get(frame.colorspace, "ITU709" if frame.height >= 720 else "ITU601")
        kw["src_color_range"] = "JPEG" if frame.color_range == 2 or frame.format.name.startswith("yuvj") else "MPEG"
    rgb = frame.to_ndarray(format="rgb24", **kw)
    turn = int(round(getattr(frame, "rotation", 0) or 0)) % 360 // 90
    return np.ascontiguousarray(np.rot90(rgb, turn)) if turn else rgb


def frames(path, start: int = 0, after_pts: int | None = None) -> Iterator[Frame]:
    """The film's frames in order, from frame ``start`` on.

    ``after_pts``: the pts of frame ``start - 1`` (a resumed film), to seek there instead
    of decoding every frame before it; without it (or for a film without timestamps)
    the frames before ``start`` are decoded and dropped. A packet that does not decode
    gives a Frame without ``rgb``, numbered as the frame it should have been; the rest go on.
    """
    c, s = open_film(path)
    with c:
        s.thread_type = "AUTO"  # frames and slices decoded on every core
        index, skip = 0, None
        if start > 0 and after_pts is not None:
            c.seek(after_pts, stream=s, backward=True)
            index, skip = start, after_pts
        for packet in c.demux(s):
            try:
                decoded = packet.decode()
            except av.error.FFmpegError as e:
                if skip is None and index >= start:
                    yield Frame(index, packet.pts, None, e.strerror or e.__class__.__name__)
                if skip is None:
                    index += 1
                continue
            for f in decoded:
                if skip is not None:
                    if f.pts is not None and f.pts <= skip:
                        continue
                    skip = None
                if index >= start:
                    yield Frame(index, f.pts, to_rgb(f))
                index += 1
