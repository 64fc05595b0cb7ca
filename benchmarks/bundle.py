"""Ship a trained run as ``NAME:bundled`` (NAME: the run's model): float16 weights and their record in weights/.

    .venv/bin/python benchmarks/bundle.py RUN [--weights final|best]
        [--eval cbsd68=../shared/data/cbsd68 imagenet-test=data/prepared/imagenet1k ...]
        [--hints 0 10 50] [--out weights] [--dry-run]

Every evaluation set is scored twice with ``colorpast.evaluate`` (gray and sepia beside):
the run's own float32 model and the float16 file to be shipped. The file is written in
float16 only when no figure moves by more than ``MAX_CHANGE`` (0.02: issue 38's bar for
float16; a fine-tuned encoder goes as its float16 difference from the package's weights,
``colorpast.bundled.write``); else, for a model whose file holds its fine-tuned encoder,
with only that difference in float16 and the rest float32, under the same bar; else in
float32. Each try says what moved. The record (``weights/NAME.json``) holds what a user
and a paper reader need: the data and its source, the budget (images seen), the recipe
(the run's config.json), the commits, the decoding temperature of a 313-bin head, and
the figures as evaluate printed them for ``NAME:bundled``, per set, with gray and sepia.
A hint model is scored with each number of ``--hints`` (``evaluate --hints``).

Nothing is committed by this script: a bundled model goes into git once, when its figures
are final (every version stays in the history).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MAX_CHANGE = 0.02  # the most a figure may move when the weights go to float16
FIGURES = ["ciede2000", "colorfulness", "colorfulness_delta", "psnr", "ab_error", "vivid_pct", "neutral_painted_pct"]


def scored(ref: str, data: str, out: Path, hints) -> dict:
    """``{method: {figure: value}}`` of ``colorpast evaluate`` on one set, gray and sepia
    beside the model ``ref``, whose rows are keyed ``MODEL`` (``MODEL (10 hints)``)."""
    from colorpast import evaluate

    res = evaluate.evaluate(data, [ref, "sepia"], out, hints=hints, log=lambda *a: None, progress=False)
    label = ref.rstrip("/")
    return {r["method"].replace(label, "MODEL"): {k: r[k] for k in FIGURES} | {"images": r["images"]}
            for r in res["summary"]}


def add_sets(p: argparse.ArgumentParser) -> None:
    """``--eval`` (the sets scored, ``NAME=PATH``) and ``--hints`` (a hint model's counts)."""
    p.add_argument("--eval", nargs="+", metavar="NAME=PATH", default=[
        f"cbsd68={ROOT.parent / 'shared/data/cbsd68'}", "imagenet-test=data/prepared/imagenet1k",
        "photos-extra-test=data/prepared/photos-extra"])
    p.add_argument("--hints", nargs="*", type=int, default=[0, 10, 50], help="for a hint model: numbers of hints")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="the run folder (runs/NAME)")
    p.add_argument("--weights", default="final", choices=["final", "best"])
    add_sets(p)
    p.add_argument("--out", default=str(ROOT / "weights"))
    p.add_argument("--reports", default="reports/bundle")
    p.add_argument("--dry-run", action="store_true", help="score both and compare, write nothing to --out")
    a = p.parse_args(argv)

    from colorpast import bundled, runs, version
    from colorpast.data import shards
    from colorpast.models import spec

    run = Path(a.run)
    cfg = runs.saved_config(run)
    if cfg is None:
        raise SystemExit(f"bundle: {run} is not a training run")
    name = cfg.model  # it ships as its own model: NAME:bundled
    model = runs.load(run, a.weights)
    hints = a.hints if spec(name).hints else None
    sets = dict(s.split("=", 1) for s in a.eval)

    decode = dict(getattr(model, "colorpast_decode", None) or {})  # a 313-bin run's chosen temperature
    own = str(run) if a.weights == "final" else f"{run}:{a.weights}"
    figures, precision, full = None, None, {}
    # float16 where it moves no figure by more than MAX_CHANGE; else, where the file holds a
    # fine-tuned encoder (three quarters of it), its difference alone in float16; else float32
    trials = [("float16", True), *([("float16 encoder, float32 decoder", "encoder")]
                                   if bundled.holds_encoder(model) else []), ("float32", False)]
    for precision_name, half in trials:
        with tempfile.TemporaryDirectory() as scratch:
            bundled.write(model, Path(scratch) / f"{name}{bundled.SUFFIX}", {"decode": decode}, half=half)
            os.environ[bundled.ENV] = scratch  # NAME:bundled is the staged file
            figures, moved = {}, []
            for set_name, path in sets.items():
                if set_name not in full:  # the run's own figures: once a set
                    full[set_name] = scored(own, path, Path(a.reports) / f"{name}-float32" / set_name, hints)
                staged = scored(f"{name}:bundled", path, Path(a.reports) / name / set_name, hints)
                for method, row in staged.items():
                    for k in FIGURES:
                        if abs(row[k] - full[set_name][method][k]) > MAX_CHANGE:
                            moved.append(f"{set_name} {method.replace('MODEL', name)} {k}: "
                                         f"{full[set_name][method][k]:.3f} -> {row[k]:.3f}")
                figures[set_name] = {m.replace("MODEL", f"{name}:bundled"): r for m, r in staged.items()}
                shown = {m: f"{r['ciede2000']:.2f} / vivid {r['vivid_pct']:.1f}" for m, r in figures[set_name].items()}
                print(f"bundle: {precision_name}: {set_name}: {shown}", flush=True)
            del os.environ[bundled.ENV]
        if not moved:
            precision = precision_name
            break
        print(f"bundle: {precision_name} moves a figure by more than {MAX_CHANGE} ({'; '.join(moved)})", flush=True)
    if precision is None:
        raise SystemExit("bundle: the staged float32 file does not give the run's own figures: " + "; ".join(moved))
    summary_json = shards.summary_or_none(cfg.data) or {}
    record = {
        "model": name,
        "reference": f"{name}:bundled",
        "data": {"prepared": cfg.data, "source": summary_json.get("source"), "counts": summary_json.get("counts"),
                 "terms": "research use: the photos' own terms (../shared/data/README.md, photos-extra.md)"},
        "budget_images": cfg.epochs * cfg.steps_per_epoch * cfg.batch_size,
        "weights": a.weights,
        "recipe": json.loads((run / runs.CONFIG).read_text()),
        "decode": decode,
        "precision": precision,
        "bundled_at_commit": version.commit(),
        "figures": figures,
        "figures_command": "python benchmarks/bundle.py " + " ".join(sys.argv[1:] if argv is None else argv)
                           + f" (each set: colorpast evaluate --data SET --models {name}:bundled sepia"
                           + (f" --hints {' '.join(map(str, hints))}" if hints else "") + ")",
    }
    if a.dry_run:
        print(json.dumps(record, indent=1))
        return 0
    out = bundled.write(model, Path(a.out) / f"{name}{bundled.SUFFIX}", record, half=dict(trials)[precision])
    print(f"bundle: wrote {out} ({out.stat().st_size / 2**20:.1f} MB) and its record", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
