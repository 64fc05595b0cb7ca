"""Quality at GPU budgets: the recommended recipe trained on a device, scored on CBSD68.

One command for a session with a GPU machine (``bash benchmarks/gpu_quality.sh PHOTOS
EVAL``): it prepares a set from a folder of photos, trains each recipe (``--recipes``,
names of ``quality_curve.RECIPES``: by default ``recommended``, ``effunet`` and
``effunet_cls``) once per budget (0.1M and 0.4M images seen by default; each run its own
cosine schedule), and evaluates each on the evaluation photos (CBSD68, or several named
sets: ``--eval cbsd68=DIR imagenet-test=DIR``) with every metric, gray and sepia (one
colour everywhere) included; a model that takes colour hints (effunet_hints) is scored
with 0, 10 and 50 true colours revealed (``--hints``), a table of its own. A line per
phase (with the images a second it trained at), a table per set last, and
``gpu_quality.json`` in ``--out``; the model of each of the first three recipes at its
largest budget comes back too (``--save-models``), in the bundled layout, so that a long
run is not lost with the machine.

A set larger than one call may carry (photos-all: 64 MiB a call, its training photos
89 MiB as WebP) travels as a pack of ``benchmarks/gpu_pack.py``, one part a call,
the calls back to back; the last runs ``bash benchmarks/gpu_quality.sh --pack DIR``,
which checks every part is there and whole, prepares the training photos with no test
split (the test photos stayed home, or came as evaluation sets) and scores every
evaluation set of the pack.

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
    p.add_argument("--photos", nargs="+", help="folders of colour photos to train on, prepared as one set")
    p.add_argument("--eval", nargs="+", metavar="[NAME=]DIR", help="folders of photos to score on (CBSD68)")
    p.add_argument("--pack", help="a pack of benchmarks/gpu_pack.py (its parts carried call by call): its training "
                                  "photos and its evaluation sets, prepared with no test split")
    p.add_argument("--test-percent", type=int, help="the device's own test split of --photos (default: prepare's, "
                                                    "5; 0 with --pack, whose test photos stayed home)")
    p.add_argument("--out", default=".", help="where gpu_quality.json and the models go")
    p.add_argument("--work", default="/tmp/colorpast-gpu-quality", help="prepared set and runs")
    p.add_argument("--recipes", nargs="+", default=["recommended", "effunet", "effunet_cls"],
                   help="quality_curve recipes, each trained at every budget (default: recommended and the two "
                        "on the ImageNet-trained encoder)")
    p.add_argument("--budgets", nargs="+", type=int, default=[100_000, 400_000])
    p.add_argument("--batch", type=int, default=256, help="global batch (default 256, as the H200 figures)")
    p.add_argument("--size", type=int, default=224, help="training crop (default 224: the whole prepared photo)")
    p.add_argument("--save-models", type=int, default=3, metavar="N",
                   help="bring back the model of each of the first N recipes at its largest budget, as "
                        "OUT/models/RECIPE-BUDGET/NAME.weights.h5 and its record (a device call returns 8 files: "
                        "N at most 3; 0: none)")
    p.add_argument("--hints", nargs="+", type=int, default=[0, 10, 50], metavar="N",
                   help="a model that takes colour hints is scored with each number of true colours revealed "
                        "(default 0 10 50, issue 38's; 0 is its automatic row)")
    p.add_argument("--smoke", action="store_true", help="tiny: budgets of 64 and 128 images, batch 8, 64 px")
    a = p.parse_args(argv)
    if a.smoke:
        a.budgets, a.batch, a.size = [64, 128], 8, 64
    if not 0 <= a.save_models <= 3:
        raise SystemExit("gpu_quality: --save-models takes 0 to 3 (a device call returns at most 8 files)")
    if a.pack:
        from gpu_pack import check

        packed = check(a.pack)  # one line for a part the machine no longer holds
        a.photos = [*(a.photos or []), *map(str, packed["train"])]
        a.eval = [*(a.eval or []), *(f"{n}={d}" for n, d in packed["eval"].items())]
        a.test_percent = 0 if a.test_percent is None else a.test_percent
    if not a.photos or not a.eval:
        raise SystemExit("gpu_quality: give --photos and --eval, or --pack")
    sets = {}
    for e in a.eval:
        name, _, path = e.rpartition("=")
        sets[name or Path(path).name] = path

    from quality_curve import RECIPES

    from colorpast import devices
    from colorpast.commands import train as train_command
    from colorpast.data.prepare import prepare
    from colorpast.data.settings import Settings
    from colorpast.evaluate import evaluate
    from colorpast.models import spec as model_spec
    from colorpast.train import train

    work = Path(a.work)
    unknown = [r for r in a.recipes if r not in RECIPES]
    if unknown:
        raise SystemExit(f"gpu_quality: unknown recipe {unknown[0]!r}; choose from: {', '.join(RECIPES)}")
    missing = [d for d in [*a.photos, *sets.values()] if not Path(d).exists()]
    if missing:
        raise SystemExit(f"gpu_quality: {missing[0]}: no such folder")
    phase(f"backend {devices.backend()}, {len(devices._gpus())} GPU(s); budgets {a.budgets}, batch {a.batch}, "
          f"recipes {', '.join(a.recipes)}; scored on {', '.join(sets)}")
    prepared = work / "prepared"
    test_percent = Settings.test_percent if a.test_percent is None else a.test_percent
    summary = prepare(a.photos if len(a.photos) > 1 else a.photos[0], prepared, test_percent=test_percent,
                      progress=False, log=lambda *m: None)
    phase(f"prepared {summary['counts']} into {prepared}")
    prior = work / "prior.npy"
    if any("{prior}" in RECIPES[r] for r in a.recipes):
        from colorpast.prior import compute_prior

        compute_prior(prepared, prior)
        phase("ab prior of the prepared set computed (the 313-bin recipes' class rebalancing)")
    results, baselines = [], {}
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    keep = {r: max(a.budgets) for r in a.recipes[: a.save_models]}
    # --smoke: the first recipe at every budget, the others at the first only (the suite's time).
    jobs = [(r, b) for r in a.recipes for b in (a.budgets if not a.smoke or r == a.recipes[0] else a.budgets[:1])]
    if a.smoke:
        keep = {r: max(b for q, b in jobs if q == r) for r in keep}
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
        scores = {}
        counts = sorted({0, *a.hints}) if model_spec(cfg.model).hints else None  # 0: its automatic row
        for set_name, path in sets.items():
            first = set_name not in baselines  # the baselines do not change with the budget: once a set
            rows = evaluate(path, [*(["sepia"] if first else []), str(run)], work / f"report-{recipe}-{budget}" /
                            set_name, log=lambda *m: None, progress=False, hints=counts)["summary"]
            if first:
                baselines[set_name] = {r["method"]: r for r in rows if r["method"] in ("gray", "sepia")}
            ours = [r for r in rows if r["method"] not in ("gray", "sepia")]  # one row, or one a hint count
            hinted = {n: next(r for r in ours if r["method"].endswith(f" ({n} hints)")) for n in counts or []}
            model = hinted[0] if counts else ours[0]
            scores[set_name] = {"model": model, **({"hints": hinted} if counts else {}), **baselines[set_name]}
            phase(f"scored {recipe} at {budget:,} on {set_name}: CIEDE2000 {model['ciede2000']:.2f} "
                  f"(gray {baselines[set_name]['gray']['ciede2000']:.2f}), CF {model['colorfulness']:.1f}, "
                  f"ΔCF {model['colorfulness_delta']:.2f}, PSNR {model['psnr']:.2f}, vivid {model['vivid_pct']:.1f} %"
                  + "".join(f"; {n} hints: PSNR {r['psnr']:.2f}, CIEDE2000 {r['ciede2000']:.2f}"
                            for n, r in hinted.items() if n))
        first_set = scores[next(iter(sets))]
        results.append({"recipe": recipe, "budget": seen, "train_s": took, "model": first_set["model"],
                        "gray": first_set["gray"], "sepia": first_set["sepia"], "sets": scores})
        if keep.get(recipe) == budget:
            saved = save_model(run, out / "models" / f"{recipe.replace('+', '_')}-{seen}", recipe, seen, took, scores)
            phase(f"saved {saved} ({saved.stat().st_size / 2**20:.1f} MiB) and its record")
    (out / "gpu_quality.json").write_text(json.dumps({"env": {"backend": devices.backend(), "gpus": len(devices._gpus())},
                                                      "batch": a.batch, "size": a.size, "results": results}, indent=1))
    for set_name in sets:
        print(f"\n{set_name}\n| recipe | images seen | train s | img/s | CIEDE2000 | CF | ΔCF | PSNR | vivid % |\n"
              "|---|---|---|---|---|---|---|---|---|")
        for label, key in (("gray", "gray"), ("sepia (one colour)", "sepia")):
            e = baselines[set_name][key]
            print(f"| {label} | - | - | - | {e['ciede2000']:.2f} | {e['colorfulness']:.1f} | "
                  f"{e['colorfulness_delta']:.2f} | {e['psnr']:.2f} | {e['vivid_pct']:.1f} |")
        for r in results:
            m = r["sets"][set_name]["model"]
            print(f"| {r['recipe']} | {r['budget']:,} | {r['train_s']:.0f} | {r['budget'] / r['train_s']:,.0f} | "
                  f"{m['ciede2000']:.2f} | {m['colorfulness']:.1f} | {m['colorfulness_delta']:.2f} | {m['psnr']:.2f} | "
                  f"{m['vivid_pct']:.1f} |")
        hinted = [r for r in results if "hints" in r["sets"][set_name]]
        if hinted:
            print(f"\n{set_name}, with true colours revealed\n| recipe | images seen | hints | CIEDE2000 | PSNR |\n"
                  "|---|---|---|---|---|")
            for r in hinted:
                for n, m in r["sets"][set_name]["hints"].items():
                    print(f"| {r['recipe']} | {r['budget']:,} | {n} | {m['ciede2000']:.2f} | {m['psnr']:.2f} |")
    return 0


RETURN_BYTES = 15 * 2**20  # a file a device call brings back: at most 16 MiB


def save_model(run: Path, folder: Path, recipe: str, seen: int, took: float, scores: dict) -> Path:
    """The run's final model in colorpast's bundled layout (``colorpast.bundled.write``),
    float32 where it fits a returned file, else float16; its record holds the recipe, the
    decoding and the figures. Here: ``COLORPAST_BUNDLED=FOLDER colorpast evaluate --models
    NAME:bundled`` scores it again."""
    from colorpast import bundled, devices, runs, version

    model = runs.load(run, "final")
    name = model.name
    record = {"model": name, "recipe_name": recipe, "budget_images": seen, "train_s": round(took, 1),
              "device": {"backend": devices.backend(), "gpus": len(devices._gpus())},
              "recipe": json.loads((run / runs.CONFIG).read_text()),
              "decode": dict(getattr(model, "colorpast_decode", None) or {}), "commit": version.commit(),
              "figures_on_the_device": {s: {**{k: v["model"][k] for k in ("ciede2000", "colorfulness_delta", "psnr",
                                                                            "vivid_pct", "neutral_painted_pct")},
                                            **({"psnr_with_hints": {n: r["psnr"] for n, r in v["hints"].items()}}
                                               if "hints" in v else {})}
                                        for s, v in scores.items()}}
    target = folder / f"{name}{bundled.SUFFIX}"
    saved = bundled.write(model, target, {**record, "precision": "float32"}, half=False)
    if saved.stat().st_size > RETURN_BYTES:  # it would not come back: float16 in its place
        saved = bundled.write(model, target, {**record, "precision": "float16"}, half=True)
    return saved


if __name__ == "__main__":
    from colorpast.errors import UserError

    try:
        sys.exit(main())
    except UserError as e:  # a folder that is not photos, say: one line
        raise SystemExit(f"gpu_quality: {e}") from None
