"""``colorize_film``: a film in, the same film in colour out, at its size and frame rate,
with its sound; resumable, never half-written.

Frames stream through one at a time: decoded (``reader``), coloured (``carry``), encoded
into pieces of ``PIECE_SECONDS`` (``writer.Piece``), so memory does not grow with the
film's length. Beside each finished piece the colorizer's state is saved (the frame
before, its colour, the hints where they are), so a run that stops (a Colab disconnect,
Ctrl-C, a killed process) goes on, when run again with the same settings, from the end
of its last piece, exactly as if it had not stopped. The pieces and the film's own sound
are joined into ``OUT/NAME.mp4`` at the end (``writer.join``), atomically: the output is
complete or absent. The pieces live in a hidden folder beside it, ``.NAME.mp4.parts``,
deleted once the film is done.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from colorpast.errors import UserError
from colorpast.fsutil import atomic_path, discard, remove_partials, write_text_atomic
from colorpast.video import carry as carry_tools, points as film_points, reader, writer

PIECE_SECONDS = 10  # of film a piece: what a stop loses at most (at 8 frames/s, 30 s of work for a 24 fps film)
JOB = "job.json"


@dataclass
class FilmResult:
    """What ``colorize_film`` did: the output, the frames coloured, those the model coloured,
    the cuts found, the frames that did not decode (``(index, why)``) and where it began."""

    path: Path
    frames: int = 0
    model_frames: int = 0
    cuts: int = 0
    unreadable: list = field(default_factory=list)
    resumed_at: int = 0


def film_output(film, paths, out_dir, preview: float | None = None) -> Path:
    """Where a film's colour goes: ``out_dir/<name>.mp4`` (``<name>-preview.mp4`` for a
    preview), keeping the folder structure below the folder of ``paths`` it was found in;
    two films with the same name beside each other (``a.avi``, ``a.mov``) each get their own
    (``a-avi.mp4``, ``a-mov.mp4``)."""
    film = Path(film)
    twins = [f for f in film.parent.glob(film.stem + ".*") if f != film and reader.is_film(f)] if film.parent.is_dir() else []
    name = film.stem + (f"-{film.suffix.lstrip('.').lower()}" if twins else "") + ("-preview" if preview else "") + ".mp4"
    for r in map(Path, paths or []):
        if r.is_dir() and film.is_relative_to(r):
            return Path(out_dir) / film.relative_to(r).parent / name
    return Path(out_dir) / name


def _source_id(path: Path) -> str:
    """The film's identity for a resume: its size and the sha256 of its first and last MB
    (a film uploaded again is the same film; another one of the same name is not)."""
    h = hashlib.sha256(str(path.stat().st_size).encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 20))
        f.seek(max(0, path.stat().st_size - (1 << 20)))
        h.update(f.read(1 << 20))
    return h.hexdigest()


def _model_id(model) -> str:
    """The model's identity: its name and the sha256 of its weights."""
    h = hashlib.sha256(model.name.encode())
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w).tobytes())
    return h.hexdigest()


def _fault(index: int) -> None:
    """Fault injection for the test suite: ``COLORPAST_FAULT=sigint-at-frame:N`` stops the film at frame N."""
    if os.environ.get("COLORPAST_FAULT") == f"sigint-at-frame:{index}":
        raise KeyboardInterrupt(f"COLORPAST_FAULT at frame {index}")


class Parts:
    """The hidden folder of a film's finished pieces, each with the state after it."""

    def __init__(self, dest: Path, job: dict, log):
        self.folder = dest.parent / f".{dest.name}.parts"
        self.job = job
        known = self.folder / JOB
        if known.is_file():
            try:
                same = json.loads(known.read_text()) == job
            except (OSError, json.JSONDecodeError):
                same = False
            if not same:
                log(f"{dest.name}: the pieces coloured before were made from another film or with other settings: "
                    "starting over")
                discard(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_partials(self.folder)
        if not known.is_file():
            write_text_atomic(known, json.dumps(job, indent=1))

    def piece(self, k: int) -> Path:
        return self.folder / f"piece-{k:05d}.mp4"

    def state(self, k: int) -> Path:
        return self.folder / f"state-{k:05d}.npz"

    def done(self) -> int:
        """How many pieces are finished, counted from the first (each with its state)."""
        k = 0
        while self.piece(k).is_file() and self.state(k).is_file():
            k += 1
        return k

    def save_state(self, k: int, arrays: dict, info: dict) -> None:
        with atomic_path(self.state(k)) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, info=np.frombuffer(json.dumps(info).encode(), np.uint8), **arrays)

    def load_state(self, k: int) -> tuple[dict, dict]:
        with np.load(self.state(k)) as z:
            arrays = {name: z[name] for name in z.files if name != "info"}
            return arrays, json.loads(z["info"].tobytes().decode())


