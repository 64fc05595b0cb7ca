"""Compare colorization methods on the same photos with the same metrics.

A *method* is any function ``rgb -> rgb`` (``H x W x 3`` float in [0, 1] in and out, same
size); ``colorpast.colorize.gray`` is the gray baseline, always included; ``sepia`` (one
colour everywhere, ImageNet's median) is the baseline a model must beat to have learned
more than the average colour of photos, included when asked for. A method whose
``needs_truth`` attribute is true is called ``fn(rgb, truth=..., name=...)``: it may look
at the true photo, as a method given hints revealed from the truth does (``Hinted``).

Two ways to make the task harder, as old photos and their owners make it:

- ``aged``: each photo is colorized from an aged copy (``colorpast.ageing``, a fixed
  seed per photo) and scored against the clean truth;
- ``hints``: each model that takes hints is run with N true colours revealed at random
  points (``colorpast.hints.reveal``, a fixed seed per photo), for every N asked for.
"""

from __future__ import annotations

import csv
import functools
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from tqdm.auto import tqdm

from colorpast import ageing, fid, hints as hint_tools, metrics as M
from colorpast.colorizer import SEPIA_AB, colorize, gray, load_model, sepia, working_size  # noqa: F401 (SEPIA_AB re-exported)
from colorpast.models import spec as model_spec
from colorpast.data import shards
from colorpast.errors import UserError
from colorpast.fsutil import atomic_write, write_text_atomic
from colorpast.photofiles import find_images, read_image
from colorpast.viz import hint_curves, metric_chart, result_grid

PER_IMAGE_COLUMNS = [*M.METRICS, "colorfulness", "colorfulness_truth", *M.SHARE_OF.values()]
# The table's: every metric, both colourfulness means and their gap (DDColor's ΔCF, of the
# set), fid when asked for; the truth's vivid and neutral shares stay in the CSVs.
SUMMARY_COLUMNS = [*M.METRICS, "colorfulness", "colorfulness_truth", "colorfulness_delta"]
# The papers' columns (DDColor, ColorFormer, BigColor, CT2): FID, CF, ΔCF, PSNR.
PAPER_COLUMNS = ["fid", "colorfulness", "colorfulness_truth", "colorfulness_delta", "psnr"]
# Set-level columns: direction and format (per-image ones take theirs from M.METRICS).
_SET_COLUMNS = {"colorfulness_delta": (False, "{:.2f}"), "fid": (False, "{:.2f}")}


@dataclass
class Comparison:
    """Per-image records and the outputs needed for grids."""

    methods: list[str]
    records: list[dict] = field(default_factory=list)  # one per (image, method)
    outputs: dict = field(default_factory=dict)  # (image, method) -> rgb
    truths: dict = field(default_factory=dict)  # image -> (rgb, group)
    set_metrics: dict = field(default_factory=dict)  # method -> {name: value} over all images (fid)

    def summary(self, group: str | None = None) -> list[dict]:
        """Mean of each metric per method (over images of ``group``, or all), the ΔCF of
        those means, and the set metrics (FID) when ``group`` is None."""
        rows = []
        for m in self.methods:
            recs = [r for r in self.records if r["method"] == m and (group is None or r["group"] == group)]
            if not recs:
                continue
            row = {"method": m, "images": len(recs)}
            row.update({k: set_mean(recs, k) for k in PER_IMAGE_COLUMNS})
            row["colorfulness_delta"] = abs(row["colorfulness"] - row["colorfulness_truth"])
            if group is None:
                row.update(self.set_metrics.get(m, {}))
            rows.append(row)
        return rows


def set_mean(records: list[dict], key: str) -> float:
    """A set's figure of one per-image column: the mean over photos, except for the
    object-colour shares (``metrics.SHARE_OF``), where each photo weighs by its own share
    of vivid (or neutral) pixels, so the figure is the share over all such pixels of
    photos of one size, and a photo with none of them (NaN) does not count."""
    if key not in M.SHARE_OF:
        return float(np.mean([r[key] for r in records]))
    w = np.array([r[M.SHARE_OF[key]] for r in records], np.float64)
    v = np.array([r[key] for r in records], np.float64)
    keep = np.isfinite(v) & (w > 0)
    return float(np.sum(v[keep] * w[keep]) / np.sum(w[keep])) if keep.any() else float("nan")


def photo_seed(name: str, seed: int = 0) -> int:
    """A photo's own seed for its ageing and its revealed hints: fixed by its name and ``seed``."""
    return zlib.crc32(str(name).encode()) ^ (int(seed) * 0x9E3779B1 & 0xFFFFFFFF)


