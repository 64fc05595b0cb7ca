"""Colour hints on a film: points given on one frame, carried with what they were put on
until the shot ends.

A film's hints are a photo's points (``colorpast.hints``) with the frame each was given
on, counted from 0: ``[{"frame": 120, "x": 300, "y": 210, "color": "red"}, ...]``, x and
y in the film's pixels as it is shown. From its frame on, a point moves by the optical
flow under it (the same flow that carries the colour, ``colorpast.video.flow``), so "her
dress was red" stays on the dress as she walks. It ends where its shot ends (a scene
cut: the next shot is another place, or another time) and where it leaves the frame.
A point says nothing about the frames of its shot before its own: give it on the first
frame of the shot to colour all of it.

NumPy and OpenCV; the points become ``colorpast.hints.Hints`` for the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from colorpast import hints as hint_tools
from colorpast.errors import UserError

EXAMPLE = '[{"frame": 0, "x": 120, "y": 45, "color": "red"}]'


@dataclass(frozen=True)
class FilmPoint:
    """A hint given on ``frame``: at ``x``, ``y`` (the film's pixels), ``ab`` in Lab units."""

    frame: int
    x: float
    y: float
    ab: tuple[float, float]


def load(spec, shape: tuple[int, int], frames: int | None = None) -> list[FilmPoint]:
    """A film's points from a ``.json`` file or a list of dicts, checked against the film's
    ``shape`` (H, W) and, when known, its number of ``frames``; a point that does not fit
    is a one-line UserError naming it."""
    source = "hints"
    if isinstance(spec, (str, Path)):
        p = Path(spec)
        source = str(p)
        if not p.is_file():
            raise UserError(f"{p}: no such hints file (give a .json list of points like {EXAMPLE})")
        if p.suffix.lower() != ".json":
            raise UserError(f"{p}: a film's hints are a .json list of points like {EXAMPLE} (a scribble is for a photo)")
        try:
            spec = json.loads(p.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise UserError(f"{p}: not valid JSON ({e.__class__.__name__}: {e})") from None
    if not isinstance(spec, list):
        raise UserError(f"{source}: expected a list of points like {EXAMPLE}")
    out = []
    for i, item in enumerate(spec, start=1):
        if not isinstance(item, dict) or not {"frame", "x", "y", "color"} <= set(item):
            raise UserError(f"{source}: point {i} needs frame, x, y and color (a film's frame counts from 0), got {item!r}")
        frame = item["frame"]
        if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
            raise UserError(f"{source}: point {i} has frame {frame!r}: give a frame number, 0 for the first")
        if frames and frame >= frames:
            raise UserError(f"{source}: point {i} is on frame {frame}, but the film has {frames} frames (0 to {frames - 1})")
        rest = {k: item[k] for k in ("x", "y", "color")}
        try:
            (p,) = hint_tools.points([rest], shape, source=source).points
        except UserError as e:  # the photo's wording ("point 1", "photo"): said for this point of a film
            raise UserError(str(e).replace("point 1", f"point {i}").replace(" photo", " film")) from None
        out.append(FilmPoint(frame, p.x, p.y, p.ab))
    return sorted(out, key=lambda p: p.frame)


class Tracker:
    """The points on the frame at hand. For each frame in order: :meth:`cut` at a new shot,
    :meth:`move` by the forward flow otherwise, then :meth:`begin` to add the points given
    on it; :meth:`hints` are then the frame's hints.

    ``shape``: the film's (H, W); ``size``: the (h, w) the flow is measured at."""

    WINDOW = 3  # a point moves by the mean flow of the 3 x 3 flow pixels around it
    _offsets = np.arange(WINDOW, dtype=np.float32) - WINDOW // 2

    def __init__(self, points: list[FilmPoint], shape: tuple[int, int], size: tuple[int, int]):
        self.points = sorted(points, key=lambda p: p.frame)
        self.shape, self.size = tuple(shape), tuple(size)
        self.active: list[list[float]] = []  # [x, y, a, b] in the film's pixels
        self.given = 0  # how many of ``points`` have begun

    def cut(self) -> None:
        """A new shot: the points of the last one end."""
        self.active = []

    def move(self, forward: np.ndarray) -> None:
        """Move each point by ``forward`` (``h x w x 2``, from the frame before to this one,
        at ``size``); a point that leaves the frame ends."""
        (H, W), (h, w) = self.shape, self.size
        kept = []
        for x, y, a, b in self.active:
            cx, cy = (x + 0.5) * w / W - 0.5, (y + 0.5) * h / H - 0.5
            mx, my = np.meshgrid(cx + self._offsets, cy + self._offsets)
            d = cv2.remap(forward, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(-1, 2).mean(axis=0)
            x, y = x + float(d[0]) * W / w, y + float(d[1]) * H / h
            if 0 <= x < W and 0 <= y < H:
                kept.append([x, y, a, b])
        self.active = kept

    def begin(self, index: int) -> bool:
        """Add the points given on frame ``index`` (and any earlier that were passed over);
        whether any began."""
        start = self.given
        while self.given < len(self.points) and self.points[self.given].frame <= index:
            p = self.points[self.given]
            self.active.append([p.x, p.y, *p.ab])
            self.given += 1
        return self.given > start

    def hints(self) -> hint_tools.Hints | None:
        """The points on this frame as a photo's hints; None without any."""
        if not self.active:
            return None
        return hint_tools.Hints(self.shape, points=[hint_tools.Point(x, y, (a, b)) for x, y, a, b in self.active])

    def positions(self) -> list[tuple[float, float]]:
        """Where the points on this frame are, (x, y) in the film's pixels."""
        return [(x, y) for x, y, _, _ in self.active]

    def state(self) -> dict:
        """What a resumed film needs to go on exactly: JSON-able."""
        return {"active": self.active, "given": self.given}

    def restore(self, state: dict) -> None:
        self.active = [list(map(float, p)) for p in state["active"]]
        self.given = int(state["given"])
