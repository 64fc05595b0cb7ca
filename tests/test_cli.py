"""The command line: --help everywhere, user mistakes as one line and a non-zero exit."""

import os
import subprocess
import sys
from dataclasses import fields, replace

import pytest

from colorpast.cli import make_parser


def _run(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "colorpast", *args], capture_output=True, text=True, timeout=timeout
    )


def _subcommands():
    parser = make_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return list(sub.choices)


def test_help_at_every_level():
    top = _run("--help")
    assert top.returncode == 0 and "COMMAND" in top.stdout
    commands = _subcommands()
    assert "demo" in commands
    for cmd in commands:
        r = _run(cmd, "--help")
        assert r.returncode == 0, r.stderr
        assert f"colorpast {cmd}" in r.stdout


@pytest.mark.parametrize(
    "args",
    [
        [],  # no command
        ["paint"],  # unknown command
        ["demo", "--bogus"],  # unknown option
        ["demo", "--out"],  # option without its value
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args):
    r = _run(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_unwritable_output_folder_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = _run("demo", "--smoke", "--out", str(blocker / "sub"))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write to" in lines[0], r.stderr


def test_output_path_that_is_a_file_is_one_line(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    r = _run("demo", "--smoke", "--out", str(target))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "a file of that name exists" in r.stderr


def test_console_script_is_installed():
    import shutil

    exe = shutil.which("colorpast") or str(__import__("pathlib").Path(sys.executable).with_name("colorpast"))
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("colorpast ")


def test_help_imports_neither_keras_nor_tensorflow():
    """Every verb's parser is built for `colorpast --help`: none may pull in Keras (seconds)."""
    code = ("import sys; from colorpast.cli import make_parser; make_parser(); "
            "print('keras' in sys.modules, 'tensorflow' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]


def test_tensorflow_loads_only_for_a_verb_that_needs_it_and_without_its_chatter(tmp_path):
    """Mistakes found before the model loads (a missing photo, hints file or prepared set),
    and the verbs that need no Keras (prepare,
    download, weights), answer without TensorFlow's seconds of import; where it loads,
    its C++ start-up lines (oneDNN, CUDA probing, absl) stay off stderr."""
    from PIL import Image

    photo = tmp_path / "p.png"
    Image.new("RGB", (40, 30), (120, 90, 60)).save(photo)
    code = ("import sys; from colorpast import cli; rc = cli.main(sys.argv[1:]); "
            "print('RC', rc, 'TF', 'tensorflow' in sys.modules, 'KERAS', 'keras' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "COLORPAST_TF_VERBOSE")}

    def verb(*args):
        return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                              timeout=300, env=env)

    model = tmp_path / "m.keras"
    for args in (["colorize", tmp_path / "missing.jpg", "--model", model, "--out", tmp_path / "o"],
                 ["colorize", photo, "--model", model, "--out", tmp_path / "o", "--hints", tmp_path / "none.json"],
                 ["colorize", photo, photo, "--model", model, "--out", tmp_path / "o", "--hints", photo],
                 ["prepare", tmp_path / "missing", "--out", tmp_path / "prep"],
                 ["train", "--data", tmp_path / "missing", "--run", tmp_path / "run"]):
        r = verb(*args)
        assert "RC 2 TF False KERAS False" in r.stdout, (args, r.stdout, r.stderr[-1500:])
        assert r.stderr.count("\n") == 1, r.stderr
    code_model = "from colorpast import models; models.build('seed16').save(sys.argv[1])"
    subprocess.run([sys.executable, "-c", "import sys; " + code_model, str(model)], check=True, timeout=300,
                   capture_output=True)
    r = verb("colorize", photo, "--model", model, "--out", tmp_path / "o", "--size", "32")
    assert "RC 0 TF True" in r.stdout, r.stdout + r.stderr[-1500:]
    from test_notebooks import CPP_LOG

    assert not CPP_LOG.search(r.stderr), r.stderr[-1500:]


# `colorpast train`'s options are TrainConfig's fields.


def _train_parser():
    (sub,) = [a for a in make_parser()._actions if a.dest == "command"]
    return sub.choices["train"]


def _train_config(*argv):
    from colorpast.commands.train import config_from_args

    return config_from_args(_train_parser().parse_args(list(argv)))


def test_every_train_config_field_is_an_option_or_deliberately_not():
    from colorpast.commands.train import NOT_OPTIONS
    from colorpast.config import TrainConfig

    options = {a.dest: a for a in _train_parser()._actions}
    own = {"preset"}  # a field set by the command's own option of that name
    for f in fields(TrainConfig):
        assert (f.name in options and f.name not in own) != (f.name in NOT_OPTIONS), f.name
        if f.name in options and f.name not in own:
            assert options[f.name].help == f.metadata["help"]
            assert options[f.name].choices == f.metadata.get("choices")


def test_a_train_command_line_round_trips_to_the_config_it_names(tmp_path):
    """Every option given a value other than the preset's comes back as that field's value."""
    from colorpast.commands.train import NOT_OPTIONS
    from colorpast.config import preset

    base = preset("seed")
    options = {a.dest: a for a in _train_parser()._actions}
    argv, want = ["--run", str(tmp_path / "run"), "--preset", "seed"], {}
    for f in fields(base):
        if f.name in NOT_OPTIONS:
            continue
        old, action = getattr(base, f.name), options[f.name]
        if isinstance(old, bool):
            value = not old
            argv.append(action.option_strings[0])
        else:
            if action.choices:
                value = next(c for c in action.choices if c != old)
            elif action.type is str:
                value = f"some-{f.name}"
            else:
                value = action.type((old or 0) + 3)
                hi = f.metadata.get("at_most")
                if hi is not None and value > hi:  # another value within the field's range
                    value = next(v for v in (action.type((f.metadata.get("at_least", 0) + hi) / 2), hi) if v != old)
            argv += [action.option_strings[0], str(value)]
        want[f.name] = value
    assert _train_config(*argv) == replace(base, **want)


def test_train_options_keep_their_forms(tmp_path):
    from colorpast.config import TrainConfig, preset

    run = str(tmp_path / "run")
    assert _train_config("--run", run) == preset("default")
    cfg = _train_config("--run", run, "--data", "data/prepared/x/", "--no-augment", "--deterministic",
                        "--val-batches", "0", "--steps-per-epoch", "7", "--lr", "0.5", "--size", "64")
    # --val-batches 0 is None, the whole val split (with_() would keep the preset's 20).
    assert cfg == replace(preset("default"), data="data/prepared/x", augment=False, deterministic=True,
                          val_batches=None, steps_per_epoch=7, lr=0.5, size=64)
    assert _train_config("--run", run, "--val-batches", "3").val_batches == 3
    # --run alone on a run folder resumes with its saved settings; --epochs may change.
    (tmp_path / "run").mkdir()
    saved = TrainConfig(data="p", lr=0.25, val_batches=None)
    saved.to_json(tmp_path / "run" / "config.json")
    assert _train_config("--run", run, "--epochs", "40") == replace(saved, epochs=40)
    assert _train_config("--run", run, "--restart") == preset("default")


def test_a_config_json_with_a_retired_field_still_resumes(tmp_path):
    """Runs made before shuffle_buffer was removed keep resuming: the key is ignored."""
    import dataclasses
    import json

    from colorpast.config import TrainConfig
    from colorpast.runs import check_run_folder

    cfg = TrainConfig(data="data/prepared/x")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({**dataclasses.asdict(cfg), "shuffle_buffer": 512}))
    assert TrainConfig.from_json(run / "config.json") == cfg
    assert check_run_folder(run, cfg, restart=False) == cfg  # no "other settings" refusal


@pytest.mark.parametrize("option, env", [("jax", None), ("tensorflow", "jax")])
def test_backend_option_selects_the_keras_backend(tmp_path, option, env):
    """``colorpast --backend NAME VERB`` runs the verb on that backend, over $KERAS_BACKEND:
    the verb's own Keras import (train, here, stopped at its missing data) is on it."""
    script = ("from colorpast import cli\n"  # imports no Keras: the verb does, on the backend chosen
              f"rc = cli.main(['--backend', {option!r}, 'train', '--run', {str(tmp_path / 'r')!r}, "
              f"'--data', {str(tmp_path / 'none')!r}])\n"
              "import keras\nprint('RC', rc, 'BACKEND', keras.backend.backend())\n")
    environ = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    if env:
        environ["KERAS_BACKEND"] = env
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=environ)
    assert f"RC 2 BACKEND {option}" in r.stdout, r.stdout + r.stderr[-2000:]
    assert "not a prepared set" in r.stderr


def test_colorize_and_evaluate_pass_every_option_on(tmp_path, monkeypatch):
    """What the command line is given reaches the package: --normalize, --saturation,
    --temperature and --hints for colorize; those and --hints N, --aged, --seed,
    --protocol for evaluate (the calls are intercepted: no model runs)."""
    import numpy as np
    from PIL import Image

    from colorpast import cli, colorizer, evaluate

    photo = tmp_path / "p.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(photo)
    (tmp_path / "h.json").write_text("[]")
    calls = {}
    import types

    monkeypatch.setattr(colorizer, "load_model", lambda name: types.SimpleNamespace(name="seed16_hints", ref=name))
    monkeypatch.setattr(colorizer, "colorize_paths",
                        lambda paths, model, out, **kw: calls.setdefault("colorize", (model, kw)) and ([], []))
    monkeypatch.setattr(evaluate, "evaluate", lambda data, names, out, **kw: calls.setdefault("evaluate", (names, kw)))
    assert cli.main(["colorize", str(photo), "--model", "m.keras", "--out", str(tmp_path / "o"), "--normalize",
                     "--saturation", "1.5", "--temperature", "0.2", "--hints", str(tmp_path / "h.json"),
                     "--size", "96", "--batch-size", "2"]) == 0
    model, kw = calls["colorize"]
    assert model.ref == "m.keras"
    assert kw["normalize"] is True and kw["saturation"] == 1.5 and kw["temperature"] == 0.2
    assert kw["hints"] == str(tmp_path / "h.json") and kw["size"] == 96 and kw["batch_size"] == 2
    assert cli.main(["evaluate", "--data", str(tmp_path), "--models", "a", "b", "--out", str(tmp_path / "r"),
                     "--normalize", "--saturation", "0.8", "--hints", "0", "5", "--aged", "--seed", "3",
                     "--protocol", "paper"]) == 0
    names, kw = calls["evaluate"]
    assert names == ["a", "b"] and kw["normalize"] is True and kw["saturation"] == 0.8
    assert kw["hints"] == [0, 5] and kw["aged"] is True and kw["seed"] == 3 and kw["protocol"] == "paper"
    # Without the flags nothing is switched on behind the user's back.
    calls.clear()
    cli.main(["colorize", str(photo), "--model", "m.keras", "--out", str(tmp_path / "o")])
    cli.main(["evaluate", "--data", str(tmp_path), "--out", str(tmp_path / "r")])
    for _, kw in calls.values():
        assert "normalize" not in kw and "saturation" not in kw