class Hinted:
    """A method: ``model`` colorizing with ``n`` true colours revealed at random points of
    each photo (``colorpast.hints.reveal``, at the model's working size, seeded by the
    photo's name). The hints come from the clean truth, also when the input is aged."""

    needs_truth = True

    def __init__(self, model, n: int, size: int | None = None, seed: int = 0, **decode):
        self.model, self.n, self.size, self.seed, self.decode = model, int(n), size, int(seed), decode
        self.spec = model_spec(model)

    def __call__(self, rgb, truth, name):
        h, w = np.asarray(truth).shape[:2]
        ws = working_size(h, w, self.size or self.spec.default_size, self.spec.multiple)
        given = hint_tools.reveal(truth, self.n, ws, seed=photo_seed(name, self.seed))
        return colorize(rgb, self.model, size=self.size, hints=given, **self.decode)


def compare(photos, methods: dict, group_of=None, progress: bool = False, inputs: dict | None = None) -> Comparison:
    """Run every method on every photo and score it.

    Args:
        photos: list of ``(name, rgb)`` with ``rgb`` ``H x W x 3`` uint8 or float in [0, 1].
        methods: ``{name: fn}``; ``"gray"`` is added first if absent.
        group_of: optional ``name -> str`` (e.g. "held-out" or "train"), kept in the records.
        progress: a progress bar over the photos (hundreds take minutes on a CPU).
        inputs: optional ``{name: rgb}``: what the methods colorize instead of the photo
            (an aged copy); the photo stays the truth they are scored against.
    """
    methods = {"gray": gray, **{k: v for k, v in methods.items() if k != "gray"}}
    comp = Comparison(methods=list(methods))
    for name, rgb in tqdm(photos, desc="evaluating", unit="photo", disable=not progress):
        truth = np.asarray(rgb, np.float32) / (255.0 if np.asarray(rgb).dtype == np.uint8 else 1.0)
        group = group_of(name) if group_of else ""
        comp.truths[name] = (truth, group)
        source = rgb if inputs is None else inputs[name]
        for m, fn in methods.items():
            pred = fn(source, truth=rgb, name=name) if getattr(fn, "needs_truth", False) else fn(source)
            comp.outputs[(name, m)] = pred
            comp.records.append({"image": name, "group": group, "method": m, **M.compute_all(truth, pred)})
    return comp


def _fmt(key, value):
    fmt = M.METRICS[key][2] if key in M.METRICS else _SET_COLUMNS.get(key, (None, "{:.1f}"))[1]
    return fmt.format(value)


def _direction(key):
    """True if higher is better, False if lower, None if neither (colourfulness)."""
    return M.METRICS[key][1] if key in M.METRICS else _SET_COLUMNS.get(key, (None,))[0]


def markdown_table(rows: list[dict], columns=None) -> str:
    """A Markdown table of summary rows; arrows say which direction is better.

    columns: which to show (default: every summary column, plus fid when the rows have it).
    """
    if columns is None:
        columns = SUMMARY_COLUMNS + (["fid"] if rows and "fid" in rows[0] else [])
    columns = [k for k in columns if not rows or k in rows[0]]
    heads = ["method", "images"] + [k + {True: " ↑", False: " ↓"}.get(_direction(k), "") for k in columns]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for r in rows:
        cells = [r["method"], str(r["images"])] + [_fmt(k, r[k]) for k in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_csv(rows: list[dict], path) -> None:
    with atomic_write(path, newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})


def grid(comp: Comparison, images=None, path=None, title=None):
    """Result grid: gray input | each method | ground truth, per-image PSNR and CIEDE2000."""
    images = images or list(comp.truths)
    shown = [m for m in comp.methods if m != "gray"]
    rec = {(r["image"], r["method"]): r for r in comp.records}
    rows = []
    for name in images:
        truth, group = comp.truths[name]
        g = rec[(name, "gray")]
        cells = [(comp.outputs[(name, "gray")], f"gray: PSNR {g['psnr']:.1f}, ΔE00 {g['ciede2000']:.1f}")]
        for m in shown:
            r = rec[(name, m)]
            cells.append((comp.outputs[(name, m)], f"PSNR {r['psnr']:.1f} dB, ΔE00 {r['ciede2000']:.1f}"))
        cells.append((truth, f"colourfulness {M.colorfulness(truth):.0f}"))
        label = f"{name} ({group})" if group else name
        rows.append((label, cells))
    # Column titles: a run's folder name, not its whole path ("runs/x/seed16-4000" -> "seed16-4000").
    heads = [m.rstrip("/").rsplit("/", 1)[-1] for m in shown]
    return result_grid(rows, ["gray input", *heads, "ground truth"], path=path, title=title)


