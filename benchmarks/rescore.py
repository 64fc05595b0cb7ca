"""Score a shipped model again when colorpast's colouring of it changes: its record's figures.

    .venv/bin/python benchmarks/rescore.py NAME --why "REASON"
        [--eval cbsd68=../shared/data/cbsd68 imagenet-test=data/prepared/imagenet1k ...]
        [--hints 0 10 50]

The weights file is not touched (it goes into git once). Each set is scored as bundle.py
scores it (``colorpast evaluate --models NAME:bundled sepia``, gray beside); the record's
``figures`` become these, with the command and the commit, and what they replace is kept
under ``figures_before`` with its command and ``--why``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bundle import ROOT, add_sets, scored  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("name", help="the shipped model (weights/NAME.json)")
    p.add_argument("--why", required=True, help="what changed in the colouring")
    add_sets(p)
    p.add_argument("--weights", default=str(ROOT / "weights"))
    p.add_argument("--reports", default="reports/rescore")
    a = p.parse_args(argv)
    from colorpast.errors import UserError

    path = Path(a.weights) / f"{a.name}.json"  # checked before Keras loads: a mistake is one line at once
    if not path.is_file():
        raise UserError(f"{path}: no record; ships: {', '.join(sorted(q.stem for q in Path(a.weights).glob('*.json')))}")
    record = json.loads(path.read_text())
    from colorpast import version
    from colorpast.models import spec

    hints = a.hints if spec(a.name).hints else None
    figures = {}
    for item in a.eval:
        set_name, data = item.split("=", 1)
        rows = scored(f"{a.name}:bundled", data, Path(a.reports) / a.name / set_name, hints)
        figures[set_name] = {m.replace("MODEL", f"{a.name}:bundled"): r for m, r in rows.items()}
        old = record.get("figures", {}).get(set_name, {})
        for m, r in figures[set_name].items():
            before = old.get(m, {}).get("ciede2000")
            was = "none" if before is None else f"{before:.2f}"
            print(f"rescore: {set_name}: {m}: CIEDE2000 {r['ciede2000']:.2f} (was {was}), "
                  f"PSNR {r['psnr']:.2f}, vivid {r['vivid_pct']:.1f}", flush=True)
    record["figures_before"] = {"figures": record.get("figures"), "figures_command": record.get("figures_command"),
                                "replaced_because": a.why}
    record["figures"] = figures
    record["figures_command"] = ("python benchmarks/rescore.py " + shlex.join(sys.argv[1:] if argv is None else argv)
                                 + f" (commit {version.commit()}; each set: colorpast evaluate --data SET --models "
                                 + f"{a.name}:bundled sepia" + (f" --hints {' '.join(map(str, hints))}" if hints else "")
                                 + ")")
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"rescore: wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    from colorpast.errors import UserError

    try:
        sys.exit(main())
    except UserError as e:
        sys.exit(f"rescore: {e}")
