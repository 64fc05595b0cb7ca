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


def test_second_run_reuses_and_interrupted_run_resumes(demo_dir, capsys):
    assert cli.main(["demo", "--smoke", "--out", str(demo_dir)]) == 0
    assert "reusing the trained model" in capsys.readouterr().out
    (demo_dir / "run" / "model.keras").unlink()  # as if killed after the last checkpoint
    assert cli.main(["demo", "--smoke", "--out", str(demo_dir)]) == 0
    assert "training seed16" in capsys.readouterr().out
    assert (demo_dir / "run" / "model.keras").is_file()


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
