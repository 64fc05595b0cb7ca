"""Evaluate on films: every model coloured frame by frame and with colour carried, beside
the true video and the gray one, with the temporal measure (``colorpast.video.measure``).

Each film is colour footage: its frames are the truth; the methods colour them from
their L alone (as from a black-and-white film) and are scored against them frame by
frame, all in one pass, one frame in memory at a time. Written into the report folder:
``films.md`` (a table per film and the mean over films, with the flicker of each
method as a multiple of the true video's and of the same model frame by frame),
``films.csv``, and ``frames.png`` (a few frames of each film: gray | each method | truth).
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from colorpast.colorizer import load_model
from colorpast.errors import UserError
from colorpast.fsutil import atomic_write, write_text_atomic
from colorpast.video import carry as carry_tools, reader
from colorpast.video.measure import FilmScores
from colorpast.viz import result_grid

FRAME_BY_FRAME = "frame by frame"
COLUMNS = ["temporal", "x_truth", "x_frame_by_frame", "ciede2000", "colorfulness"]
HEADS = {"temporal": "temporal ΔE00 ↓", "x_truth": "× truth's", "x_frame_by_frame": "× frame by frame",
         "ciede2000": "CIEDE2000 ↓", "colorfulness": "colourfulness"}
SHOWN = 3  # frames of each film drawn in frames.png
# Below this mean colourfulness (Hasler and Suesstrunk, 0..255) a film is black and white:
# the shared clips' two old films score 0.0, the palest colour clip (a gray road) 5.8, on
# every 10th frame.
BLACK_AND_WHITE = 1.0


def _gray(rgb: np.ndarray) -> np.ndarray:
    """The gray video's frame: the truth's L with no colour (``colorizer.gray``), uint8."""
    from colorpast.colorizer import gray

    return np.clip(np.rint(gray(rgb) * 255), 0, 255).astype(np.uint8)


def _methods(models, carry) -> dict:
    """``{label: (model, Carry)}``: each model frame by frame and carried."""
    out = {}
    for ref in models:
        model = load_model(ref)
        label = str(ref).rstrip("/")
        out[f"{label} ({FRAME_BY_FRAME})"] = (model, carry_tools.FRAME_BY_FRAME)
        out[label] = (model, carry)
    return out


def score_film(path, methods: dict, size=None, limit: int | None = None, progress: bool = True, **decode):
    """One film: ``(summary rows, shown frames)``. ``methods``: ``{label: (model, Carry)}``;
    ``limit``: only the first this many frames."""
    info = reader.probe(path)
    total = min(info.frames, limit) if limit else info.frames
    colorizers = {label: carry_tools.FilmColorizer(m, (info.height, info.width), size=size, carry=c, **decode)
                  for label, (m, c) in methods.items()}
    scores = FilmScores()
    picks = set(np.linspace(0, max(total - 1, 0), SHOWN).round().astype(int).tolist())
    shown = []
    for frame in tqdm(reader.frames(path), total=total, unit="frame", desc=Path(path).name,
                      disable=not progress):
        if limit and frame.index >= limit:
            break
        if frame.rgb is None:
            continue  # a frame that does not decode has no truth to score against
        outs = {"gray": _gray(frame.rgb), **{label: c(frame.index, frame.rgb) for label, c in colorizers.items()}}
        scores.add(frame.rgb, outs)
        if frame.index in picks:
            shown.append((frame.index, frame.rgb, outs))
    summary = scores.summary()
    if not summary:
        raise UserError(f"{path}: no frame of it could be decoded")
    # A black-and-white film has no true colour: nothing to score colour against (its
    # "truth" is gray), only the flicker of one colouring against another's.
    colour = summary["truth"]["colorfulness"] >= BLACK_AND_WHITE
    truth = summary["truth"]["temporal"] if colour else 0.0
    nan = float("nan")
    rows = []
    for label, s in summary.items():
        base = summary.get(f"{label} ({FRAME_BY_FRAME})", {}).get("temporal")
        row = {"film": Path(path).name, "method": label, "temporal": s["temporal"],
               "ciede2000": s["ciede2000"] if colour else nan, "colorfulness": s["colorfulness"],
               "x_truth": s["temporal"] / truth if truth else nan,
               "x_frame_by_frame": s["temporal"] / base if base else nan,
               "frames": s["frames"], "pairs": s["pairs"], "cuts": s["cuts"], "colour": colour}
        if label in colorizers:
            row["model_frames"] = colorizers[label].counts["model"]
        rows.append(row)
    return rows, shown


def _table(rows) -> str:
    heads = ["method", *[HEADS[c] for c in COLUMNS]]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for r in rows:
        cells = [f"{r[c]:.2f}" if np.isfinite(r[c]) else "-" for c in COLUMNS]
        lines.append("| " + " | ".join([r["method"], *cells]) + " |")
    return "\n".join(lines) + "\n"


def _mean_rows(rows) -> list[dict]:
    """The mean of each column over films, per method (ratios: the mean of each film's)."""
    out = []
    for m in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == m]
        out.append({"method": m, **{c: float(np.nanmean([r[c] for r in mine])) if any(np.isfinite(r[c]) for r in mine)
                                    else float("nan") for c in COLUMNS}})
    return out


def evaluate_films(films, models, out, size=None, limit: int | None = None, carry=carry_tools.DEFAULT, log=print,
                   progress: bool = True, **decode) -> dict:
    """``colorpast evaluate`` on films: every model frame by frame and carried, the gray
    video and the truth, on each film of ``films`` (paths or folders); the report in ``out``.
    Returns ``{"rows": per film and method, "mean": per method, "paths": ...}``."""
    films = reader.find_films(films)
    if not films:
        raise UserError("no film to evaluate on (mp4, mov, mkv, webm, avi ...)")
    methods = _methods(models, carry)
    log(f"evaluating gray{''.join(', ' + m for m in methods)} on {len(films)} film(s)"
        + (f", the first {limit} frames of each" if limit else ""))
    rows, grid_rows = [], []
    for f in films:
        film_rows, shown = score_film(f, methods, size=size, limit=limit, progress=progress, **decode)
        rows += film_rows
        for index, truth, outs in shown:
            cells = [(outs["gray"] / 255.0, ""), *[(outs[m] / 255.0, "") for m in methods], (truth / 255.0, "")]
            grid_rows.append((f"{Path(f).stem[:24]}\nframe {index}", cells))
    mean = _mean_rows(rows)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n_colour = len({r["film"] for r in rows if r["colour"]})
    md = [f"### mean over {len(films)} film(s) ({n_colour} in colour: the figures against the truth are theirs)\n",
          _table(mean)]
    for f in films:
        mine = [r for r in rows if r["film"] == Path(f).name]
        r0 = mine[0]
        kind = "" if r0["colour"] else ", black and white: no true colour to score against"
        md += [f"\n### {Path(f).name}: {r0['frames']} frames, {r0['cuts']} cut(s){kind}\n", _table(mine)]
    paths = {"table": out / "films.md", "csv": out / "films.csv", "frames": out / "frames.png"}
    write_text_atomic(paths["table"], "\n".join(md))
    with atomic_write(paths["csv"], newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    heads = ["gray input", *[m.rsplit("/", 1)[-1] for m in methods], "true colour"]
    plt.close(result_grid(grid_rows, heads, path=paths["frames"], title="films: frames coloured"))
    log("\n".join(md))
    for kind, p in paths.items():
        log(f"  {kind:<7} {p}")
    return {"rows": rows, "mean": mean, "paths": paths}
