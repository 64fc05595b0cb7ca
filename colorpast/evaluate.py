"""Compare colorization methods on the same photos with the same metrics.

A *method* is any function ``rgb -> rgb`` (``H x W x 3`` float in [0, 1] in and out, same
size); ``colorpast.colorize.gray`` is the gray baseline, always included.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from colorpast import metrics as M
from colorpast.colorizer import gray
from colorpast.viz import metric_chart, result_grid

SUMMARY_COLUMNS = [*M.METRICS, "colorfulness", "colorfulness_truth"]


@dataclass
class Comparison:
    """Per-image records and the outputs needed for grids."""

    methods: list[str]
    records: list[dict] = field(default_factory=list)  # one per (image, method)
    outputs: dict = field(default_factory=dict)  # (image, method) -> rgb
    truths: dict = field(default_factory=dict)  # image -> (rgb, group)

    def summary(self, group: str | None = None) -> list[dict]:
        """Mean of each metric per method (over images of ``group``, or all)."""
        rows = []
        for m in self.methods:
            recs = [r for r in self.records if r["method"] == m and (group is None or r["group"] == group)]
            if not recs:
                continue
            row = {"method": m, "images": len(recs)}
            row.update({k: float(np.mean([r[k] for r in recs])) for k in SUMMARY_COLUMNS})
            rows.append(row)
        return rows


def compare(photos, methods: dict, group_of=None, progress: bool = False) -> Comparison:
    """Run every method on every photo and score it.

    Args:
        photos: list of ``(name, rgb)`` with ``rgb`` ``H x W x 3`` uint8 or float in [0, 1].
        methods: ``{name: fn}``; ``"gray"`` is added first if absent.
        group_of: optional ``name -> str`` (e.g. "held-out" or "train"), kept in the records.
        progress: a progress bar over the photos (hundreds take minutes on a CPU).
    """
    from tqdm.auto import tqdm  # widgets in notebooks, text elsewhere

    methods = {"gray": gray, **{k: v for k, v in methods.items() if k != "gray"}}
    comp = Comparison(methods=list(methods))
    for name, rgb in tqdm(photos, desc="evaluating", unit="photo", disable=not progress):
        truth = np.asarray(rgb, np.float32) / (255.0 if np.asarray(rgb).dtype == np.uint8 else 1.0)
        group = group_of(name) if group_of else ""
        comp.truths[name] = (truth, group)
        for m, fn in methods.items():
            pred = fn(rgb)
            comp.outputs[(name, m)] = pred
            comp.records.append({"image": name, "group": group, "method": m, **M.compute_all(truth, pred)})
    return comp


def _fmt(key, value):
    fmt = M.METRICS[key][2] if key in M.METRICS else "{:.1f}"
    return fmt.format(value)


def markdown_table(rows: list[dict]) -> str:
    """A Markdown table of summary rows; arrows say which direction is better."""
    heads = ["method", "images"]
    for k in SUMMARY_COLUMNS:
        arrow = {True: " ↑", False: " ↓"}.get(M.METRICS[k][1], "") if k in M.METRICS else ""
        heads.append(k + arrow)
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for r in rows:
        cells = [r["method"], str(r["images"])] + [_fmt(k, r[k]) for k in SUMMARY_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_csv(rows: list[dict], path) -> None:
    with open(path, "w", newline="") as f:
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
    return result_grid(rows, ["gray input", *shown, "ground truth"], path=path, title=title)


def write_report(comp: Comparison, out_dir, groups=None, grid_images=None, title=None) -> dict:
    """Write ``metrics.md``, ``metrics.csv`` (summaries), ``per_image.csv`` and ``grid.png``.

    Returns the paths written, by kind.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    groups = groups or [None]
    md, rows_csv = [], []
    for g in groups:
        rows = comp.summary(g)
        if not rows:
            continue
        if g:
            md.append(f"### {g} photos\n")
        md.append(markdown_table(rows))
        rows_csv += [{"group": g or "all", **r} for r in rows]
    (out / "metrics.md").write_text("\n".join(md))
    write_csv(rows_csv, out / "metrics.csv")
    write_csv(comp.records, out / "per_image.csv")
    import matplotlib.pyplot as plt

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
    from pathlib import Path

    from colorpast.colorizer import find_images, read_image
    from colorpast.data import shards
    from colorpast.errors import UserError

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


def evaluate(data, models, out, split: str = "test", limit: int | None = None, size: int | None = None,
             grid_count: int = 6, log=print, progress: bool = True, **decode) -> dict:
    """``colorpast evaluate``: every model and the gray baseline on the same photos.

    Args:
        models: references as ``colorpast.colorizer.load_model`` takes them, plus "gray".
    Returns the paths written and the summary rows.
    """
    from pathlib import Path

    from colorpast.colorizer import colorize, load_model

    photos = load_photos(data, split, limit)
    methods = {}
    for ref in models:
        if ref == "gray":
            continue
        model = load_model(ref)
        label = ref.rstrip("/")
        methods[label] = (lambda m: lambda rgb: colorize(rgb, m, size=size, **decode))(model)
    log(f"evaluating gray{''.join(', ' + k for k in methods)} on {len(photos)} photos from {data}")
    comp = compare(photos, methods, progress=progress)
    paths = write_report(comp, out, grid_images=[n for n, _ in photos[:grid_count]],
                         title=f"{Path(str(data)).name}: {len(photos)} photos")
    rows = comp.summary()
    log(markdown_table(rows))
    for kind, p in paths.items():
        log(f"  {kind:<9} {p}")
    return {"paths": paths, "summary": rows}
