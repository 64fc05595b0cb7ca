"""What old photos cost, and what closes the gap: CBSD68 clean and aged, and the legacy prints.

    python benchmarks/old_photos.py --before runs/quality/recommended-16000 \\
        --after runs/quality/seed16_fast+age-16000 [--shared ../shared/data] [--out reports/old_photos]

``--before`` is a model trained on clean photos, ``--after`` the same recipe trained with
the ageing augmentation (``--age``). Each is scored on CBSD68 four ways: the clean
photos, as they are and with the input normalized (``colorize(..., normalize=True)``:
the model sees a stretched, despeckled L; the output keeps the photo's own); and aged
copies (``colorpast.ageing``, a fixed seed per photo) against the clean truth, both ways. Writes
``table.md`` (CIEDE2000, ab error, CF, ΔCF, PSNR per model and way) and ``legacy.png``:
every photo of legacy-bw as given, colorized by ``--before`` as it is, and by ``--after``
with normalization.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KEYS = ["ciede2000", "ab_error", "colorfulness", "colorfulness_delta", "psnr"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", required=True, help="a run trained on clean photos")
    p.add_argument("--after", required=True, help="the same recipe trained with --age")
    p.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--out", default="reports/old_photos")
    p.add_argument("--limit", type=int, help="the first N photos of each set only")
    a = p.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from colorpast.colorizer import colorize, gray, load_model
    from colorpast.evaluate import evaluate
    from colorpast.photofiles import find_images, read_image
    from colorpast.viz import result_grid

    out, shared = Path(a.out), Path(a.shared)
    ways = {"clean": {}, "clean, input normalized": {"normalize": True}, "aged": {"aged": True},
            "aged, input normalized": {"aged": True, "normalize": True}}
    lines = ["| model | photos | CIEDE2000 ↓ | ab error ↓ | CF | ΔCF ↓ | PSNR ↑ |", "|---|---|---|---|---|---|---|"]
    for way, options in ways.items():
        res = evaluate(shared / "cbsd68", [a.before, a.after], out / way.replace(", ", "-").replace(" ", "-"),
                       limit=a.limit, log=lambda *m: None, progress=False, grid_count=3, **options)
        for r in res["summary"]:
            lines.append(f"| {r['method']} | {way} | " + " | ".join(
                f"{r[k]:.{1 if k == 'colorfulness' else 2}f}" for k in KEYS) + " |")
        print(f"old_photos: scored {way}", flush=True)
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    before, after = load_model(a.before), load_model(a.after)
    rows = []
    for f in find_images([shared / "legacy-bw"])[: a.limit]:
        rgb = read_image(f)
        rows.append((f.stem, [(rgb / 255.0, "as given"), (gray(rgb), "its L"),
                              (colorize(rgb, before), "before"), (colorize(rgb, after, normalize=True), "after")]))
    plt.close(result_grid(rows, ["the print", "L alone", "before", "after"],
                          path=out / "legacy.png", cell_inches=2.2,
                          title=f"legacy-bw. before: {Path(a.before).name}; after: {Path(a.after).name}, input normalized"))
    print(f"old_photos: wrote {out / 'table.md'} and {out / 'legacy.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
