"""Figures: result grids (gray input | each model | ground truth)."""

from __future__ import annotations

# No backend is forced: matplotlib falls back to Agg without a display, and notebooks
# keep their inline backend.
import matplotlib.pyplot as plt
import numpy as np


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
                ax.set_title(columns[c], fontsize=11, fontweight="bold")
            if caption:
                ax.set_xlabel(caption, fontsize=8.5)
            if c == 0:
                ax.set_ylabel(label, fontsize=10)
    if title:
        fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
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
        fig.savefig(path, dpi=110)
    return fig