def colorize_film(path, model, out_dir, paths=None, size: int | None = None, hints=None,
                  carry: carry_tools.Carry = carry_tools.DEFAULT, preview: float | None = None,
                  normalize: bool = False, saturation: float = 1.0, progress: bool = True, log=None,
                  skip_done: bool = False, **decode) -> FilmResult:
    """Colour the film at ``path`` into ``out_dir`` (see :func:`film_output`); returns a :class:`FilmResult`.

    model: a Keras model; hints: a film's points (``colorpast.video.points``: a .json
    file or a list), for a model that takes hints; carry: how colour is carried between
    frames (``carry.DEFAULT``; ``carry.FRAME_BY_FRAME`` colours each frame alone);
    preview: colour only the first this many seconds, into ``<name>-preview.mp4``;
    skip_done: leave a film whose output exists as it is. ``size``, ``normalize``,
    ``saturation`` and ``decode`` as for a photo (``colorizer.colorize``).
    A run stopped half-way goes on from where it stopped when called again with the same
    film, model and settings; with others it starts over, saying so.
    """
    log = log or (lambda msg: None)
    path = Path(path)
    info = reader.probe(path)
    dest = film_output(path, paths, out_dir, preview)
    if dest.resolve() == path.resolve():
        raise UserError(f"{path}: its colour would replace it: give another output folder")
    result = FilmResult(dest)
    if skip_done and dest.is_file() and not (dest.parent / f".{dest.name}.parts").exists():
        log(f"{dest} is already coloured: left as it is")
        return result
    given = film_points.load(hints, (info.height, info.width), info.frames) if hints is not None else []
    if preview is not None and not preview > 0:
        raise UserError(f"a preview is some seconds of the film's start; got {preview}")
    # A preview stops after its frames; a whole film at its last frame, whatever its header
    # counted (an estimate where the container has no count: a Matroska's is its duration x fps).
    limit = math.ceil(preview * info.fps) if preview else None
    total = min(info.frames, limit) if limit else info.frames
    per_piece = max(1, round(PIECE_SECONDS * float(info.fps)))
    colour = carry_tools.FilmColorizer(model, (info.height, info.width), size=size, points=given, carry=carry,
                                       normalize=normalize, saturation=saturation, **decode)
    dest.parent.mkdir(parents=True, exist_ok=True)
    job = {"film": _source_id(path), "model": _model_id(model), "size": size, "carry": asdict(carry.check()),
           "hints": [asdict(p) for p in given], "preview": preview, "normalize": normalize, "saturation": saturation,
           "decode": {k: repr(v) for k, v in sorted(decode.items())}, "per_piece": per_piece}
    parts = Parts(dest, job, log)
    done = parts.done()
    start, after_pts, last_pts = 0, None, None
    if done:
        arrays, state = parts.load_state(done - 1)
        colour.restore(arrays, state["colorizer"])
        start, after_pts, last_pts = state["next"], state["after_pts"], state["last_pts"]
        result.unreadable = [tuple(u) for u in state["unreadable"]]
        log(f"{path.name}: resuming at frame {start} of {total} ({done} piece(s) of {per_piece} frames done)")
    result.resumed_at = start
    log(f"{path.name}: {info.describe()}")
    step = max(1, int(round(info.time_base ** -1 / info.fps))) if info.time_base else 1  # a frame's ticks
    bar = tqdm(total=total, initial=min(start, total), unit="frame", desc=path.name, disable=not progress)
    piece, k = None, done
    try:
        for frame in reader.frames(path, start, after_pts):
            if limit is not None and frame.index >= limit:
                break
            _fault(frame.index)
            if frame.rgb is None:
                result.unreadable.append((frame.index, frame.error))
                log(f"{path.name}: frame {frame.index} did not decode ({frame.error}): the frame before is shown in its place")
            out = colour(frame.index, frame.rgb)
            pts = frame.pts if frame.pts is not None and (last_pts is None or frame.pts > last_pts) else (
                0 if last_pts is None else last_pts + step)
            if out is not None:
                if piece is None:
                    piece = writer.Piece(parts.piece(k), info.width, info.height, info.fps, info.time_base)
                piece.write(out, pts)
                last_pts = pts
            bar.update(1)
            if (frame.index + 1) % per_piece == 0 and piece is not None:
                piece.close()
                piece = None
                arrays, state = colour.state()
                parts.save_state(k, arrays, {"colorizer": state, "next": frame.index + 1, "after_pts": frame.pts,
                                             "last_pts": last_pts, "unreadable": result.unreadable})
                k += 1
        if piece is not None:
            piece.close()
            piece = None
            k += 1
    except BaseException:
        if piece is not None:
            piece.abort()
        raise
    finally:
        bar.close()
    pieces = [parts.piece(i) for i in range(k) if parts.piece(i).is_file()]
    if not pieces:
        raise UserError(f"{path}: no frame of it could be decoded")
    writer.join(pieces, path, dest, until=(limit / float(info.fps)) if preview else None)
    discard(parts.folder)
    counts = colour.counts
    result.frames, result.model_frames, result.cuts = counts["frames"], counts["model"], counts["cuts"]
    return result