def write_report(comp: Comparison, out_dir, groups=None, grid_images=None, title=None, preface=None) -> dict:
    """Write ``metrics.md``, ``metrics.csv`` (summaries), ``per_image.csv`` and ``grid.png``.

    preface: Markdown put before the tables (the paper protocol's table and notes).
    Returns the paths written, by kind.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    groups = groups or [None]
    md, rows_csv = ([preface] if preface else []), []
    for g in groups:
        rows = comp.summary(g)
        if not rows:
            continue
        if g:
            md.append(f"### {g} photos\n")
        md.append(markdown_table(rows))
        rows_csv += [{"group": g or "all", **r} for r in rows]
    write_text_atomic(out / "metrics.md", "\n".join(md))
    write_csv(rows_csv, out / "metrics.csv")
    write_csv(comp.records, out / "per_image.csv")

    plt.close(grid(comp, images=grid_images, path=out / "grid.png", title=title))
    plt.close(metric_chart(comp.summary(), {k: v[1] for k, v in M.METRICS.items()}, path=out / "chart.png", title=title))
    return {
        "table": out / "metrics.md", "csv": out / "metrics.csv", "per_image": out / "per_image.csv",
        "grid": out / "grid.png", "chart": out / "chart.png",
    }


def load_photos(data, split: str = "test", limit: int | None = None) -> list[tuple[str, np.ndarray]]:
    """``(name, H x W x 3 uint8)`` photos to evaluate on.

    ``data`` is a prepared set (its ``split``, at the prepared size; names from its
    manifest when it has one) or a folder of image files (at their full resolution).
    """

    data = Path(data)
    if (data / shards.SUMMARY).is_file():
        images = shards.open_split(data, split)
        n = min(len(images), limit or len(images))
        names = images.names()
        return [(names[i], np.array(images[i])) for i in range(n)]
    if not data.exists():
        raise UserError(f"{data}: no such prepared set or folder")
    files = find_images([data])[: limit or None]
    if not files:
        raise UserError(f"{data} holds no images")
    return [(str(f.relative_to(data)) if data.is_dir() else f.name, read_image(f)) for f in files]


PAPER_SIZE = 256


def center_crop(rgb: np.ndarray, size: int = PAPER_SIZE) -> np.ndarray:
    """``H x W x 3`` uint8 -> ``size x size x 3``: the shorter side resized to ``size``
    (antialiased bilinear) when it is not already, then the central square.

    The papers' ImageNet protocol (256 x 256 centre crops); a photo whose shorter side is
    already ``size`` (the shared imagenet1k-256 set) is only cropped, never resampled.
    """
    a = np.asarray(rgb)
    h, w = a.shape[:2]
    if min(h, w) != size:
        scale = size / min(h, w)
        shape = (max(size, round(h * scale)), max(size, round(w * scale)))
        resized = keras.ops.image.resize(a[None].astype(np.float32), shape, interpolation="bilinear", antialias=True)
        a = np.clip(np.rint(keras.ops.convert_to_numpy(resized)[0]), 0, 255).astype(np.uint8)
    top, left = (a.shape[0] - size) // 2, (a.shape[1] - size) // 2
    return np.ascontiguousarray(a[top:top + size, left:left + size])


def add_fid(comp: Comparison, photos, log=print, cache_dir=None, model=None) -> None:
    """FID of every method's outputs against the truths, into ``comp.set_metrics``.

    The truths' statistics are cached (``colorpast.fid.reference_stats``). Below 1,000
    photos it says that FID is strongly biased there. ``model``: the FID Inception, if
    already loaded.
    """
    model = model if model is not None else fid.load_inception()
    truths = [rgb for _, rgb in photos]
    reference = fid.reference_stats(truths, model, cache_dir=cache_dir, log=log)
    if len(truths) < fid.MIN_IMAGES:
        log("warning: " + fid.small_n_note(len(truths)))

    for m in comp.methods:
        outs = [comp.outputs[(name, m)] for name, _ in photos]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # said once above
            comp.set_metrics.setdefault(m, {})["fid"] = fid.fid(outs, reference, model)


def evaluate(data, models, out, split: str = "test", limit: int | None = None, size: int | None = None,
             grid_count: int = 6, log=print, progress: bool = True, protocol: str = "full", with_fid: bool = False,
             hints=None, aged: bool = False, seed: int = 0, **decode) -> dict:
    """``colorpast evaluate``: every model and the gray baseline on the same photos.

    Args:
        models: references as ``colorpast.colorizer.load_model`` takes them, plus "gray"
            (always included) and "sepia" (``SEPIA_AB`` on every pixel).
        protocol: "full" (photos at their own size, every metric) or "paper" (the
            papers' protocol: 256 x 256 centre crops, models run at 256, FID, CF, ΔCF
            and PSNR first; implies ``with_fid``).
        with_fid: add FID against the evaluated photos (needs ``colorpast weights fetch
            fid-inception``; checked before any work is done).
        hints: numbers of true colours to reveal (``[0, 1, 5, 10, 50]``): every model
            that takes hints gets a row per number, "NAME (N hints)"; the others one row,
            without hints. With two numbers or more, ``hints.png`` draws error against N.
        aged: colorize an aged copy of every photo (``colorpast.ageing``, fixed per photo
            and ``seed``) and score it against the clean photo.
        seed: the seed of the ageing and of the revealed hints.
    Returns the paths written and the summary rows.
    """

    if protocol not in ("full", "paper"):
        raise UserError(f"unknown protocol {protocol!r}; choose full or paper")
    counts = sorted(set(int(n) for n in hints)) if hints else []
    if any(n < 0 for n in counts):
        raise UserError(f"--hints takes numbers of hints, 0 or more; got {', '.join(map(str, hints))}")
    with_fid = with_fid or protocol == "paper"

    inception = fid.load_inception() if with_fid else None  # fails now, in one line, without the weights
    photos = load_photos(data, split, limit)
    if protocol == "paper":
        photos = [(name, center_crop(rgb)) for name, rgb in photos]
        size = size or PAPER_SIZE
    methods, curves = {}, {}
    for ref in models:
        if ref == "gray":
            continue
        if ref == "sepia":
            methods["sepia"] = sepia
            continue
        model = load_model(ref)
        label = ref.rstrip("/")
        if counts and model_spec(model).hints:
            curves[label] = []
            for n in counts:
                methods[f"{label} ({n} hints)"] = Hinted(model, n, size=size, seed=seed, **decode)
                curves[label].append((n, f"{label} ({n} hints)"))
        else:
            methods[label] = functools.partial(colorize, model=model, size=size, **decode)  # rgb -> its colorization
    if counts and not curves:
        raise UserError("--hints needs a model that takes colour hints (a run of seed16_hints); none of "
                        f"{', '.join(m for m in models if m not in ('gray', 'sepia')) or 'the models given'} does")
    inputs = {name: ageing.age_photo(rgb, photo_seed(name, seed)) for name, rgb in photos} if aged else None
    crop = " (256 x 256 centre crops)" if protocol == "paper" else ""
    aged_note = ", colorized from aged copies" if aged else ""
    log(f"evaluating gray{''.join(', ' + k for k in methods)} on {len(photos)} photos{crop}{aged_note} from {data}")
    comp = compare(photos, methods, progress=progress, inputs=inputs)
    preface = None
    if with_fid:
        add_fid(comp, photos, log=log, model=inception)
        if len(photos) < fid.MIN_IMAGES:
            preface = f"FID over {len(photos)} photos: " + fid.small_n_note(len(photos)).split(": ", 1)[1] + ".\n"
    rows = comp.summary()
    if protocol == "paper":
        paper = f"### the papers' protocol: {len(photos)} photos, 256 x 256 centre crops\n\n" + markdown_table(rows, PAPER_COLUMNS)
        preface = paper + ("\n" + preface if preface else "") + "\n### every metric\n"
    if aged:
        note = (f"Every photo was colorized from an aged copy (colorpast.ageing, seed {seed}) and scored against "
                "the clean photo; the output keeps the aged copy's L, so even a perfect colour leaves the "
                "print's damage in L (the gray row shows it).\n")
        preface = note + ("\n" + preface if preface else "")
    paths = write_report(comp, out, grid_images=[n for n, _ in photos[:grid_count]],
                         title=f"{Path(str(data)).name}: {len(photos)} photos{crop}{aged_note}", preface=preface)
    if curves and len(counts) > 1:
        paths["hints"] = Path(out) / "hints.png"
        by = {r["method"]: r for r in rows}
        hinted = {name for pts in curves.values() for _, name in pts}
        lines = {label: [(n, by[m]) for n, m in pts] for label, pts in curves.items()}
        flat = [r for r in rows if r["method"] not in hinted]
        metrics = {k: _direction(k) for k in ("ciede2000", "psnr", "colorfulness_delta")}
        plt.close(hint_curves(lines, flat, metrics, path=paths["hints"], title=f"{Path(str(data)).name}: error against hints"))
    if protocol == "paper":
        log(markdown_table(rows, PAPER_COLUMNS))
    log(markdown_table(rows))
    for kind, p in paths.items():
        log(f"  {kind:<9} {p}")
    return {"paths": paths, "summary": rows}
