"""The training benchmark runs end to end on a tiny set (so a session with an accelerator
can run it first time); its figures are recorded in benchmarks/RESULTS.md, not tested."""

import json
import subprocess
import sys
from pathlib import Path

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
