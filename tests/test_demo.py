"""End to end: the demo in smoke mode, its files, re-runs, and that training helped."""

import csv

import keras
import numpy as np
import pytest

from colorpast import cli, train
from colorpast.config import preset
from colorpast import color
from colorpast.data.loader import Loader, resize_short_side
from colorpast.data.sources import EMBEDDED_HELD_OUT, embedded_sample
from colorpast.demo import SCALE_PER_CROP
from colorpast.models import build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert cli.main(["demo", "--smoke", "--out", str(out)]) == 0
    return out


def test_demo_writes_grid_tables_and_run(demo_dir):
    from PIL import Image

    grid = Image.open(demo_dir / "grid.png")
    assert grid.size[0] > 500 and grid.size[1] > 500
    table = (demo_dir / "metrics.md").read_text()
    assert "| gray |" in table and "| seed16 |" in table and "held-out" in table
    rows = list(csv.DictReader(open(demo_dir / "metrics.csv")))
    assert {(r["group"], r["method"]) for r in rows} == {
        (g, m) for g in ("held-out", "train") for m in ("gray", "seed16")
    }
    per_image = list(csv.DictReader(open(demo_dir / "per_image.csv")))
    names = {p.name for p in embedded_sample()}
    assert {r["image"] for r in per_image} == names and len(per_image) == 2 * len(names)
    for r in per_image:
        assert float(r["psnr"]) > 10 and 0 < float(r["ssim"]) <= 1
    run = demo_dir / "run"
    for f in ["config.json", "history.csv", "best.weights.h5", "model.keras"]:
        assert (run / f).is_file(), f
    history = list(csv.DictReader(open(run / "history.csv")))
    assert [int(r["epoch"]) for r in history] == list(range(preset("smoke").epochs))


def _history(run):
    return list(csv.DictReader(open(run / "history.csv")))


def test_second_run_reuses_and_interrupted_run_resumes(demo_dir, capsys, monkeypatch):
    assert cli.main(["demo", "--smoke", "--out", str(demo_dir)]) == 0
    assert "reusing the trained model" in capsys.readouterr().out
    # Train again and press Ctrl-C (fault injection) at step 4, in the second of 2 epochs of 3 steps.
    run = demo_dir / "run"
    monkeypatch.setenv("COLORPAST_FAULT", "sigint-at-step:4")
    assert cli.main(["demo", "--smoke", "--restart", "--out", str(demo_dir)]) == 130
    assert "interrupted at step 4" in capsys.readouterr().out
    assert not (run / "model.keras").exists()
    before = _history(run)
    assert [int(r["step"]) for r in before] == [3]
    monkeypatch.delenv("COLORPAST_FAULT")
    assert cli.main(["demo", "--smoke", "--out", str(demo_dir)]) == 0
    out = capsys.readouterr().out
    assert "resuming" in out and "at epoch 2, step 4" in out and "trained 2 epochs" in out
    # The epoch after the interruption ran, and the history goes on from the one before it.
    after = _history(run)
    assert [int(r["epoch"]) for r in after] == [0, 1] and [int(r["step"]) for r in after] == [3, 6]
    assert after[0] == before[0]
    assert (run / "model.keras").is_file()


def test_run_with_other_settings_is_refused(demo_dir, capsys):
    assert cli.main(["demo", "--out", str(demo_dir)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--restart" in err


def test_trained_model_beats_untrained_on_training_photos(demo_dir):
    cfg = preset("smoke")
    photos = [p for p in embedded_sample() if p.name not in EMBEDDED_HELD_OUT]
    size = cfg.size * SCALE_PER_CROP
    imgs = [resize_short_side(p.rgb, size) for p in photos]
    lab = color.rgb_to_lab(Loader(imgs, len(imgs), size, train=False).batch(0)["rgb"])
    L, target = lab[..., :1], lab[..., 1:] / color.AB_SCALE_SEED
    trained = train.load(demo_dir / "run")
    keras.utils.set_random_seed(cfg.seed)
    untrained = build(cfg.model)

    def mse(m):
        return float(np.mean((m.predict(L, verbose=0) - target) ** 2))

    assert mse(trained) < 0.8 * mse(untrained)
