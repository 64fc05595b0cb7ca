"""07's steps, which no CLI verb has: your films (an upload every session), their first
frames with a grid to read positions off, a short preview, the film played inline.

    from colorpast import films
    folder = films.films_folder("films", env)            # on Colab: an upload every session
    film = films.pick_film(folder)
    films.show_frames(film)                              # frames 0, 1 s, 2 s ... with the grid
    preview = films.colour(film, model, "coloured", preview=10)
    films.play(preview)

The colouring itself is ``colorpast.video.film.colorize_film`` (as ``colorpast colorize
FILM``): a disconnect keeps the finished pieces on Drive, and the next session goes on
from them. Keras, IPython and google.colab are imported inside the functions that use
them, as in ``colorpast.photos``.
"""

from __future__ import annotations

import base64
import os
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from colorpast.data import sources
from colorpast.fsutil import atomic_path
from colorpast.notebook import Environment
from colorpast.photos import DISPLAY_WIDTH, fit_width, grid_step
from colorpast.video import reader

FORMATS = "MP4, MOV, MKV, WebM, AVI"
MAX_EMBED = 40_000_000  # bytes: a film played inline is embedded in the notebook; a bigger one is shown as frames
SMOKE_FILM = "smoke-reel.mp4"


def smoke_film(path, seconds: float = 3.0, fps: int = 12, size=(120, 160)) -> Path:
    """A made-up black-and-white film, offline: a slow pan across an embedded photo, a cut
    to another, a 440 Hz tone as its sound (``size``: height, width)."""
    import av

    h, w = size
    shots = [p.rgb.mean(axis=2).astype(np.uint8) for p in sources.embedded_sample(["chelsea", "coffee"])]
    n = int(seconds * fps)
    path = Path(path)
    with atomic_path(path) as tmp:
        with av.open(str(tmp), "w", format="mp4") as c:
            v = c.add_stream("libx264", rate=fps)
            v.width, v.height, v.pix_fmt = w, h, "yuv420p"
            a = c.add_stream("aac", rate=44100)
            a.layout = "mono"
            for i in range(n):
                photo = shots[0] if i < 2 * n // 3 else shots[1]
                x = 2 * i  # the camera pans right, 2 px a frame
                frame = np.repeat(photo[40:40 + h, 20 + x:20 + x + w, None], 3, axis=2)
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                vf.pts, vf.time_base = i, Fraction(1, fps)
                c.mux(v.encode(vf))
            c.mux(v.encode(None))
            t = np.arange(int(44100 * seconds)) / 44100
            tone = (0.2 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
            for k in range(0, len(tone), 1024):
                af = av.AudioFrame.from_ndarray(tone[None, k:k + 1024], format="s16", layout="mono")
                af.sample_rate, af.pts, af.time_base = 44100, k, Fraction(1, 44100)
                c.mux(a.encode(af))
            c.mux(a.encode(None))
    return path


def films_folder(folder, env: Environment, smoke: bool = False, upload: bool = True, log=print) -> Path:
    """The folder of films to colour; on Colab, with ``upload``, first an upload button.

    As 06's photos: on Colab the button opens every session (cancel it to add nothing),
    each session's files go to a subfolder of their own, on Drive. In SMOKE mode, into a
    folder with no film, a made-up black-and-white film of 3 seconds (:func:`smoke_film`)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if smoke:
        if not reader.find_films([folder]):
            smoke_film(folder / SMOKE_FILM)
    elif env.is_colab and upload:
        from google.colab import files

        session = folder / time.strftime("upload-%Y%m%d-%H%M%S")
        session.mkdir()
        here = Path.cwd()
        os.chdir(session)  # files.upload() saves into the current folder
        try:
            files.upload()
        finally:
            os.chdir(here)
        if not any(session.iterdir()):
            session.rmdir()  # cancelled: nothing new
    found = reader.find_films([folder])
    if found:
        log(f"{len(found)} film(s) in {folder}: " + ", ".join(f.name for f in found[:8]) + (" ..." if len(found) > 8 else ""))
    else:
        log(f"{folder.resolve()} has no films ({FORMATS}): " + (
            "run this cell again and pick one with the upload button (or copy it into that folder on Drive)"
            if env.is_colab else "put your films there and run this cell again"))
    return folder


def pick_film(folder, name=None, log=print) -> Path | None:
    """The film of ``folder`` called ``name`` (a file name or a path below it), else the first; None, with one line, when there is none."""
    found = reader.find_films([folder]) if Path(folder).exists() else []
    if name:
        chosen = [f for f in found if f.name == name or str(f).endswith(str(name))]
        if not chosen:
            log(f"no film {name!r} in {folder}; its films: {', '.join(f.name for f in found[:8]) or 'none'}")
            return None
        return chosen[0]
    if not found:
        log(f"no film in {folder}")
        return None
    return found[0]


def frames_at(film, indices) -> dict[int, np.ndarray]:
    """The frames ``indices`` of ``film`` (``H x W x 3`` uint8), decoded from the start up to the last one asked for."""
    wanted, got = set(indices), {}
    for f in reader.frames(film):
        if f.index in wanted and f.rgb is not None:
            got[f.index] = f.rgb
        if f.index >= max(wanted):
            break
    return got


def show_frames(film, frames=None, width: int = DISPLAY_WIDTH, log=print):
    """Inline: frames of ``film`` in black and white (default: the first, then one a second
    for three seconds), each with a grid labelled in the film's pixels and its frame
    number, to read hints off: (frame, x, y), x to the right and y down from the top-left
    corner. Returns the figure."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    from colorpast.colorizer import gray

    info = reader.probe(film)
    log(f"{Path(film).name}: {info.describe()}")
    if frames is None:
        step = max(1, round(float(info.fps)))
        frames = [i for i in (0, step, 2 * step, 3 * step) if i < max(info.frames, 1)]
    got = frames_at(film, frames)
    shown = [i for i in frames if i in got]
    h, w = info.height, info.width
    cols = min(2, len(shown))
    rows = -(-len(shown) // cols)
    panel = width / cols / 100
    fig, axes = plt.subplots(rows, cols, figsize=(panel * cols, (panel * h / w + 0.7) * rows), dpi=100, squeeze=False)
    step = grid_step(max(h, w))
    for ax, i in zip(axes.flat, shown):
        ax.imshow(fit_width(np.clip(gray(got[i]), 0, 1), width // cols), extent=(0, w, h, 0), interpolation="antialiased")
        ax.set_xticks(range(0, w + 1, step))
        ax.set_yticks(range(0, h + 1, step))
        ax.grid(color="#ffd23f", alpha=0.6, linewidth=0.7)
        ax.xaxis.tick_top()
        ax.set_title(f"frame {i} ({i / float(info.fps):.1f} s)", pad=20)
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    fig.tight_layout()
    display(fig)
    plt.close(fig)
    return fig


def film_points(points) -> list[dict]:
    """07's ``POINTS``, ``(frame, x, y, colour)`` tuples (or dicts), as a film's hints take them."""
    return [p if isinstance(p, dict) else {"frame": p[0], "x": p[1], "y": p[2], "color": p[3]} for p in points]


def colour(film, model, out_dir, points=None, preview: float | None = None, redo: bool = False, log=print, **options):
    """Colour ``film`` into ``out_dir`` (``<name>.mp4``, or ``<name>-preview.mp4`` for the first
    ``preview`` seconds) with ``points`` (07's ``POINTS``) when given; a film coloured
    before is left as it is unless ``redo``. Returns the output's path."""
    from colorpast.video.film import colorize_film

    hints = film_points(points) if points else None
    r = colorize_film(film, model, out_dir, hints=hints, preview=preview, skip_done=not redo, log=log, **options)
    if r.frames:
        log(f"{r.path}: {r.frames} frames coloured ({r.model_frames} by the model, {r.cuts} cut(s))"
            + (f"; {len(r.unreadable)} did not decode" if r.unreadable else ""))
    return r.path


def play(path, width: int = DISPLAY_WIDTH // 2, log=print) -> None:
    """Inline: the film at ``path`` in a player, with its sound (embedded in the notebook: up
    to ``MAX_EMBED`` bytes); a bigger one as three of its frames, and where it is."""
    from IPython.display import HTML, display

    path = Path(path)
    if path.stat().st_size <= MAX_EMBED:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        display(HTML(f'<video controls width="{width}" src="data:video/mp4;base64,{data}"></video>'))
        return
    import matplotlib.pyplot as plt

    info = reader.probe(path)
    picks = [0, info.frames // 2, max(info.frames - 1, 0)]
    got = frames_at(path, picks)
    fig, axes = plt.subplots(1, len(got), figsize=(width / 100 * 1.5, width / 100 * 1.5 / len(got) * info.height / info.width + 0.5))
    for ax, (i, rgb) in zip(np.atleast_1d(axes), sorted(got.items())):
        ax.imshow(fit_width(rgb, width))
        ax.set_title(f"frame {i}")
        ax.axis("off")
    display(fig)
    plt.close(fig)
    log(f"{path} is {path.stat().st_size / 1e6:.0f} MB, too big to play here: download it below (three of its frames above)")
