"""Choosing the `default` training preset: candidates trained under the same budget of
training images on a prepared set, then scored on its val split against gray.

Each candidate is a real `colorpast train` run (random CROP x CROP crops of the 224 px
prepared photos, to fit a CPU budget) followed by `colorpast evaluate` on the val split
at full 224 px. Runs go to runs/presets/NAME; re-running reuses finished runs.

    .venv/bin/python benchmarks/compare_presets.py --data data/prepared/imagenet1k [--images 4000 --crop 128]
"""

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

from _common import machine

# name -> train options; "seed" is the seed paper's recipe.
CANDIDATES = {
    "seed": ["--preset", "seed"],
    "adam-1e-3": ["--preset", "default", "--lr", "1e-3"],
    "adam-3e-4": ["--preset", "default", "--lr", "3e-4"],
    # Precision on a CPU with native bfloat16 (see bench_train.py), and the seed-to-seed
    # spread it must be judged against; run with --candidates.
    "adam-3e-4-bf16": ["--preset", "default", "--lr", "3e-4", "--mixed-precision", "bfloat16"],
    "adam-3e-4-seed1": ["--preset", "default", "--lr", "3e-4", "--seed", "1"],
}
DEFAULT_CANDIDATES = "seed,adam-1e-3,adam-3e-4"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--images", type=int, default=4000, help="training images per candidate")
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--out", default="runs/presets")
    ap.add_argument("--candidates", default=DEFAULT_CANDIDATES, help=f"comma-separated from {', '.join(CANDIDATES)}")
    a = ap.parse_args()
    names = a.candidates.split(",")
    if any(n not in CANDIDATES for n in names):
        ap.error(f"unknown candidate in {a.candidates!r}; choose from {', '.join(CANDIDATES)}")
    exe = [sys.executable, "-m", "colorpast"]
    results = []
    for name in names:
        opts = CANDIDATES[name]
        batch = 50 if name == "seed" else 16
        steps = a.images // batch
        epochs = 4
        run = Path(a.out) / name
        t = time.perf_counter()
        subprocess.run(exe + ["train", "--data", a.data, "--run", str(run), *opts, "--size", str(a.crop),
                              "--batch-size", str(batch), "--epochs", str(epochs),
                              "--steps-per-epoch", str(max(1, steps // epochs))], check=True)
        secs = time.perf_counter() - t  # near 0 for a finished run that was reused
        rep = Path(a.out) / f"{name}-report"
        subprocess.run(exe + ["evaluate", "--data", a.data, "--split", "val", "--models", str(run), "gray",
                              "--out", str(rep)], check=True, stdout=subprocess.DEVNULL)
        rows = {r["method"]: r for r in csv.DictReader(open(rep / "metrics.csv"))}
        hist = list(csv.DictReader(open(run / "history.csv")))
        results.append((name, batch, steps, secs, float(hist[-1]["val_loss"]), rows[str(run)], rows["gray"]))
    print(f"machine: {machine()}; {a.images} training images per candidate, {a.crop}px crops; val split of {a.data}")
    print("| candidate | batch | steps | train time | final val MSE (ab/128) | val CIEDE2000 | val AuC | val PSNR |")
    print("|---|---|---|---|---|---|---|---|")
    for name, batch, steps, secs, vl, r, g in results:
        print(f"| {name} | {batch} | {steps} | {secs:.0f} s | {vl:.5f} | {float(r['ciede2000']):.2f} | "
              f"{float(r['auc_ab']):.3f} | {float(r['psnr']):.2f} |")
    g = results[0][6]
    print(f"| gray baseline | | | | | {float(g['ciede2000']):.2f} | {float(g['auc_ab']):.3f} | {float(g['psnr']):.2f} |")


if __name__ == "__main__":
    main()
