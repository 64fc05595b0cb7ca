"""Presets sized for Colab and Drive, one progress bar per run, and training without a val split."""

import csv

import pytest

from colorpast import config, train
from colorpast.data.prepare import prepare


@pytest.mark.parametrize("name", ["seed", "default", "fast", "effunet"])
def test_presets_checkpoint_every_few_minutes_and_validate_a_little(name):
    cfg = config.preset(name)
    assert cfg.steps_per_epoch * cfg.epochs == 10_000  # the recipe's whole training, unchanged
    assert cfg.epochs <= 20  # checkpoints on Drive and redrawn curves: a few, not a thousand
    images_per_epoch = cfg.steps_per_epoch * cfg.batch_size
    assert cfg.val_batches * cfg.batch_size <= 0.05 * images_per_epoch  # never validate on more than is trained


def test_seed_preset_keeps_the_seed_papers_optimizer_and_batch():
    cfg = config.preset("seed")
    assert (cfg.optimizer, cfg.lr, cfg.batch_size, cfg.augment) == ("rmsprop", 1e-3, 50, True)


@pytest.mark.slow
def test_a_set_without_val_split_trains_with_one_progress_bar(tmp_path, capsys):
    data = tmp_path / "noval"
    prepare("embedded", data, size=64, val_percent=0, test_percent=20, workers=0, progress=False, log=lambda *_: None)
    result = train.train(config.preset("smoke", data=str(data)), tmp_path / "run", log=lambda *_: None)
    with open(tmp_path / "run/history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and all(r["loss"] for r in rows) and not any(r.get("val_loss") for r in rows)
    assert result.best is not None and (tmp_path / "run" / train.BEST).is_file()  # best by training loss
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "6/6" in err and "3/3" not in err  # one bar over both epochs' 6 steps


def test_a_cpu_run_says_how_long_it_takes_and_what_smaller_run_to_pick(monkeypatch, tmp_path):
    """04 on a CPU runtime: the measured speed of each preset's model (RESULTS.md's CPU
    figures, fast's seed16_fast three times seed16's), what is left of a resumed run, and
    advice in the notebook's own parameters."""
    import json

    from colorpast import errors, train
    from colorpast.config import preset

    line = train.cpu_estimate(preset("effunet"))
    assert line.startswith("on a CPU this run trains 160,000 images at about 3.3 a second (effunet at 224 px, "
                           "measured on a 2-core CPU): about 13.6 hours, the first checkpoint after 82 min")
    assert line.endswith("--steps-per-epoch 123, or a GPU")  # 123 x 16 images at 3.3/s: about 10 minutes
    fast = train.cpu_estimate(preset("fast"))  # seed16_fast, L1: 4,000 images in 254 s
    assert "at about 15.7 a second (seed16_fast at 224 px, measured" in fast and "about 2.8 hours" in fast
    assert "at about 1.7 a second (seed16 at 224 px, measured" in train.cpu_estimate(preset("default"))
    assert "not measured" in train.cpu_estimate(preset("default", model="colorful"))
    short = train.cpu_estimate(preset("demo"))
    assert "first look" not in short and "12,000 images" in short
    # Day 2: a run with 6 of its 10 epochs trained, and one 300 steps into its 7th.
    run = tmp_path / "run"
    for step in (4000, 6000):
        (run / "checkpoints" / f"step-{step:09d}").mkdir(parents=True)
        (run / "checkpoints" / f"step-{step:09d}" / "state.json").write_text(json.dumps({"global_step": step}))
    resumed = train.cpu_estimate(preset("effunet"), run)
    assert resumed.startswith("on a CPU this run (6 of 10 epochs trained) has 64,000 images left at about 3.3 a second")
    assert "about 5.4 hours, the next checkpoint after 82 min" in resumed
    assert "trains 160,000 images" in train.cpu_estimate(preset("effunet"), run, restart=True)
    (run / "checkpoints" / f"step-{6300:09d}").mkdir()
    (run / "checkpoints" / f"step-{6300:09d}" / "state.json").write_text(json.dumps({"global_step": 6300}))
    assert "59,200 images left" in train.cpu_estimate(preset("effunet"), run) and "next checkpoint after 57 min" in \
        train.cpu_estimate(preset("effunet"), run)
    assert train.cpu_estimate(preset("effunet", epochs=6), run).endswith("nothing is left to train")
    monkeypatch.setattr(errors, "AUDIENCE", "notebook")
    assert train.cpu_estimate(preset("effunet")).endswith(
        "STEPS_PER_EPOCH = 123 with another RUN (or RESTART = True), or a GPU runtime")