"""Quality against compute: train recipes at several budgets, score each on the same photos.

    python benchmarks/quality_curve.py [--shared ../shared/data] [--recipes seed16 seed16_cls recommended]
        [--budgets 4000 16000 64000] [--jobs 2] [--out reports/quality] [--figure benchmarks/quality_curve.png]

Every recipe (``RECIPES``: a name and the ``colorpast train`` options it sets) trains at
every budget, a budget being the number of training images (crops) it sees: 4 epochs of
``budget / 4 / batch`` steps, one run folder each (``runs/quality/RECIPE-BUDGET``).
Each run is evaluated with every metric on CBSD68 (full resolution) and on the prepared
ImageNet set's test split, gray and sepia (one colour everywhere) included. The script writes a table (``table.md``,
``table.csv``: budget, training seconds (summed over a resumed run's segments), CIEDE2000, CF, ΔCF, PSNR, ab error, vivid kept and
neutral painted (colorpast.metrics), per set)
and a figure (CIEDE2000 and ΔCF against images seen, one line per recipe, gray and sepia flat).

Re-running reuses what is finished: a finished run only says so, an interrupted one
resumes, and a run's scores are cached beside the report (``scores/RUN-SET.json``) until
its ``model.keras`` changes; ``--no-train`` scores and draws only the finished runs
(naming the others), for a table now and the long runs later. Training goes through ``colorpast train`` in subprocesses
(``--jobs`` at once, each on ``cores / jobs`` threads); the scoring runs here.

``--smoke`` runs it in about a minute on a tiny prepared set (``--data``) and a folder
of a few photos (``--eval``), as the test suite does.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Every recipe: the seed paper's data handling (its augmentations), Adam, batch 16, 4
# epochs a run; what differs is written here (BASE first: the recipes do not follow the
# `default` preset's schedule and loss). "{prior}" is the ImageNet ab prior.
BASE = ["--schedule", "constant", "--loss", ""]
RECIPES: dict[str, list[str]] = {
    # The headline recipe (RESULTS, "Headline"): the seed's exact network on 128 px crops, Adam 3e-4.
    "seed16": ["--model", "seed16", "--size", "128", "--lr", "3e-4"],
    "seed16_cls": ["--model", "seed16_cls", "--size", "128", "--lr", "3e-4", "--prior", "{prior}"],
    # The candidates of "A better recipe at equal compute" (benchmarks/RESULTS.md), one change at a time.
    "seed16+cosine": ["--model", "seed16", "--size", "128", "--lr", "3e-4", "--schedule", "cosine"],
    "seed16_bn": ["--model", "seed16_bn", "--size", "128", "--lr", "3e-4"],
    "seed16_bn+cosine2e-3": ["--model", "seed16_bn", "--size", "128", "--lr", "2e-3", "--schedule", "cosine"],
    "seed16+l1": ["--model", "seed16", "--size", "128", "--lr", "3e-4", "--loss", "l1"],
    "seed16+huber": ["--model", "seed16", "--size", "128", "--lr", "3e-4", "--loss", "huber"],
    "seed16+batch8": ["--model", "seed16", "--size", "128", "--lr", "3e-4", "--batch-size", "8"],
    "seed16+crop224": ["--model", "seed16", "--size", "224", "--lr", "3e-4"],
    "seed16_cls+rebalance1": ["--model", "seed16_cls", "--size", "128", "--lr", "3e-4", "--prior", "{prior}",
                              "--rebalance", "1"],
    "seed16_fast": ["--model", "seed16_fast", "--size", "224", "--lr", "2e-3", "--schedule", "cosine"],
    "seed16_fast+l1": ["--model", "seed16_fast", "--size", "224", "--lr", "2e-3", "--schedule", "cosine",
                       "--loss", "l1"],
    "seed16_fast+age": ["--model", "seed16_fast", "--size", "224", "--lr", "2e-3", "--schedule", "cosine",
                        "--loss", "l1", "--age", "0.5"],
    "seed16_hints": ["--model", "seed16_hints", "--size", "128", "--lr", "2e-3", "--schedule", "cosine"],
}
RECIPES["recommended"] = RECIPES["seed16_fast+l1"]
# On the ImageNet-trained encoder (colorpast.models.effunet), at its 224 px: the decoder
# learns from scratch, so recommended's schedule (cosine) and loss (L1), at 1e-3; what
# to fine-tune is one option at a time (the model's default: the encoder frozen).
EFFUNET = ["--size", "224", "--lr", "1e-3", "--schedule", "cosine"]
RECIPES.update({
    "effunet": ["--model", "effunet", *EFFUNET, "--loss", "l1"],
    "effunet+frozen_bn": ["--model", "effunet", *EFFUNET, "--loss", "l1", "--encoder", "frozen_bn"],
    "effunet+train": ["--model", "effunet", *EFFUNET, "--loss", "l1", "--encoder", "train"],
    "effunet+encoder_lr0.1": ["--model", "effunet", *EFFUNET, "--loss", "l1", "--encoder", "frozen_bn",
                              "--encoder-lr", "0.1"],
    "effunet+frozen_first": ["--model", "effunet", *EFFUNET, "--loss", "l1", "--encoder", "frozen_first",
                             "--encoder-lr", "0.1"],
    "effunet_cls": ["--model", "effunet_cls", *EFFUNET, "--prior", "{prior}"],
    # Colour heads that keep objects' colour (benchmarks/RESULTS.md, "A colour head"): the
    # 313-bin head without rebalancing, and with L1 on its decoded colour besides; each
    # decodes at the temperature `colorpast train` chooses on its validation photos.
    "effunet_cls+rebalance1": ["--model", "effunet_cls", *EFFUNET, "--prior", "{prior}", "--rebalance", "1"],
    "effunet_cls+mixed": ["--model", "effunet_cls", *EFFUNET, "--prior", "{prior}", "--loss", "mixed"],
    # The kept head with the encoder fine-tuned as effunet+frozen_first (frozen for the first
    # epoch, then at a tenth of the rate, batch norm frozen): on photos-all's 6,571 photos
    # fine-tuning helped the L1 head (benchmarks/RESULTS.md, "Fine-tuning the encoder").
    "effunet_cls+rebalance1+frozen_first": ["--model", "effunet_cls", *EFFUNET, "--prior", "{prior}", "--rebalance", "1",
                                            "--encoder", "frozen_first", "--encoder-lr", "0.1"],
    # The same at a third of that encoder rate: at 64,000 images a tenth made the encoder
    # drift toward photos-all's kinds of photo, better on its validation photos and worse on
    # CBSD68 and ImageNet's (benchmarks/RESULTS.md, "The same 313-bin head fine-tuned at 64,000").
    "effunet_cls+rebalance1+frozen_first+encoder_lr0.03": [
        "--model", "effunet_cls", *EFFUNET, "--prior", "{prior}", "--rebalance", "1", "--encoder", "frozen_first",
        "--encoder-lr", "0.03"],
    # The L1 head with a critic of its colour (colorpast.adversarial; pix2pix's weight).
    "effunet+gan": ["--model", "effunet", *EFFUNET, "--loss", "l1", "--adversarial", "0.01"],
    "effunet_hints": ["--model", "effunet_hints", *EFFUNET, "--loss", "l1"],
    # The hint model with the head kept at 64k (benchmarks/RESULTS.md, "The 313-bin head without rebalancing").
    "effunet_hints_cls+rebalance1": ["--model", "effunet_hints_cls", *EFFUNET, "--prior", "{prior}", "--rebalance", "1"],
    "effunet_hints+frozen_first": ["--model", "effunet_hints", *EFFUNET, "--loss", "l1", "--encoder", "frozen_first",
                                   "--encoder-lr", "0.1"],
    "effunet+age": ["--model", "effunet", *EFFUNET, "--loss", "l1", "--age", "0.5"],
})
# The same on the larger encoder, EfficientNet-Lite2 (colorpast.models.effunet): the same
# options, at the same 224 px (its family's working size). With the encoder frozen, a Lite2
# training step costs 1.06 times a Lite0 one in CPU time, 1.10 with hints (benchmarks/
# RESULTS.md, "EfficientNet-Lite2"): at equal CPU time its budget is Lite0's divided by
# that, 16,000 -> 15,000 (hints: 14,500), 64,000 -> 60,000 (58,000).
RECIPES.update({
    "effunet_lite2": ["--model", "effunet_lite2", *EFFUNET, "--loss", "l1"],
    "effunet_lite2_cls": ["--model", "effunet_lite2_cls", *EFFUNET, "--prior", "{prior}"],
    "effunet_lite2_cls+rebalance1": ["--model", "effunet_lite2_cls", *EFFUNET, "--prior", "{prior}",
                                     "--rebalance", "1"],
    "effunet_lite2_cls+mixed": ["--model", "effunet_lite2_cls", *EFFUNET, "--prior", "{prior}", "--loss", "mixed"],
    "effunet_lite2_hints": ["--model", "effunet_lite2_hints", *EFFUNET, "--loss", "l1"],
})
EPOCHS = 4
SHOWN = ["ciede2000", "colorfulness", "colorfulness_delta", "psnr", "ab_error", "vivid_pct", "neutral_painted_pct"]
COLUMNS = list(zip(SHOWN, [".2f", ".1f", ".2f", ".2f", ".2f", ".1f", ".1f"]))  # the table's, in order


def batch_of(options: list[str]) -> int:
    return int(options[options.index("--batch-size") + 1]) if "--batch-size" in options else 16


def train_command(recipe: str, budget: int, data: Path, run: Path, prior: Path, save_every: int = 0) -> list[str]:
    """``colorpast train``'s command for ``recipe`` at ``budget`` images; ``save_every``: also
    checkpoint every N steps (a 256,000-image epoch is over an hour on a CPU)."""
    options = [o.replace("{prior}", str(prior)) for o in BASE + RECIPES[recipe]]
    steps = max(1, budget // (EPOCHS * batch_of(options)))
    return [sys.executable, "-m", "colorpast", "train", "--data", str(data), "--run", str(run), "--preset", "default",
            "--epochs", str(EPOCHS), "--steps-per-epoch", str(steps), "--val-batches", "4", *options,
            *(["--save-every", str(save_every)] if save_every else [])]


def train_seconds(run: Path) -> float | None:
    """The seconds the run trained for (None: unknown): the sum of ``train_seconds.txt``'s
    lines, one per training process here, so a run stopped and resumed counts every segment."""
    f = run / "train_seconds.txt"
    return sum(float(line) for line in f.read_text().split()) if f.exists() else None


def train_all(jobs, threads: int, log) -> dict:
    """Run each (name, command) in a subprocess, ``len`` at a time; returns {name: seconds}."""
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1"}

    def one(item):
        name, cmd, run = item
        start = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        took = time.perf_counter() - start
        finished = r.returncode == 0 and "is finished" in r.stdout + r.stderr
        if not finished and run.exists():  # this segment's time (an interrupted one too), for the table
            with open(run / "train_seconds.txt", "a") as f:
                f.write(f"{took:.1f}\n")
        if r.returncode != 0:
            raise SystemExit(f"quality_curve: {name} failed: {r.stderr.strip().splitlines()[-1:]}")
        log(f"quality_curve: {name} {'found finished' if finished else f'trained in {took:.0f} s'}")
        return name, train_seconds(run)

    with ThreadPoolExecutor(jobs[0]) as pool:
        return dict(pool.map(one, jobs[1]))


def score(run: Path, name: str, data, split: str, cache: Path, size=None) -> dict:
    """The run's and gray's summary rows on one evaluation set, cached until the model changes."""
    from colorpast.evaluate import evaluate

    key = cache / f"{run.name}-{name}.json"
    decode = run / "decode.json"  # a 313-bin run's chosen temperature: a new one is a new model to score
    stamp = max((run / "model.keras").stat().st_mtime, decode.stat().st_mtime if decode.exists() else 0)
    if key.exists():
        saved = json.loads(key.read_text())
        if saved.get("stamp") == stamp and all(k in saved["rows"]["model"] for k in SHOWN):
            return saved["rows"]
    res = evaluate(data, [str(run)], cache / f"{run.name}-{name}", split=split, size=size, log=lambda *a: None,
                   progress=False, grid_count=4)
    rows = {r["method"] if r["method"] == "gray" else "model": r for r in res["summary"]}
    key.write_text(json.dumps({"stamp": stamp, "rows": rows}))
    return rows


def sepia_row(name: str, data, split: str, cache: Path, size=None) -> dict:
    """The sepia baseline's summary row (ImageNet's median colour everywhere) on one set, cached."""
    from colorpast.evaluate import SEPIA_AB, evaluate

    key = cache / f"sepia-{name}.json"
    if key.exists():
        saved = json.loads(key.read_text())
        if saved.get("ab") == list(SEPIA_AB) and all(k in saved["row"] for k in SHOWN):
            return saved["row"]
    res = evaluate(data, ["sepia"], cache / f"sepia-{name}", split=split, size=size, log=lambda *a: None,
                   progress=False, grid_count=4)
    row = next(r for r in res["summary"] if r["method"] == "sepia")
    key.write_text(json.dumps({"ab": list(SEPIA_AB), "row": row}))
    return row


def earlier_rows(paths, sets: list[str]) -> dict:
    """{(recipe, budget): row} of earlier tables (``table.csv`` as this script writes it),
    numbers as numbers and blank cells as None; one line if a file cannot be read or lacks
    one of ``sets``."""
    rows = {}
    for path in paths:
        try:
            with open(path, newline="") as f:
                found = list(csv.DictReader(f))
        except OSError as e:
            raise SystemExit(f"quality_curve: --with {path}: {e.strerror or e}") from None
        for r in found:
            missing = [s for s in sets if f"{s}_ciede2000" not in r]
            if missing:
                raise SystemExit(f"quality_curve: --with {path} has no scores on {', '.join(missing)}; "
                                 f"give --eval the sets it was scored on")
            # A blank cell is a figure the earlier report did not print (shown as "-", not drawn).
            row = {"recipe": r["recipe"], "budget": int(r["budget"]),
                   "train_seconds": float(r["train_seconds"]) if (r.get("train_seconds") or "").strip() else None}
            row.update({k: float(v) if (v or "").strip() else None for k, v in r.items()
                        if any(k.startswith(f"{s}_") for s in sets)})
            # Columns added since (the object-colour shares): not measured then, "-".
            row.update({f"{s}_{g}{k}": None for s in sets for g in ("", "gray_") for k in SHOWN
                        if f"{s}_{g}{k}" not in row})
            rows[row["recipe"], row["budget"]] = row
    return rows


def figure(table: list[dict], sets: list[str], path: Path, sepia: dict | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recipes = list(dict.fromkeys(r["recipe"] for r in table))
    panels = (("ciede2000", "CIEDE2000 ↓"), ("colorfulness_delta", "ΔCF ↓"), ("vivid_pct", "vivid kept % ↑"))
    fig, axes = plt.subplots(len(sets), len(panels), figsize=(13, 3.0 * len(sets)), squeeze=False)
    for i, s in enumerate(sets):
        for j, (key, label) in enumerate(panels):
            ax = axes[i, j]
            for k, rec in enumerate(recipes):
                pts = sorted((r["budget"], r[f"{s}_{key}"]) for r in table
                             if r["recipe"] == rec and r[f"{s}_{key}"] is not None)
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=plt.cm.tab10(k % 10), label=rec)
            gray = next((r[f"{s}_gray_{key}"] for r in table if r[f"{s}_gray_{key}"] is not None), None)
            if gray is not None:
                ax.axhline(gray, color="#777777", ls="--", lw=1.2, label="gray (ab = 0)")
            if sepia and sepia[s].get(key) is not None:
                ax.axhline(sepia[s][key], color="#a0522d", ls=":", lw=1.4, label="sepia (one colour everywhere)")
            budget_axis(ax, {r["budget"] for r in table}, f"{s}: {label}")
    axes[0, 0].legend(fontsize=7)
    save(fig, path)


def budget_axis(ax, budgets, title: str) -> None:
    """A panel of the curve: images seen on a log axis, ticked at the ``budgets`` (``16k``)."""
    budgets = sorted(budgets)
    ax.set_xscale("log")
    ax.set_xticks(budgets, [f"{b // 1000}k" if b >= 1000 else str(b) for b in budgets])
    ax.minorticks_off()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("training images seen")


def save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"), help="the shared photos (imagenet1k-256, cbsd68)")
    p.add_argument("--data", help="prepared training set (default: prepare SHARED/imagenet1k-256 into data/prepared/imagenet1k)")
    p.add_argument("--eval", nargs="*", metavar="NAME=PATH",
                   help="evaluation sets (default: cbsd68=SHARED/cbsd68 and imagenet-test=the prepared test split)")
    p.add_argument("--recipes", nargs="+", default=["seed16", "seed16_cls", "recommended"], choices=list(RECIPES))
    p.add_argument("--budgets", nargs="+", type=int, default=[4000, 16000, 64000])
    p.add_argument("--jobs", type=int, default=2, help="trainings at once (default 2)")
    p.add_argument("--save-every", type=int, default=0, metavar="N",
                   help="also checkpoint every N steps, for runs that stop and resume (default: at each epoch's end)")
    p.add_argument("--runs", default="runs/quality")
    p.add_argument("--out", default="reports/quality")
    p.add_argument("--figure", help="the figure's path (default: OUT/quality_curve.png)")
    p.add_argument("--smoke", action="store_true", help="tiny settings: 32 px crops, budgets of 16 and 32 images")
    p.add_argument("--with", dest="earlier", nargs="+", default=[], metavar="CSV",
                   help="rows of an earlier run's table.csv (runs no longer on this machine), tabled and drawn "
                        "beside these; a recipe and budget scored here replaces its earlier row")
    p.add_argument("--no-train", action="store_true",
                   help="train nothing: score and draw the finished runs only, and name the others")
    a = p.parse_args(argv)

    if a.smoke:
        for name in RECIPES:  # 32 px crops: seed16_fast's smallest (it needs multiples of 32)
            RECIPES[name] = [("32" if o in ("128", "224") else o) for o in RECIPES[name]]
        a.budgets = [16, 32] if a.budgets == [4000, 16000, 64000] else a.budgets
    cp = [sys.executable, "-m", "colorpast"]
    shared = Path(a.shared)
    data = Path(a.data) if a.data else ROOT / "data" / "prepared" / "imagenet1k"
    if not a.data:
        subprocess.run([*cp, "prepare", str(shared / "imagenet1k-256"), "--out", str(data)], check=True)
    prior = ROOT / "weights" / f"prior_{data.name}.npy"
    if any("{prior}" in RECIPES[r] for r in a.recipes) and not prior.exists():
        subprocess.run([*cp, "prior", "--data", str(data), "--out", str(prior)], check=True)
    sets = dict(s.split("=", 1) for s in a.eval) if a.eval else {"cbsd68": str(shared / "cbsd68"), "imagenet-test": str(data)}
    earlier = earlier_rows(a.earlier, list(sets))  # before hours of training: a wrong file is one line now
    runs = Path(a.runs)
    jobs = [(f"{r}-{b}", train_command(r, b, data, runs / f"{r}-{b}", prior, a.save_every), runs / f"{r}-{b}")
            for b in a.budgets for r in a.recipes]
    if a.no_train:
        missing = [name for name, _, run in jobs if not (run / "model.keras").exists()]
        for name in missing:
            print(f"quality_curve: {name} is not finished; left out (run without --no-train to train it)", flush=True)
        seconds = {name: train_seconds(run) for name, _, run in jobs if name not in missing}
        if not seconds:
            raise SystemExit("quality_curve: no finished run to score; run without --no-train first")
    else:
        for _, _, run in jobs:
            run.mkdir(parents=True, exist_ok=True)
        threads = max(1, (os.cpu_count() or 1) // max(1, a.jobs))
        print(f"quality_curve: {len(jobs)} runs, {a.jobs} at a time on {threads} threads each", flush=True)
        seconds = train_all((a.jobs, jobs), threads, lambda m: print(m, flush=True))

    out = Path(a.out)
    (out / "scores").mkdir(parents=True, exist_ok=True)
    table = []
    for r in a.recipes:
        for b in a.budgets:
            run = runs / f"{r}-{b}"
            if f"{r}-{b}" not in seconds:
                continue
            row = {"recipe": r, "budget": b, "train_seconds": seconds.get(f"{r}-{b}")}
            for s, path in sets.items():
                rows = score(run, s, path, "test", out / "scores")
                for k in SHOWN:
                    row[f"{s}_{k}"] = rows["model"][k]
                    row[f"{s}_gray_{k}"] = rows["gray"][k]
            table.append(row)
            print(f"quality_curve: scored {r}-{b}: " + ", ".join(f"{s} CIEDE2000 {row[f'{s}_ciede2000']:.2f} "
                                                             f"ΔCF {row[f'{s}_colorfulness_delta']:.1f}" for s in sets), flush=True)
    gray_row = table[0] if table else None  # gray as scored here, to the last digit
    table = [row for key, row in earlier.items() if key not in {(r["recipe"], r["budget"]) for r in table}] + table
    order = list(dict.fromkeys(r["recipe"] for r in table))
    table.sort(key=lambda r: (order.index(r["recipe"]), r["budget"]))
    with open(out / "table.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    sepia = {s: sepia_row(s, path, "test", out / "scores") for s, path in sets.items()}
    def cell(x, spec):
        return "-" if x is None else format(x, spec)

    lines = []
    for s in sets:
        lines += [f"### {s}", "", "| recipe | images seen | train s | CIEDE2000 ↓ | CF | ΔCF ↓ | PSNR ↑ | ab error ↓ "
                  "| vivid kept % ↑ | neutral painted % ↓ |", "|---|---|---|---|---|---|---|---|---|---|"]
        g = gray_row or table[0]
        lines.append("| gray (ab = 0) | - | - | " + " | ".join(cell(g[f"{s}_gray_{k}"], f) for k, f in COLUMNS) + " |")
        e = sepia[s]
        lines.append("| sepia (ImageNet's median colour everywhere) | - | - | "
                     + " | ".join(cell(e.get(k), f) for k, f in COLUMNS) + " |")
        for row in table:
            lines.append(f"| {row['recipe']} | {row['budget']:,} | {cell(row['train_seconds'], '.0f')} | "
                         + " | ".join(cell(row[f"{s}_{k}"], f) for k, f in COLUMNS) + " |")
        lines.append("")
    (out / "table.md").write_text("\n".join(lines))
    print("\n".join(lines))
    fig_path = Path(a.figure) if a.figure else out / "quality_curve.png"
    figure(table, list(sets), fig_path, sepia)
    print(f"quality_curve: wrote {out / 'table.md'}, {out / 'table.csv'} and {fig_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
