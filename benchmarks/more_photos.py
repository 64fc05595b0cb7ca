"""The quality curve on 890 photos beside the one on 6,571 (issue 38, item 2): what more photos bought.

    python benchmarks/more_photos.py --few benchmarks/quality_curve_effunet_2026-12-03.csv
        --many benchmarks/quality_curve_photos-all_2026-12-07.csv --out benchmarks/more_photos.png

Both files are tables as ``quality_curve.py`` writes them (``table.csv``): ``--few`` trained on
the 890 training photos of imagenet1k-256, ``--many`` on the 6,571 of photos-all
(imagenet1k-256 and photos-extra prepared as one set, whose ImageNet test split is the
same photos). Each recipe gets a colour: dashed on the 890 photos, solid on the 6,571; one
row of panels per evaluation set both tables scored (CIEDE2000 and ΔCF against images
seen), gray flat. The runs behind the tables need not be on this machine.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality_curve import budget_axis, earlier_rows  # noqa: E402  (this folder's script, read as a module)

PANELS = (("ciede2000", "CIEDE2000 ↓"), ("colorfulness_delta", "ΔCF ↓"))


def common_sets(*paths) -> list[str]:
    """The evaluation sets every table scored (``SET_ciede2000`` columns), in the first's order."""
    found = []
    for p in paths:
        try:
            with open(p, newline="") as f:
                header = next(csv.reader(f), [])
        except OSError as e:
            raise SystemExit(f"more_photos: {p}: {e.strerror or e}") from None
        found.append([c[: -len("_ciede2000")] for c in header if c.endswith("_ciede2000") and "_gray_" not in c])
    sets = [s for s in found[0] if all(s in f for f in found[1:])]
    if not sets:
        raise SystemExit(f"more_photos: {' and '.join(map(str, paths))} share no evaluation set")
    return sets


def figure(few: dict, many: dict, sets: list[str], path: Path, labels=("890 photos", "6,571 photos")) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recipes = list(dict.fromkeys([r for r, _ in many] + [r for r, _ in few]))
    budgets = {b for _, b in [*few, *many]}
    fig, axes = plt.subplots(len(sets), len(PANELS), figsize=(11, 3.2 * len(sets)), squeeze=False)
    for i, s in enumerate(sets):
        for j, (key, label) in enumerate(PANELS):
            ax = axes[i, j]
            for k, rec in enumerate(recipes):
                for rows, style, where in ((few, "o--", labels[0]), (many, "s-", labels[1])):
                    pts = sorted((b, row[f"{s}_{key}"]) for (r, b), row in rows.items()
                                 if r == rec and row.get(f"{s}_{key}") is not None)
                    if pts:
                        ax.plot([p[0] for p in pts], [p[1] for p in pts], style, color=plt.cm.tab10(k % 10),
                                label=f"{rec}, {where}")
            gray = next((row[f"{s}_gray_{key}"] for row in [*many.values(), *few.values()]
                         if row.get(f"{s}_gray_{key}") is not None), None)
            if gray is not None:
                ax.axhline(gray, color="#777777", ls=":", lw=1.2, label="gray (ab = 0)")
            budget_axis(ax, budgets, f"{s}: {label}")
    axes[0, -1].legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.02, 1))  # beside the panels, over no point
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=72, bbox_inches="tight")  # the canvas grown to hold the legend
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--few", required=True, help="table.csv of the runs on the 890 photos")
    p.add_argument("--many", required=True, help="table.csv of the runs on photos-all's 6,571")
    p.add_argument("--recipes", nargs="+", help="draw only these recipes (default: every one in either table)")
    p.add_argument("--out", default="benchmarks/more_photos.png")
    a = p.parse_args(argv)
    sets = common_sets(a.few, a.many)
    few, many = earlier_rows([a.few], sets), earlier_rows([a.many], sets)
    if a.recipes:
        unknown = [r for r in a.recipes if r not in {k[0] for k in [*few, *many]}]
        if unknown:
            raise SystemExit(f"more_photos: no rows of {', '.join(unknown)} in either table")
        few = {k: v for k, v in few.items() if k[0] in a.recipes}
        many = {k: v for k, v in many.items() if k[0] in a.recipes}
    figure(few, many, sets, Path(a.out))
    print(f"more_photos: drew {len(few)} + {len(many)} rows on {', '.join(sets)} into {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
