"""The training benchmark runs end to end on a tiny set (so a session with an accelerator
can run it first time); its figures are recorded in benchmarks/RESULTS.md, not tested."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from prepared_fixture import make_prepared

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def test_bench_train_matrix_runs_and_reports_every_configuration(tmp_path):
    make_prepared(tmp_path / "p", {"train": 16}, size=32, per_shard=8)
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "bench_train.py", "--data", str(tmp_path / "p"), "--configs", "all",
                        "--batch", "2", "--steps", "1", "--rounds", "1", "--json", str(out)],
                       cwd=ROOT / "benchmarks", capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(out.read_text())
    assert [row["config"] for row in res["results"]] == ["fp32", "mixed", "fp32+xla", "mixed+xla"]
    assert res["mixed_policy"] == "mixed_bfloat16"  # auto on a CPU
    assert all(row["pipeline"] > 0 and row["memory"] > 0 for row in res["results"])
    assert "mixed+xla" in r.stdout


def test_bench_train_times_a_model_with_and_without_the_critic(tmp_path):
    make_prepared(tmp_path / "p", {"train": 16}, size=32, per_shard=8)
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "bench_train.py", "--data", str(tmp_path / "p"), "--model", "seed16_fast",
                        "--configs", "fp32,fp32+critic", "--batch", "2", "--steps", "1", "--rounds", "1",
                        "--json", str(out)], cwd=ROOT / "benchmarks", capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert [row["config"] for row in json.loads(out.read_text())["results"]] == ["fp32", "fp32+critic"]
    assert "seed16_fast" in r.stdout


def test_bench_train_rejects_an_unknown_configuration():
    r = subprocess.run([sys.executable, "bench_train.py", "--configs", "fp8"], cwd=ROOT / "benchmarks",
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "unknown configuration" in r.stderr


def test_step_times_records_every_training_step(tmp_path):
    make_prepared(tmp_path / "p", {"train": 8, "val": 2}, size=32, per_shard=8)
    out = tmp_path / "t.json"
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "step_times.py"), str(out), str(tmp_path / "run"),
                        "--data", str(tmp_path / "p"), "--model", "seed16", "--size", "32", "--batch-size", "2",
                        "--epochs", "1", "--steps-per-epoch", "3"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["rc"] == 0 and len(res["step_s"]) == 3 and all(t > 0 for t in res["step_s"])


def test_bench_loader_crops_compares_the_committed_draws_with_the_previous_ones(tmp_path):
    make_prepared(tmp_path / "p", {"train": 8}, size=32, per_shard=4)
    r = subprocess.run([sys.executable, "bench_loader.py", "crops", "--data", str(tmp_path / "p"), "--crop", "24",
                        "--batches", "2", "--rounds", "1"], cwd=ROOT / "benchmarks", capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "committed (a batch's draws at once), 1 thread" in r.stdout and "committed / previous, 1 thread:" in r.stdout


def test_gpu_check_runs_with_tensorflow_absent_on_jax(tmp_path):
    """The GPU machine's situation: JAX, no TensorFlow (blocked in every process through a
    sitecustomize), the one command end to end on tiny settings."""
    from conftest import shared_folder
    from test_backends import BLOCK_TENSORFLOW

    site, photos = tmp_path / "site", tmp_path / "photos"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_TENSORFLOW)
    photos.mkdir()
    for p in sorted(shared_folder("imagenet1k-256").glob("*.jpg"))[:16]:
        (photos / p.name).write_bytes(p.read_bytes())
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHON": sys.executable, "PYTHONPATH": str(site)}
    r = subprocess.run(["bash", "benchmarks/gpu_check.sh", str(photos), "--work", str(tmp_path / "work"),
                        "--out", str(tmp_path), "--size", "32", "--batch", "4", "--steps", "2", "--warmup", "1",
                        "--rounds", "1", "--threads", "2", "--train-steps", "6", "--save-every", "2",
                        "--precisions", "float32"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    res = json.loads((tmp_path / "gpu_check.json").read_text())
    assert res["env"]["tensorflow_importable"] is False and res["env"]["backend"] == "jax"
    assert "history steps [6, 12]" in r.stdout and "loader/resident" in r.stdout


def test_quality_curve_smoke_trains_scores_and_draws(tmp_path):
    make_prepared(tmp_path / "p", {"train": 16, "val": 4, "test": 3}, size=32, per_shard=8)
    fig = tmp_path / "q.png"
    args = [sys.executable, "benchmarks/quality_curve.py", "--smoke", "--data", str(tmp_path / "p"),
            "--eval", f"tiny={tmp_path / 'p'}", "--recipes", "seed16", "recommended", "--budgets", "16",
            "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out"), "--figure", str(fig)]
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    table = (tmp_path / "out" / "table.md").read_text()
    assert "| gray (ab = 0) |" in table and "| sepia (ImageNet's median colour everywhere) |" in table
    assert "| seed16 | 16 |" in table and "| recommended | 16 |" in table
    assert "| vivid kept % ↑ | neutral painted % ↓ |" in table
    assert fig.stat().st_size > 1000
    # Again: the runs are found finished and the scores come from the cache.
    again = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and again.stdout.count("found finished") == 2
    assert (tmp_path / "out" / "table.md").read_text() == table
    # An earlier table's rows (runs no longer here) come in beside a run scored now, which
    # replaces its own earlier row; a table scored on other sets is one line.
    earlier = tmp_path / "earlier.csv"
    rows = list(csv.DictReader(open(tmp_path / "out" / "table.csv")))
    with open(earlier, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        # A blank cell: a figure the earlier report did not print (its time, its PSNR, one
        # axis of the figure): shown as "-" and left out of that plot, not a traceback.
        w.writerows([{**rows[0], "recipe": "old_recipe", "budget": "1000", "tiny_ciede2000": "99.5"},
                     {**rows[1], "tiny_ciede2000": "77.25"},
                     {**rows[0], "recipe": "old_recipe", "budget": "4000", "train_seconds": " ", "tiny_psnr": "",
                      "tiny_colorfulness_delta": " "}])
    # A table from before the object-colour columns: its rows show "-" there.
    older = tmp_path / "older.csv"
    kept = [k for k in rows[0] if not k.endswith(("vivid_pct", "neutral_painted_pct"))]
    with open(older, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=kept, extrasaction="ignore")
        w.writeheader()
        w.writerow({**rows[0], "recipe": "older_recipe", "budget": "2000"})
    merged = args[:args.index("--recipes")] + ["--recipes", "recommended", "--budgets", "16", "--no-train",
                                               "--with", str(earlier), str(older)] + args[args.index("--runs"):]
    r = subprocess.run(merged, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    table = (tmp_path / "out" / "table.md").read_text()
    assert "| old_recipe | 1,000 | " in table and "| 99.50 |" in table
    assert "| recommended | 16 |" in table and "77.25" not in table
    blank = next(line for line in table.splitlines() if line.startswith("| old_recipe | 4,000 |")).split(" | ")
    assert blank[2] == "-" and blank[5] == "-" and blank[6] == "-" and blank[3] != "-", blank
    assert next(line for line in table.splitlines() if line.startswith("| older_recipe |")).endswith("| - | - |")
    assert [r["recipe"] for r in csv.DictReader(open(tmp_path / "out" / "table.csv"))] == \
        ["old_recipe", "old_recipe", "older_recipe", "recommended"]
    other = [a if not a.startswith("tiny=") else a.replace("tiny=", "other=") for a in merged]
    r = subprocess.run(other, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 1 and r.stderr.strip().endswith("has no scores on other; give --eval the sets it was scored on")
    assert "scored" not in r.stdout  # found before any work


def test_quality_curve_counts_every_segment_of_a_resumed_run(tmp_path):
    """A run stopped (Ctrl-C: a non-zero exit) and resumed is timed over both segments; a
    run found finished adds nothing. The processes here only sleep: what is checked is the
    bookkeeping around them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("quality_curve", ROOT / "benchmarks" / "quality_curve.py")
    qc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(qc)
    run = tmp_path / "r-16"
    run.mkdir()

    def segment(code: str):
        return qc.train_all((1, [("r-16", [sys.executable, "-c", code], run)]), 1, lambda m: None)

    stop = "import sys, time; time.sleep(0.3); sys.exit('colorpast train: interrupted; checkpoints written so far are kept')"
    with pytest.raises(SystemExit, match="r-16 failed: .*interrupted"):
        segment(stop)
    first = qc.train_seconds(run)
    assert first is not None and first >= 0.3
    assert segment("import time; time.sleep(0.2)") == {"r-16": pytest.approx(qc.train_seconds(run))}
    both = qc.train_seconds(run)
    assert both >= first + 0.2 and len((run / "train_seconds.txt").read_text().split()) == 2
    segment("print('colorpast train: runs/r-16 is finished (4 of 4 epochs)')")
    assert qc.train_seconds(run) == both


