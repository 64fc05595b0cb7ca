"""Quality at GPU budgets: the recommended recipe trained on a device, scored on CBSD68.

One command for a session with a GPU machine (``bash benchmarks/gpu_quality.sh PHOTOS
EVAL``): it prepares a set from a folder of photos, trains each recipe (``--recipes``,
names of ``quality_curve.RECIPES``: by default ``recommended``, ``effunet`` and
``effunet_cls``) once per budget (0.1M and 0.4M images seen by default; each run its own
cosine schedule), and evaluates each on the evaluation
photos (CBSD68) with every metric, gray and sepia (one colour everywhere) included. A line per phase (with the images a
second it trained at), a table last, and ``gpu_quality.json`` in ``--out``.

It must fit in one 10-minute call with its compiles: 1.5M images in all by default.
seed16_fast does a sixteenth of seed16's work per image (8,329 img/s in bf16 on an H200,
benchmarks/RESULTS.md), so the host's loader sets its pace (about 20,000 crops a second
from 2 threads here); the effunet recipes' speed on a GPU has not been measured (on this
CPU they train at about a sixth of seed16_fast's rate). Check the first line of each
recipe and stop it if the rate says it will not fit; pass fewer --recipes or --budgets.

``--smoke`` runs it with tiny settings on a CPU in about a minute; the test suite does,
with KERAS_BACKEND=jax and TensorFlow blocked (tests/test_benchmarks.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
T0 = time.time()


def phase(msg: str) -> None:
    print(f"[{time.time() - T0:7.1f} s] {msg}", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photos", required=True, help="folder of colour photos to train on")
    p.add_argument("--eval", required=True, help="folder of photos to score on (CBSD68)")
    p.add_argument("--out", default=".", help="where gpu_quality.json goes")
    p.add_argument("--work", default="/tmp/colorpast-gpu-quality", help="prepared set and runs")
    p.add_argument("--recipes", nargs="+", default=["recommended", "effunet", "effunet_cls"],
                   help="quality_curve recipes, each trained at every budget (default: recommended and the two "
                        "on the ImageNet-trained encoder)")
    p.add_argument("--budgets", nargs="+", type=int, default=[100_000, 400_000])
    p.add_argument("--batch", type=int, default=256, help="global batch (default 256, as the H200 figures)")
    p.add_argument("--size", type=int, default=224, help="training crop (default 224: the whole prepared photo)")
    p.add_argument("--smoke", action="store_true", help="tiny: budgets of 64 and 128 images, batch 8, 64 px")
    a = p.parse_args(argv)
    if a.smoke:
        a.budgets, a.batch, a.size = [64, 128], 8, 64

    from quality_curve import RECIPES

    from colorpast import devices
    from colorpast.commands import train as train_command
    from colorpast.data.prepare import prepare
    from colorpast.evaluate import evaluate
    from colorpast.train import train

    work = Path(a.work)
    unknown = [r for r in a.recipes if r not in RECIPES]
    if unknown:
        raise SystemExit(f"gpu_quality: unknown recipe {unknown[0]!r}; choose from: {', '.join(RECIPES)}")
    phase(f"backend {devices.backend()}, {len(devices._gpus())} GPU(s); budgets {a.budgets}, batch {a.batch}, "
          f"recipes {', '.join(a.recipes)}")
    prepared = work / "prepared"
    summary = prepare(a.photos, prepared, progress=False, log=lambda *m: None)
    phase(f"prepared {summary['counts']} into {prepared}")
    prior = work / "prior.npy"
    if any("{prior}" in RECIPES[r] for r in a.recipes):
        from colorpast.prior import compute_prior

        compute_prior(prepared, prior)
        phase("ab prior of the prepared set computed (the 313-bin recipes' class rebalancing)")
    results = []
    # --smoke: the first recipe at every budget, the others at the first only (the suite's time).
    jobs = [(r, b) for r in a.recipes for b in (a.budgets if not a.smoke or r == a.recipes[0] else a.budgets[:1])]
    for recipe, budget in jobs:
        steps = max(1, budget // a.batch)
        epochs = 4 if steps >= 4 else 1
        rec = [o.replace("{prior}", str(prior)) for o in RECIPES[recipe]]
        options = [o for i, o in enumerate(rec) if o != "--size" and (i == 0 or rec[i - 1] != "--size")]
        options = [*options, "--size", str(a.size), "--batch-size", str(a.batch), "--epochs", str(epochs),
                   "--steps-per-epoch", str(max(1, steps // epochs)), "--val-batches", "2", "--data", str(prepared)]
        run = work / f"run-{recipe}-{budget}"
        parser = argparse.ArgumentParser()
        train_command.add_arguments(parser)  # the recipe read exactly as `colorpast train` reads it
        cfg = train_command.config_from_args(parser.parse_args([*options, "--run", str(run)]))
        phase(f"training {recipe} on {budget:,} images: {epochs} x {cfg.steps_per_epoch} steps of {a.batch}")
        t = time.time()
        train(cfg, run, verbose=False, log=phase)
        took = time.time() - t
        seen = epochs * cfg.steps_per_epoch * a.batch
        phase(f"trained {seen:,} images in {took:.0f} s ({seen / took:,.0f} img/s, compiles included)")
        baselines = [] if results else ["sepia"]  # the baselines do not change with the budget: once
        rows = evaluate(a.eval, [*baselines, str(run)], work / f"report-{recipe}-{budget}", log=lambda *m: None,
                        progress=False)["summary"]
        model = next(r for r in rows if r["method"] not in ("gray", "sepia"))
        gray = next(r for r in rows if r["method"] == "gray")
        sepia = next((r for r in rows if r["method"] == "sepia"), None) or results[0]["sepia"]
        results.append({"recipe": recipe, "budget": seen, "train_s": took, "model": model, "gray": gray, "sepia": sepia})
        phase(f"scored {recipe} at {budget:,}: CIEDE2000 {model['ciede2000']:.2f} (gray {gray['ciede2000']:.2f}), "
              f"CF {model['colorfulness']:.1f}, ΔCF {model['colorfulness_delta']:.2f}, PSNR {model['psnr']:.2f}")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_quality.json").write_text(json.dumps({"env": {"backend": devices.backend(), "gpus": len(devices._gpus())},
                                                      "batch": a.batch, "size": a.size, "results": results}, indent=1))
    print("| recipe | images seen | train s | img/s | CIEDE2000 | CF | ΔCF | PSNR |\n|---|---|---|---|---|---|---|---|")
    print(f"| gray | - | - | - | {results[0]['gray']['ciede2000']:.2f} | 0.0 | {results[0]['gray']['colorfulness_delta']:.2f} | "
          f"{results[0]['gray']['psnr']:.2f} |")
    e = results[0]["sepia"]
    print(f"| sepia (one colour) | - | - | - | {e['ciede2000']:.2f} | {e['colorfulness']:.1f} | {e['colorfulness_delta']:.2f} | "
          f"{e['psnr']:.2f} |")
    for r in results:
        m = r["model"]
        print(f"| {r['recipe']} | {r['budget']:,} | {r['train_s']:.0f} | {r['budget'] / r['train_s']:,.0f} | {m['ciede2000']:.2f} | "
              f"{m['colorfulness']:.1f} | {m['colorfulness_delta']:.2f} | {m['psnr']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
