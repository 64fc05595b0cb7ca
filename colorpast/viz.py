"""Figures: result grids (gray input | each model | ground truth), training curves, galleries."""

from __future__ import annotations

import csv
from pathlib import Path

# No backend is forced: matplotlib falls back to Agg without a display, and notebooks
# keep their inline backend.
import matplotlib.pyplot as plt
import numpy as np

from colorpast.fsutil import atomic_path


def _save(fig, path) -> None:
    """Write a figure as a whole file (PNG, or what the name's suffix says)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)


TITLE_CHAR_PT = 7.5  # the widest average character of an 11-point bold title, in points (DejaVu Sans Bold)
_BREAKS = " /+-_:"  # where a long name may break: after a path's slash, a recipe's plus, ...


def _wrap_title(text: str, width: int) -> str:
    """A column title in lines of at most ``width`` characters, so a long one (a run with
    its hints, ``runs/quality/effunet_hints+frozen_first-16000 (10 hints)``) does not run
    into its neighbours: its parenthesis on a line of its own, long names broken after a
    slash, plus, dash, underscore or colon, and only where none is near, mid-word."""
    lines = []
    parts = text.replace(" (", "\n(", 1).split("\n") if len(text) > width else [text]
    for part in parts:
        while len(part) > width:
            cut = max(part.rfind(ch, 0, width) for ch in _BREAKS)
            cut = cut + 1 if cut >= width // 2 else width
            lines.append(part[:cut].rstrip())
            part = part[cut:].lstrip()
        lines.append(part)
    return "\n".join(lines)


def result_grid(rows, columns, path=None, cell_inches: float = 2.6, title: str | None = None):
    """Draw a grid of images and save it as PNG when ``path`` is given.

    Args:
        rows: list of ``(row_label, [(image, caption), ...])``, one image per column;
            images are ``H x W x 3`` float RGB in [0, 1]; captions may be "".
        columns: column titles, e.g. ``["gray input", "seed16", "ground truth"]``.
    Returns:
        The matplotlib Figure (shown inline in notebooks).
    """
    n_rows, n_cols = len(rows), len(columns)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(cell_inches * n_cols, cell_inches * n_rows + 0.4), squeeze=False
    )
    for r, (label, cells) in enumerate(rows):
        for c, (image, caption) in enumerate(cells):
            ax = axes[r, c]
            ax.imshow(np.clip(image, 0, 1))
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if r == 0:
                ax.set_title(_wrap_title(columns[c], int(cell_inches * 72 / TITLE_CHAR_PT)), fontsize=11,
                             fontweight="bold")
            if caption:
                ax.set_xlabel(caption, fontsize=8.5)
            if c == 0:
                ax.set_ylabel(label, fontsize=10)
    if title:
        fig.suptitle(title, fontsize=12)
    # Leave room above the column titles for the figure title.
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()) if title else None)
    if path is not None:
        _save(fig, path)
    return fig


def metric_chart(rows, metrics, path=None, title: str | None = None):
    """Bar chart of a comparison table: one panel per metric, one bar per method.

    Args:
        rows: summary rows (dicts with "method" and each metric), e.g. Comparison.summary().
        metrics: ``{name: higher_is_better}`` in panel order.
    """
    n = len(metrics)
    cols = min(4, n)
    nrows = (n + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.6 * nrows + 0.5), squeeze=False)
    names = [r["method"] for r in rows]
    colors = ["#9e9e9e" if m == "gray" else plt.cm.tab10(i % 10) for i, m in enumerate(names)]
    for ax, (metric, higher) in zip(axes.flat, metrics.items()):
        vals = [r[metric] for r in rows]
        ax.bar(range(len(vals)), vals, color=colors)
        ax.set_xticks(range(len(vals)))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"{metric} ({'higher' if higher else 'lower'} is better)", fontsize=9)
        for i, v in enumerate(vals):
            ax.text(i, v, f"{v:.3g}", ha="center", va="bottom", fontsize=7)
        ax.margins(y=0.15)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    if path is not None:
        _save(fig, path)
    return fig


def training_curves(run_dir, path=None, title: str | None = None):
    """Loss per epoch from a run's ``history.csv`` (training and, if any, validation).

    One panel per metric family: ``loss`` with ``val_loss``, and any other logged metric
    with its ``val_`` twin. Returns the Figure; raises FileNotFoundError without history.
    """
    with open(Path(run_dir) / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{run_dir}/history.csv has no epochs yet")
    return curves(rows, path=path, title=title or f"{Path(run_dir).name}: {len(rows)} epochs")


def curves(rows, path=None, title: str | None = None):
    """The figure of :func:`training_curves` from rows ``{"epoch": 0-based, "loss": ..., "val_loss": ...}``
    (values may be strings, as read from a CSV; "" or a missing key is no value)."""
    keys = [k for k in rows[0] if k not in ("epoch", "step") and not k.startswith("val_") and k != "learning_rate"]
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for k, style in ((key, "o-"), ("val_" + key, "s--")):
            vals = [float(r[k]) if r.get(k) not in (None, "") else np.nan for r in rows]
            if not np.all(np.isnan(vals)):
                ax.plot(epochs, vals, style, label="validation" if k.startswith("val_") else "training", markersize=3)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    if path is not None:
        _save(fig, path)
    return fig


def gallery(images, titles=None, cols: int = 4, cell_inches: float = 2.6, title: str | None = None):
    """A few images side by side (``H x W x 3`` uint8 or float in [0, 1]); returns the Figure."""
    images = list(images)
    titles = list(titles) if titles is not None else [""] * len(images)
    cols = max(1, min(cols, len(images)))
    n_rows = (len(images) + cols - 1) // cols
    fig, axes = plt.subplots(n_rows, cols, figsize=(cell_inches * cols, cell_inches * n_rows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, im, t in zip(axes.flat, images, titles):
        im = np.asarray(im)
        ax.imshow(im if im.dtype == np.uint8 else np.clip(im, 0, 1), cmap="gray" if im.ndim == 2 else None)
        ax.set_title(t, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def before_after(before, after, dpi: int = 100, labels=("before", "after")):
    """Two images of the same size side by side at full resolution: one image pixel per
    figure pixel at ``dpi`` (a 4000 x 3000 photo makes an 8000 x 3000 figure)."""
    before, after = np.asarray(before), np.asarray(after)
    h, w = before.shape[:2]
    if after.shape[:2] != (h, w):
        raise ValueError(f"before is {w}x{h} but after is {after.shape[1]}x{after.shape[0]}")
    fig = plt.figure(figsize=(2 * w / dpi, h / dpi), dpi=dpi)
    for i, (im, label) in enumerate(zip((before, after), labels)):
        ax = fig.add_axes((i / 2, 0, 0.5, 1))
        ax.imshow(im if im.dtype == np.uint8 else np.clip(im, 0, 1), cmap="gray" if im.ndim == 2 else None,
                  interpolation="none")
        ax.axis("off")
        ax.text(8, 8, label, color="white", fontsize=11, va="top", bbox=dict(facecolor="black", alpha=0.5, pad=3))
    return fig


def hint_curves(lines: dict, flat: list[dict], metrics: dict, path=None, title: str | None = None):
    """Scores against the number of revealed colour hints, one panel per metric.

    Args:
        lines: ``{label: [(n, row), ...]}``: a line per hint model, ``row`` a summary row.
        flat: summary rows drawn as flat lines (the gray baseline, automatic models).
        metrics: ``{name: higher_is_better or None}`` in panel order.
    The x axis is logarithmic, with 0 hints drawn at 0.5 and labelled "auto".
    """
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
    ticks = sorted({max(n, 0.5) for pts in lines.values() for n, _ in pts})
    for ax, (key, better) in zip(axes.flat, metrics.items()):
        for i, (label, pts) in enumerate(lines.items()):
            ax.plot([max(n, 0.5) for n, _ in pts], [r[key] for _, r in pts], "o-", color=plt.cm.tab10(i % 10), label=label)
        for j, r in enumerate(flat):
            is_gray = r["method"] == "gray"
            ax.axhline(r[key], color="#9e9e9e" if is_gray else plt.cm.Dark2(j % 8), ls="--", lw=1,
                       label="gray (ab = 0)" if is_gray else f"{r['method']} (no hint input)")
        ax.set_xscale("log")
        ax.set_xticks(ticks, ["auto" if t == 0.5 else str(int(t)) for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("revealed hints per photo")
        ax.set_title(key + {True: " ↑", False: " ↓"}.get(better, ""))
    axes.flat[0].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        _save(fig, path)
    return fig
