"""Which settings a run trains with: a run resumes with its own config.json whatever a
newer colorpast's defaults say, only the options given are compared, and a bad option
is one line that leaves the run folder as it was (the command line and the notebooks'
``preset(...)``/``settings(...)`` alike). Also the progress bar of a resumed run."""

import json
import re

import pytest

from colorpast import cli, config, runs, train, version
from colorpast.config import TrainConfig
from colorpast.errors import UserError
from prepared_fixture import make_prepared

SMALL = dict(size=32, batch_size=4, steps_per_epoch=3, val_batches=None)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    d = tmp_path_factory.mktemp("prep")
    make_prepared(d, {"train": 8, "val": 4}, size=32, per_shard=4)
    return str(d)


def _no_log(*_):
    pass


@pytest.mark.slow
def test_a_run_resumes_after_its_presets_defaults_change(prepared, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    monkeypatch.setitem(config.PRESETS, "default", {**config.PRESETS["default"], **SMALL, "epochs": 1})
    cfg = runs.settings(run, "default", data=prepared)
    assert train.train(cfg, run, verbose=False, log=_no_log).epochs_done == 1
    saved = json.loads((run / "config.json").read_text())
    assert saved["preset"] == "default" and saved["started_with"] == version.describe()

    # A newer colorpast: the preset's recipe has changed, and a value it took from
    # TrainConfig's defaults (rebalance) too.
    monkeypatch.setitem(config.PRESETS, "default", {**config.PRESETS["default"], "lr": 0.5, "batch_size": 8,
                                                    "rebalance": 0.9})
    assert config.preset("default").lr == 0.5  # what a new run would get
    # The notebook's path (preset name, data and model given) and the command line's.
    again = runs.settings(run, "default", data=prepared, model="seed16", epochs=2)
    assert (again.lr, again.batch_size, again.rebalance, again.epochs) == (3e-4, 4, 0.5, 2)
    assert cli.main(["train", "--run", str(run), "--data", prepared, "--epochs", "2"]) == 0
    assert "trained 2 epochs" in capsys.readouterr().out
    assert json.loads((run / "config.json").read_text())["lr"] == 3e-4


@pytest.mark.slow
def test_only_given_options_that_change_training_are_compared(prepared, tmp_path, capsys):
    run = tmp_path / "run"
    cfg = runs.settings(run, "smoke", data=prepared, epochs=1)
    train.train(cfg, run, verbose=False, log=_no_log)
    # Given and different, and it changes what the run learns: refused, naming both values.
    with pytest.raises(UserError, match=r"lr: 0\.001 in the run, 0\.5 now"):
        train.train(runs.settings(run, lr=0.5), run, verbose=False, log=_no_log)
    with pytest.raises(UserError, match="preset: 'smoke' in the run, 'seed' now"):
        train.train(runs.settings(run, "seed"), run, verbose=False, log=_no_log)
    # How far, how often and on what it trains may change on a resume.
    lines = []
    res = train.train(runs.settings(run, epochs=2, save_every=1, keep_checkpoints=3, mixed_precision="off"),
                      run, verbose=False, log=lines.append)
    assert res.resumed_from == 3 and res.epochs_done == 2
    saved = TrainConfig.from_json(run / "config.json")
    assert (saved.save_every, saved.keep_checkpoints) == (1, 3)
    assert not any("started with" in line for line in lines)

    # Started by another version: one line says so, and it goes on.
    record = json.loads((run / "config.json").read_text())
    record["started_with"] = {"version": "0.0.9", "commit": "0123456789abcdef"}
    (run / "config.json").write_text(json.dumps(record))
    lines = []
    res = train.train(runs.settings(run, epochs=3), run, verbose=False, log=lines.append)
    assert res.epochs_done == 3
    note = [line for line in lines if "started with" in line]
    assert len(note) == 1 and "colorpast 0.0.9 (commit 0123456)" in note[0] and version.__version__ in note[0]
    assert json.loads((run / "config.json").read_text())["started_with"]["version"] == "0.0.9"  # kept


# Each kind of bad value: (options as the command line takes them, the field, what the line says).
BAD = [
    (["--model", "nosuch"], {"model": "nosuch"}, "unknown model 'nosuch'"),
    (["--batch-size", "0"], {"batch_size": 0}, "batch_size (--batch-size) must be at least 1; got 0"),
    (["--size", "7"], {"size": 7}, "--size 7: seed16 needs input height and width divisible by 8"),
    (["--lr", "-1"], {"lr": -1.0}, "lr (--lr) must be above 0.0; got -1.0"),
    (["--age", "1.5"], {"age": 1.5}, "must be from 0.0 to 1.0; got 1.5"),
    (["--steps-per-epoch", "-3"], {"steps_per_epoch": -3}, "must be at least 1; got -3"),
    (["--keep-checkpoints", "0"], {"keep_checkpoints": 0}, "must be at least 1; got 0"),
]


@pytest.mark.parametrize("argv, field, message", BAD)
def test_a_bad_train_option_is_one_line_and_leaves_the_run_folder_as_it_was(prepared, tmp_path, capsys,
                                                                         argv, field, message):
    fresh, used = tmp_path / "fresh", tmp_path / "used"
    used.mkdir()
    (used / "note.txt").write_text("kept")
    for run in (fresh, used):
        rc = cli.main(["train", "--data", prepared, "--run", str(run), "--epochs", "1", *argv])
        err = capsys.readouterr().err
        assert rc == 2 and err.count("\n") == 1 and message in err, err
    assert not fresh.exists() and sorted(p.name for p in used.iterdir()) == ["note.txt"]
    # The notebooks' path: preset(...) and settings(...) check every field, and train
    # checks what depends on the model, before anything is written.
    with pytest.raises(UserError, match=re.escape(message)):
        cfg = runs.settings(fresh, "smoke", data=prepared, **field)
        train.train(cfg, fresh, verbose=False)
    if "model" not in field and "size" not in field:
        with pytest.raises(UserError, match=re.escape(message)):
            config.preset("smoke", **field)
    assert not fresh.exists()


@pytest.mark.parametrize("field, message", [
    ({"lr": "0.001"}, "lr (--lr) must be a finite number; got '0.001'"),
    ({"epochs": 2.5}, "epochs (--epochs) must be a whole number; got 2.5"),
    ({"augment": "no"}, "augment (--no-augment) must be True or False"),
    ({"optimizer": "sgd"}, "optimizer (--optimizer) must be one of: 'adam', 'rmsprop'; got 'sgd'"),
    ({"lr": float("nan")}, "must be a finite number"),
])
def test_the_notebooks_preset_checks_types_and_choices_that_argparse_checks_on_the_command_line(field, message):
    with pytest.raises(UserError, match=re.escape(message)):
        config.preset("default", **field)


def test_a_run_s_unreadable_config_json_is_one_line(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="unreadable.*--restart"):
        runs.settings(tmp_path, "default")
    assert runs.settings(tmp_path, "default", restart=True) == config.preset("default")


@pytest.mark.slow
def test_the_progress_bar_of_a_resumed_run_starts_at_the_resumed_step(prepared, tmp_path, monkeypatch, capsys):
    """Keras 3 gives callbacks no initial epoch: the bar must be told, or a run resumed
    half-way draws the whole run's steps and stops at 50 %."""
    run = tmp_path / "run"
    cfg = TrainConfig(data=prepared, model="seed16", epochs=4, **SMALL)
    train.train(cfg.with_(epochs=2), run, verbose=False, log=_no_log)  # 6 of 12 steps
    capsys.readouterr()
    train.train(cfg, run, log=_no_log)
    err = capsys.readouterr().err
    assert _counts(err)[0] == (6, 12) and _counts(err)[-1] == (12, 12) and "epoch 3/4" in err
    assert {total for _, total in _counts(err)} == {12}
    # Resumed mid-epoch: one bar for the rest of that epoch and the whole ones after it.
    monkeypatch.setenv("COLORPAST_FAULT", "sigint-at-step:14")
    with pytest.raises(KeyboardInterrupt):
        train.train(cfg.with_(epochs=6), run, verbose=False, log=_no_log)
    monkeypatch.delenv("COLORPAST_FAULT")
    capsys.readouterr()
    train.train(cfg.with_(epochs=6), run, log=_no_log)
    err = capsys.readouterr().err
    assert _counts(err)[0] == (14, 18) and _counts(err)[-1] == (18, 18)
    assert {total for _, total in _counts(err)} == {18}  # one bar, not one for the rest of epoch 5


def _counts(err: str) -> list[tuple[int, int]]:
    """Every ``n/total`` a tqdm bar drew, in order."""
    return [(int(a), int(b)) for a, b in re.findall(r"(\d+)/(\d+) \[", err)]


def test_a_run_without_weights_yet_is_named_as_such(tmp_path):
    """config.json is written before the first checkpoint: 05 and 06 pass such a run over
    with this line instead of failing on it."""
    run = tmp_path / "run"
    assert "does not exist" in runs.missing_weights(run)
    run.mkdir()
    assert "not a training run" in runs.missing_weights(run)
    TrainConfig().to_json(run / "config.json")
    assert "has no trained weights yet" in runs.missing_weights(run)
    (run / "checkpoints/step-000000003").mkdir(parents=True)
    assert runs.missing_weights(run) is None
    with pytest.raises(UserError, match="no loadable trained weights"):  # load() agrees: nothing loads there
        runs.load(run)