def test_every_quality_curve_recipe_is_a_command_train_takes(tmp_path):
    """Each recipe's command parses as `colorpast train` options (a recipe queued for hours
    fails at its start, not in a typo's traceback), naming a registered model."""
    import importlib.util

    from colorpast import cli, models

    spec = importlib.util.spec_from_file_location("quality_curve", ROOT / "benchmarks" / "quality_curve.py")
    qc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(qc)
    parser = cli.make_parser()
    for recipe in qc.RECIPES:
        command = qc.train_command(recipe, 16000, tmp_path / "p", tmp_path / "runs" / recipe, tmp_path / "prior.npy", 500)
        args = parser.parse_args(command[command.index("train"):])
        assert args.model in models.names() and args.save_every == 500, recipe
    command = qc.train_command("effunet_cls+rebalance1+frozen_first", 16000, tmp_path, tmp_path / "r", tmp_path / "prior.npy")
    frozen = parser.parse_args(command[command.index("train"):])
    assert (frozen.encoder, frozen.encoder_lr, frozen.rebalance) == ("frozen_first", 0.1, 1.0)


def test_quality_curve_checkpoints_within_an_epoch_when_asked(tmp_path):
    """--save-every N reaches colorpast train, which then checkpoints every N steps: a
    256,000-image run (an hour an epoch on a CPU) stopped mid-epoch keeps most of it."""
    make_prepared(tmp_path / "p", {"train": 16, "val": 4, "test": 3}, size=32, per_shard=8)
    args = [sys.executable, "benchmarks/quality_curve.py", "--smoke", "--data", str(tmp_path / "p"),
            "--eval", f"tiny={tmp_path / 'p'}", "--recipes", "seed16", "--budgets", "64", "--save-every", "1",
            "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "out"), "--jobs", "1"]
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    config = json.loads((tmp_path / "runs" / "seed16-64" / "config.json").read_text())
    assert config["save_every"] == 1 and config["steps_per_epoch"] == 1, config


def test_gpu_quality_smoke_runs_with_tensorflow_absent_on_jax(tmp_path):
    """The device session's quality command, tiny, on JAX with TensorFlow blocked in every process."""
    from conftest import shared_folder
    from test_backends import BLOCK_TENSORFLOW

    site, photos, evals = tmp_path / "site", tmp_path / "photos", tmp_path / "eval"
    for d in (site, photos, evals):
        d.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_TENSORFLOW)
    for p in sorted(shared_folder("imagenet1k-256").glob("*.jpg"))[:24]:
        (photos / p.name).write_bytes(p.read_bytes())
    for p in sorted(shared_folder("cbsd68").glob("*.png"))[:2]:
        (evals / p.name).write_bytes(p.read_bytes())
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHON": sys.executable, "PYTHONPATH": str(site)}
    r = subprocess.run(["bash", "benchmarks/gpu_quality.sh", str(photos), str(evals), "--smoke",
                        "--work", str(tmp_path / "work"), "--out", str(tmp_path)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    res = json.loads((tmp_path / "gpu_quality.json").read_text())
    assert res["env"]["backend"] == "jax"
    assert [(x["recipe"], x["budget"]) for x in res["results"]] == [
        ("recommended", 64), ("recommended", 128), ("effunet", 64), ("effunet_cls", 64)]
    assert "scored recommended at 128" in r.stdout and "| effunet_cls | 64 |" in r.stdout
    assert "| sepia (one colour) |" in r.stdout
    assert res["results"][0]["sepia"]["colorfulness"] > 1.0  # the baseline's own row, not gray's


def test_gpu_pack_carries_a_set_in_parts_and_gpu_quality_trains_on_them_all(tmp_path):
    """A set too large for one device call goes as parts, one a call: the training photos
    of the train and val splits, each evaluation set whole and lossless (a prepared set's
    test split with the very pixels evaluate scores here). gpu_quality names a part the
    machine no longer holds in one line, and with every part trains on all of them (no
    test split there), scores each evaluation set and brings the model back in the bundled
    layout, which evaluate loads here."""
    from PIL import Image

    from conftest import shared_folder
    from test_backends import BLOCK_TENSORFLOW

    from colorpast.data import shards

    images = make_prepared(tmp_path / "p", {"train": 40, "val": 4, "test": 5}, size=128, per_shard=16)
    cbsd = tmp_path / "cbsd"
    cbsd.mkdir()
    for f in sorted(shared_folder("cbsd68").glob("*.png"))[:2]:
        (cbsd / f.name).write_bytes(f.read_bytes())
    refused = subprocess.run([sys.executable, "benchmarks/gpu_pack.py", str(tmp_path / "p"), "--out", str(cbsd)],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)  # a folder that is not a pack
    assert refused.returncode == 1 and "not a pack's part" in refused.stderr, refused.stderr
    assert len(list(cbsd.iterdir())) == 2  # left as it was
    pack = tmp_path / "pack"
    r = subprocess.run([sys.executable, "benchmarks/gpu_pack.py", str(tmp_path / "p"), "--out", str(pack),
                        "--eval", f"cbsd={cbsd}", f"tiny={tmp_path / 'p'}", "--first-part-mib", "0.52",
                        "--part-mib", "0.005"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    parts = sorted(pack.glob("part-*"))  # 1: CBSD68's two (0.52 MiB); 2: tiny's test photos, over 5 KB
    assert "eval-tiny is 0.01 MiB, over a part's 0.005: a part of its own" in r.stdout
    assert len(parts) >= 4 and "call 1: carry [\".whl\"" in r.stdout and f"--pack {pack}" in r.stdout
    assert sorted(f.name for f in (parts[0] / "eval-cbsd").iterdir()) == sorted(f.name for f in cbsd.iterdir())
    tiny = sorted((parts[1] / "eval-tiny").iterdir())
    assert [np.asarray(Image.open(f).convert("RGB")).tolist() for f in tiny] == [a.tolist() for a in images["test"]]
    assert len(list(pack.glob("part-*/train-*/*.webp"))) == 44  # train and val, never test

    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_TENSORFLOW)
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHON": sys.executable, "PYTHONPATH": str(site)}
    args = ["bash", "benchmarks/gpu_quality.sh", "--pack", str(pack), "--smoke", "--recipes", "recommended",
            "seed16_hints", "--hints", "10", "50", "--save-models", "2", "--work", str(tmp_path / "work"),
            "--out", str(tmp_path / "out")]
    parts[1].rename(tmp_path / "away")  # the machine went back between two calls
    r = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr[-3000:]
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and "lacks part 02 of" in r.stderr

    (tmp_path / "away").rename(parts[1])
    r = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert shards.read_summary(tmp_path / "work" / "prepared")["counts"].get("test", 0) == 0
    res = json.loads((tmp_path / "out" / "gpu_quality.json").read_text())
    assert [sorted(x["sets"]) for x in res["results"]] == [["cbsd", "tiny"]] * 3
    assert "hints" not in res["results"][0]["sets"]["cbsd"]  # recommended takes none
    hinted = res["results"][2]["sets"]["cbsd"]  # seed16_hints: its automatic row and one a count
    assert sorted(hinted["hints"], key=int) == ["0", "10", "50"], hinted.keys()
    assert hinted["model"] == hinted["hints"]["0"] and hinted["hints"]["50"]["method"].endswith("(50 hints)")
    assert hinted["hints"]["50"]["psnr"] != hinted["hints"]["0"]["psnr"]  # the revealed colours reach the model
    assert "\ncbsd, with true colours revealed\n" in r.stdout and "| seed16_hints | 64 | 50 |" in r.stdout
    record = json.loads(next((tmp_path / "out" / "models" / "seed16_hints-64").glob("*.json")).read_text())
    assert sorted(record["figures_on_the_device"]["cbsd"]["psnr_with_hints"], key=int) == ["0", "10", "50"]
    assert res["results"][0]["sets"]["tiny"]["model"]["images"] == 5
    assert "\ntiny\n| recipe |" in r.stdout and "\ncbsd\n| recipe |" in r.stdout
    saved = tmp_path / "out" / "models" / "recommended-128"
    record = json.loads(next(saved.glob("*.json")).read_text())
    assert record["recipe_name"] == "recommended" and record["budget_images"] == 128
    name = record["model"]
    r = subprocess.run([sys.executable, "-m", "colorpast", "evaluate", "--data", str(cbsd), "--models",
                        f"{name}:bundled", "--grid", "0", "--size", "64", "--out", str(tmp_path / "ev")], cwd=ROOT,
                       env={**os.environ, "COLORPAST_BUNDLED": str(saved)}, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"| {name}:bundled | 2 |" in (tmp_path / "ev" / "metrics.md").read_text()


def test_encoder_accuracy_counts_the_classes_of_the_shared_sample():
    """The script behind the encoder's ImageNet accuracy in RESULTS.md, on its first 8 photos."""
    from conftest import shared_folder

    r = subprocess.run([sys.executable, "benchmarks/encoder_accuracy.py", str(shared_folder("imagenet1k-256")),
                        "--limit", "8", "--variant", "exact"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    row = next(line for line in r.stdout.splitlines() if line.startswith("| exact |"))
    assert float(row.split("|")[3].strip(" %")) >= 75.0  # top-5: 7 of the 8 measured (87.5 %)


def test_median_colour_and_decode_trials_run_on_a_tiny_set(tmp_path):
    """The two scripts behind the sepia baseline and the decode trials in RESULTS.md."""
    from colorpast import color, models

    images = make_prepared(tmp_path / "p", {"train": 6, "test": 3}, size=32, per_shard=4)
    r = subprocess.run([sys.executable, "benchmarks/median_colour.py", str(tmp_path / "p"), "--step", "1"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    ab = np.concatenate([color.rgb_to_lab(im.astype(np.float32) / 255)[..., 1:].reshape(-1, 2) for im in images["train"]])
    med = np.median(ab, 0)
    assert f"6 photos, {len(ab):,} pixels: median a {med[0]:.2f} b {med[1]:.2f}" in r.stdout
    models.build("seed16_fast").save(tmp_path / "m.keras")
    r = subprocess.run([sys.executable, "benchmarks/decode_trials.py", str(tmp_path / "m.keras"), str(tmp_path / "p")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [line for line in r.stdout.splitlines() if line.startswith("| ") and "CIEDE2000" not in line]
    assert len(rows) == 8 and rows[0].startswith("| as predicted |") and "(3 photos of" in r.stdout


def test_readme_picture_is_cut_from_the_measured_figure_or_made_with_a_model(tmp_path):
    """The script behind the README's picture: the committed strip is the three legacy
    prints coloured by effunet_cls:bundled, made again (RESULTS, "The models that ship");
    --from-figure still cuts the older strip out of its figure; --model puts each print
    beside its colour, scaled to --height."""
    from PIL import Image
    from skimage import data

    from colorpast import models

    from conftest import shared_folder

    legacy = shared_folder("legacy-bw")
    shown = [legacy / n for n in ("BoulevardDuTemple1838.jpg", "1880sBrooklynBridge.jpg", "Old_Tom_Morris.png")]
    r = subprocess.run([sys.executable, "benchmarks/readme_picture.py", "--model", "effunet_cls:bundled", "--photos",
                        *map(str, shown), "--out", str(tmp_path / "a.jpg")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    made, committed = (np.asarray(Image.open(p), dtype=float) for p in (tmp_path / "a.jpg", ROOT / "benchmarks" / "before_after.jpg"))
    assert made.shape == committed.shape and np.abs(made - committed).mean() < 1.0
    r = subprocess.run([sys.executable, "benchmarks/readme_picture.py", "--from-figure", "--out", str(tmp_path / "c.jpg")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and Image.open(tmp_path / "c.jpg").height == 150, r.stderr[-2000:]
    prints = []
    for name in ("camera", "moon"):  # black-and-white photos shipped with scikit-image, 512 x 512
        prints.append(tmp_path / f"{name}.png")
        Image.fromarray(getattr(data, name)()).save(prints[-1])
    models.build("seed16_fast").save(tmp_path / "m.keras")
    r = subprocess.run([sys.executable, "benchmarks/readme_picture.py", "--model", str(tmp_path / "m.keras"), "--photos",
                        *map(str, prints), "--height", "40", "--out", str(tmp_path / "b.jpg")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert Image.open(tmp_path / "b.jpg").size == (4 * 40 + 2 * 4 + 20, 40) and "2 prints" in r.stdout


def test_hints_grid_is_the_bundled_hint_model_on_two_cbsd68_photos(tmp_path):
    """The README's hints picture: benchmarks/hints_grid.sh draws it again, 900 px wide,
    the same as the committed one (effunet_hints:bundled at 0, 5 and 50 hints)."""
    from PIL import Image

    from conftest import shared_folder

    env = {**os.environ, "CP": f"{sys.executable} -m colorpast", "PYTHON": sys.executable, "WORK": str(tmp_path / "w")}
    r = subprocess.run(["bash", "benchmarks/hints_grid.sh", "effunet_hints:bundled", str(shared_folder("cbsd68").parent),
                        str(tmp_path / "g.png")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    made, committed = (np.asarray(Image.open(p).convert("RGB"), dtype=float)
                       for p in (tmp_path / "g.png", ROOT / "benchmarks" / "hints_grid.png"))
    assert made.shape == committed.shape and made.shape[1] == 900 and np.abs(made - committed).mean() < 0.5  # the old grid: 2.3
    assert "effunet_hints:bundled (50 hints)" in (tmp_path / "w" / "metrics.md").read_text()


def test_more_photos_draws_both_tables_on_the_sets_they_share(tmp_path):
    """The 890-photo curve beside photos-all's: the sets both scored, drawn; a table that
    shares none, or a recipe in neither, is one line and exit 1."""
    def table(path, sets, rows):
        cols = ["recipe", "budget", "train_seconds"] + [f"{s}_{g}{k}" for s in sets for k in ("ciede2000", "colorfulness_delta")
                                                        for g in ("", "gray_")]
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for recipe, budget, value in rows:
                w.writerow([recipe, budget, ""] + [12.0 if "_gray_" in c else value for c in cols[3:]])

    table(tmp_path / "few.csv", ["cbsd68", "imagenet-test"], [("effunet", 4000, 10.3), ("effunet", 16000, 10.6)])
    table(tmp_path / "many.csv", ["cbsd68", "imagenet-test", "photos-extra-test"], [("effunet", 16000, 10.3)])
    table(tmp_path / "other.csv", ["kodak"], [("effunet", 16000, 10.3)])
    run = lambda *a: subprocess.run([sys.executable, "benchmarks/more_photos.py", *a], cwd=ROOT, capture_output=True,
                                    text=True, timeout=120)
    r = run("--few", str(tmp_path / "few.csv"), "--many", str(tmp_path / "many.csv"), "--out", str(tmp_path / "f.png"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "drew 2 + 1 rows on cbsd68, imagenet-test" in r.stdout and (tmp_path / "f.png").stat().st_size > 10_000
    bad = run("--few", str(tmp_path / "few.csv"), "--many", str(tmp_path / "other.csv"))
    assert bad.returncode == 1 and bad.stderr.strip().endswith("share no evaluation set")
    bad = run("--few", str(tmp_path / "few.csv"), "--many", str(tmp_path / "many.csv"), "--recipes", "seed16")
    assert bad.returncode == 1 and bad.stderr.strip() == "more_photos: no rows of seed16 in either table"


def test_rescore_scores_the_shipped_hint_model_again_and_keeps_what_it_replaces(tmp_path):
    """rescore.py on a copy of weights/: the record's figures become evaluate's of today's
    code, the old ones kept with the reason; a record that is not there is one line."""
    make_prepared(tmp_path / "p", {"train": 2, "test": 3}, size=32, per_shard=4)
    (tmp_path / "w").mkdir()
    before = json.loads((ROOT / "weights/effunet_hints.json").read_text())
    (tmp_path / "w/effunet_hints.json").write_text(json.dumps(before))
    cmd = [sys.executable, "benchmarks/rescore.py", "effunet_hints", "--eval", f"tiny={tmp_path / 'p'}",
           "--hints", "0", "5", "--weights", str(tmp_path / "w"), "--reports", str(tmp_path / "r")]
    r = subprocess.run([*cmd, "--why", "a test"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    after = json.loads((tmp_path / "w/effunet_hints.json").read_text())
    assert after["figures_before"] == {"figures": before["figures"], "figures_command": before["figures_command"],
                                       "replaced_because": "a test"}
    rows = after["figures"]["tiny"]
    assert set(rows) == {"gray", "sepia", "effunet_hints:bundled (0 hints)", "effunet_hints:bundled (5 hints)"}
    assert all(rows[m]["images"] == 3 for m in rows)
    assert "--why 'a test'" in after["figures_command"] and "--hints 0 5" in after["figures_command"]
    assert after["recipe"] == before["recipe"]  # the rest of the record as it was
    r = subprocess.run([*cmd[:2], "nope", "--why", "x", "--weights", str(tmp_path / "w")], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and r.stderr.strip() == f"rescore: {tmp_path / 'w/nope.json'}: no record; ships: effunet_hints"


def test_honour_hints_scores_the_settings_and_times_them(tmp_path):
    """honour_hints.py on a tiny prepared set: a line per setting and count, the network's
    own first, and its miss; --time: honour beside the model at both working sizes."""
    make_prepared(tmp_path / "p", {"train": 2, "val": 2}, size=64, per_shard=4)
    r = subprocess.run([sys.executable, "benchmarks/honour_hints.py", "--data", str(tmp_path / "p"), "--limit", "2",
                        "--hints", "5", "--reach", "1.25", "--lightness", "8", "--carried", "0", "8"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [ln for ln in r.stdout.splitlines() if ln.lstrip().startswith("5 hints")]
    assert len(lines) == 4 and "as the network gives them" in lines[0] and "carried 8" in lines[2], r.stdout
    assert "misses its hints by" in lines[3] and "2 photos" in r.stdout
    r = subprocess.run([sys.executable, "benchmarks/honour_hints.py", "--time", "--repeats", "1"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    timed = [ln for ln in r.stdout.splitlines() if " ms, the model " in ln]
    assert len(timed) == 8 and timed[0].startswith("224 x 352: 10 points") and timed[-1].startswith("512 x 768"), r.stdout


def test_hue_saturation_weighs_the_gain_by_how_far_the_hues_agree(tmp_path):
    """hue_saturation.py's decode: one hue at any spread of chroma gets all of 1 + beta,
    two opposite hues of equal weight none (their mean is gray and stays so), a uniform
    saturation multiplies everything; then the script on a tiny set with a 313-bin model."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import hue_saturation as H
    from colorpast.models import bins, build

    c = bins.ab_bins()
    chroma, hue = np.hypot(c[:, 0], c[:, 1]), np.degrees(np.arctan2(c[:, 1], c[:, 0]))
    red = np.flatnonzero((np.abs(hue - 45) < 8) & (chroma > 20))[:3]   # one hue, three chromas
    green = np.flatnonzero((np.abs(hue + 135) < 8) & (chroma > 20))[:3]  # the opposite hue
    assert len(red) == 3 and len(green) == 3
    logits = np.full((1, 1, 2, 313), -50.0)
    logits[0, 0, 0, red] = 0.0
    logits[0, 0, 1, np.r_[red, green]] = 0.0
    mean = np.stack([c[red].mean(0), c[np.r_[red, green]].mean(0)])
    agree1 = np.linalg.norm(mean[0]) / np.hypot(*c[red].T).mean()
    assert agree1 > 0.99
    ways = [("s", 1.5, 0.0), ("b", 0.5, 1.0)]
    out = H.decode(logits, 1.0, ways, factor=1)
    np.testing.assert_allclose(out[("s", 1.5, 0.0)][0], 1.5 * mean, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out[("b", 0.5, 1.0)][0, 0], (1 + 0.5 * agree1) * mean[0], rtol=1e-4)
    # opposite hues of equal weight: agreement is |mean| / mean chroma, far under 1
    both = c[np.r_[red, green]]
    agree2 = np.linalg.norm(both.mean(0)) / np.hypot(*both.T).mean()
    assert agree2 < 0.3
    np.testing.assert_allclose(out[("b", 0.5, 1.0)][0, 1], (1 + 0.5 * agree2) * mean[1], rtol=1e-4, atol=1e-4)

    make_prepared(tmp_path / "p", {"train": 2, "val": 2}, size=32, per_shard=4)
    build("seed16_cls").save(tmp_path / "cls.keras")
    build("seed16_fast").save(tmp_path / "l1.keras")
    r = subprocess.run([sys.executable, "benchmarks/hue_saturation.py", str(tmp_path / "cls.keras"), str(tmp_path / "p"),
                        "--saturations", "1", "1.2", "--betas", "0.3", "--powers", "1"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [ln for ln in r.stdout.splitlines() if ln.startswith("| 0.7 |")]
    assert [ln.split(" | ")[1] for ln in rows] == ["saturation 1", "saturation 1.2", "1 + 0.3 R^1"], r.stdout
    r = subprocess.run([sys.executable, "benchmarks/hue_saturation.py", str(tmp_path / "l1.keras"), str(tmp_path / "p")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "is not a 313-bin model" in r.stderr
