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
