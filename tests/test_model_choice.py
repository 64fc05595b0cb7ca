"""Which model colorizes when the user names none (06, the app, ``colorize --hints``): the
order of each list, what is at hand offline, and one true line about the choice."""

import pytest
from app_fixture import nothing_at_hand  # noqa: F401

from colorpast import model_choice, models, weights
from colorpast.config import TrainConfig


@pytest.fixture
def offline(tmp_path, monkeypatch, nothing_at_hand):
    """No published weights on disk, none shipped, no network (app_fixture's); runs/ and
    reports/ here."""
    monkeypatch.chdir(tmp_path)


def _run(name, model, weights_="final", root="runs"):
    from pathlib import Path

    run = Path(root) / name
    run.mkdir(parents=True)
    TrainConfig(model=model, data="data/prepared/x").to_json(run / "config.json")
    if weights_ == "final":
        models.build(model, (None, None, 1), **({"weights": None} if models.spec(model).encoder else {})).save(
            run / "model.keras")
    return run


@pytest.mark.slow
def test_a_hint_run_trained_as_04_says_is_the_one_06_and_the_app_take(tmp_path, offline):
    """04 with MODEL = "seed16_hints" (RUN = None) trains into runs/seed16_hints-SET, beside
    an automatic run of the same set in runs/effunet-SET; 06's HINTS_MODEL = "best" and the
    app then take that run, and its MODEL = "best" and the app's start the automatic one."""
    from colorpast import app, notebook, photo_hints, train
    from colorpast.config import preset
    from prepared_fixture import make_prepared

    data = tmp_path / "data/prepared/flickr30k"
    make_prepared(data, {"train": 8, "val": 4}, size=32, per_shard=4)
    auto = _run("effunet-flickr30k", "effunet")  # an automatic run already there, as 04's default makes
    run = notebook.run_folder(data, "seed16_hints", "effunet")
    assert run == "runs/seed16_hints-flickr30k" and notebook.run_folder(data, None, "effunet") == str(auto)
    train.train(preset("smoke", data=str(data), model="seed16_hints"), run, verbose=False, log=lambda _: None)
    lines = []
    ref, model = photo_hints.hints_model("best", log=lines.append)
    assert ref == run and models.spec(model).hints and lines == [f"using {run}, your newest run of a model that takes hints"]
    assert model_choice.automatic("best", log=lines.append) == str(auto)  # an encoder's run first
    choices = app.model_choices("runs")
    assert [c.ref for c in choices][:2] == [str(auto), run] and choices[1].label.endswith("(seed16_hints, takes hints)")
    assert f"choose **{run}** in Model" in app.paint_off(str(auto), "runs")


def test_what_a_reference_holds_is_read_without_loading_it(tmp_path, offline, monkeypatch):
    """The registered model of every kind of reference, and whether it takes hints, from
    the registry's spec: a run (config.json), its best epoch, NAME:official, NAME:bundled,
    a .keras file (its own record); nothing for what holds no model."""
    run = _run("h", "seed16_hints")
    models.build("seed16", (None, None, 1)).save(tmp_path / "plain.keras")
    assert model_choice.model_name(str(run)) == model_choice.model_name(f"{run}:best") == "seed16_hints"
    assert model_choice.model_name("siggraph17:official") == "siggraph17"
    assert model_choice.model_name("effunet_hints:bundled") == "effunet_hints"
    assert model_choice.model_name(str(tmp_path / "plain.keras")) == "seed16"
    assert model_choice.model_name("runs/nosuch") is None and model_choice.model_name(None) is None
    assert [model_choice.takes_hints(r) for r in (str(run), f"{run}:best", "siggraph17:official",
                                                  "effunet_hints:bundled", "effunet:bundled", "colorful:official",
                                                  str(tmp_path / "plain.keras"), "runs/nosuch")] == [
        True, True, True, True, False, False, False, False]
    # At hand: what colours without a download.
    assert model_choice.at_hand(str(run)) and not model_choice.at_hand(f"{run}:best")  # no best.weights.h5 yet
    assert not model_choice.at_hand("colorful:official") and not model_choice.at_hand("effunet:bundled")
    monkeypatch.setattr(weights, "bundled", lambda name: tmp_path / "w.h5" if name == "effunet" else None)
    assert model_choice.at_hand("effunet:bundled") and not model_choice.at_hand("effunet_hints:bundled")


def test_offline_with_nothing_at_hand_each_choice_is_none_and_one_line_says_what_to_do(offline):
    lines = []
    assert model_choice.automatic("best", log=lines.append) is None
    assert model_choice.for_hints("best", log=lines.append) is None
    assert len(lines) == 2 and not any("using" in ln for ln in lines)  # nothing claimed that did not happen
    assert lines[0].startswith("no trained run under runs/ yet (colorpast train makes one): no model to colorize with: ")
    assert "could not download the colorful weights" in lines[0]
    assert lines[1].startswith("no model that takes colour hints: ") and "could not download the siggraph17" in lines[1]
    assert model_choice.automatic("runs/mine", log=lines.append) is None
    assert lines[-1].startswith("no trained model at 'runs/mine': no model to colorize with")


def test_the_order_of_each_list(tmp_path, offline, monkeypatch):
    """Automatic: your run, else the one shipped, else Colorful fetched. Hints: your hint
    run, else the one shipped, else Zhang et al. 2017's fetched. A named model that does
    not fit (no hints) or is not there is said in the same line as what is used instead."""
    fetched = []
    monkeypatch.setattr(weights, "fetch", lambda name, **_: fetched.append(name))
    lines = []
    assert model_choice.for_hints("best", log=lines.append) == "siggraph17:official" and fetched == ["siggraph17"]
    assert lines[-1] == ("using siggraph17:official, Zhang et al. 2017's published network (fetched now, 137 MB, "
                         "once)")
    # Of the automatic models this project ships, the one measured best: the 313-bin head,
    # else the L1 head.
    monkeypatch.setattr(weights, "bundled", lambda name: None if name == "effunet_cls" else tmp_path / "w.h5")
    assert model_choice.automatic("best", log=lines.append) == "effunet:bundled"
    assert lines[-1] == ("no trained run under runs/ yet (colorpast train makes one): using effunet:bundled, the model "
                         "this project ships")
    monkeypatch.setattr(weights, "bundled", lambda name: tmp_path / "w.h5")
    assert model_choice.automatic("best", log=lines.append) == "effunet_cls:bundled"
    assert lines[-1] == ("no trained run under runs/ yet (colorpast train makes one): using effunet_cls:bundled, the model "
                         "this project ships")
    from colorpast import errors
    monkeypatch.setattr(errors, "AUDIENCE", "notebook")  # 06's and 07's words
    assert model_choice.automatic("best", log=lines.append) == "effunet_cls:bundled"
    assert lines[-1].startswith("no trained run under runs/ yet (04_train makes one): using effunet_cls:bundled")
    monkeypatch.setattr(errors, "AUDIENCE", "cli")
    # Films: the L1 head first (measured nearer the truth on the colour clips), else the other.
    assert model_choice.automatic("best", log=lines.append, films=True) == "effunet:bundled"
    monkeypatch.setattr(weights, "bundled", lambda name: None if name == "effunet" else tmp_path / "w.h5")
    assert model_choice.automatic("best", log=lines.append, films=True) == "effunet_cls:bundled"
    monkeypatch.setattr(weights, "bundled", lambda name: tmp_path / "w.h5")
    assert model_choice.for_hints("best", log=lines.append) == "effunet_hints:bundled"
    plain = _run("plain", "seed16")
    assert model_choice.automatic("best", log=lines.append) == str(plain)
    assert model_choice.for_hints(str(plain), log=lines.append) == "effunet_hints:bundled"
    assert lines[-1] == f"{plain} takes no colour hints: using effunet_hints:bundled, the model this project ships"
    hinted = _run("effunet_hints-x", "seed16_hints")  # as 04 names a hint run
    assert model_choice.for_hints("best", log=lines.append) == str(hinted)
    assert lines[-1] == f"using {hinted}, your newest run of a model that takes hints"
    assert model_choice.for_hints("runs/seed16_hints-flickr30k", log=lines.append) == str(hinted)
    assert lines[-1].startswith("no trained model at 'runs/seed16_hints-flickr30k': using runs/effunet_hints-x")
    n = len(lines)
    assert model_choice.for_hints(str(hinted), log=lines.append) == str(hinted) and len(lines) == n  # as named: silent
    assert fetched == ["siggraph17"]


def test_best_is_the_model_05_measured_best_and_a_run_that_lost_is_never_used_in_silence(tmp_path, monkeypatch):
    import os

    from colorpast import weights
    from colorpast.config import TrainConfig

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "weights"))
    fetched = []
    monkeypatch.setattr(weights, "fetch", lambda name: fetched.append(name))
    monkeypatch.setattr(weights, "bundled", lambda name: None)
    lines = []
    assert model_choice.automatic("best", log=lines.append) == "colorful:official" and fetched == ["colorful"]
    assert lines[0].startswith("no trained run under runs/ yet (colorpast train makes one)")
    for i, name in enumerate(["a", "b"]):
        (tmp_path / f"runs/{name}/checkpoints/step-000000003").mkdir(parents=True)
        TrainConfig().to_json(tmp_path / f"runs/{name}/config.json")
        os.utime(tmp_path / f"runs/{name}/checkpoints/step-000000003", (1000 + i, 1000 + i))
    lines = []
    assert model_choice.automatic("best", log=lines.append) == "runs/b"  # the newest, before 05 has scored any
    assert "05_evaluate has scored none yet" in lines[0]

    def report(name, rows, mtime):
        (tmp_path / f"reports/{name}").mkdir(parents=True)
        f = tmp_path / f"reports/{name}/metrics.csv"
        f.write_text("method,psnr,ciede2000\n" + "".join(f"{m},20,{s}\n" for m, s in rows))
        os.utime(f, (mtime, mtime))

    report("a-test", [("gray", 12.0), ("sepia", 11.8), ("runs/a", 10.5), ("runs/gone", 9.0),
                      ("runs/b (5 hints)", 8.0), ("colorful:official", 11.5)], 2000)
    lines = []
    assert model_choice.automatic("best", log=lines.append) == "runs/a"  # gone and hinted rows cannot colorize here
    assert lines == ["using runs/a: the lowest CIEDE2000 of the models 05 scored in reports/a-test (10.50; "
                     "runs/b (5 hints) 8.00, runs/gone 9.00, colorful:official 11.50, sepia 11.80, gray 12.00; lower is better)"]
    assert model_choice.automatic("runs/a", log=lines.append) == "runs/a" and len(lines) == 1  # measured best: no note
    # A newer report: b lost to sepia and to Colorful. Named, it is used, with one line saying so.
    report("b-test", [("gray", 12.0), ("sepia", 11.8), ("runs/b", 12.6), ("colorful:official", 11.5)], 3000)
    lines = []
    assert model_choice.automatic("runs/b", log=lines.append) == "runs/b"
    assert lines == ["note: 05 measured runs/b at CIEDE2000 12.60 in reports/b-test, behind colorful:official (11.50), "
                     "sepia (11.80), gray (12.00); MODEL = 'best' takes the best 05 measured"]
    lines = []
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights/colorful_eccv16.weights.h5").write_bytes(b"h5")
    assert model_choice.automatic("best", log=lines.append) == "colorful:official"
    assert "the lowest CIEDE2000 of the models 05 scored in reports/b-test (11.50" in lines[0] and fetched == ["colorful"]
    # Every model behind sepia: the best of them, and the line says what that means.
    report("c-test", [("sepia", 11.8), ("runs/a", 12.0)], 4000)
    lines = []
    assert model_choice.automatic("best", log=lines.append) == "runs/a"
    assert "but sepia scored as well or better: the model has learned little more than the average colour" in lines[0]
    # 05 scores the model this project ships beside the run: whichever scored better is taken.
    monkeypatch.setattr(weights, "bundled", lambda name: tmp_path / "w.h5")
    report("d-test", [("gray", 12.0), ("sepia", 11.8), ("runs/a", 10.8), ("effunet_cls:bundled", 10.5)], 5000)
    lines = []
    assert model_choice.automatic("best", log=lines.append) == "effunet_cls:bundled"
    assert lines[0].startswith("using effunet_cls:bundled: the lowest CIEDE2000 of the models 05 scored in "
                               "reports/d-test (10.50; runs/a 10.80")
    report("e-test", [("gray", 12.0), ("sepia", 11.8), ("runs/a", 10.2), ("effunet_cls:bundled", 10.5)], 6000)
    assert model_choice.automatic("best", log=lines.append) == "runs/a"


def test_a_named_model_that_is_not_there_falls_back_and_colorful_is_fetched_once(tmp_path, monkeypatch):
    from colorpast.config import TrainConfig
    from colorpast import weights

    fetched = []
    monkeypatch.chdir(tmp_path)  # runs/ and reports/ are this folder's
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setattr(weights, "fetch", lambda name: fetched.append(name))
    monkeypatch.setattr(weights, "bundled", lambda name: None)
    (tmp_path / "runs/mine/checkpoints/step-000000003").mkdir(parents=True)
    TrainConfig().to_json(tmp_path / "runs/mine/config.json")
    assert model_choice.automatic(str(tmp_path / "runs/mine")) == str(tmp_path / "runs/mine")
    lines = []
    none = tmp_path / "runs/none"
    assert model_choice.automatic(str(none), log=lines.append, runs_dir=tmp_path / "nothing") == "colorful:official"
    assert fetched == ["colorful"] and lines == [f"no trained model at {str(none)!r}: using colorful:official, Zhang "
                                                 "et al. 2016's published network (fetched now, 129 MB, once)"]
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights/colorful_eccv16.weights.h5").write_bytes(b"h5")
    model_choice.automatic("runs/none", log=lines.append, runs_dir=tmp_path / "nothing")
    assert fetched == ["colorful"] and lines[-1].endswith("using colorful:official, Zhang et al. 2016's published network")
    # 04 disconnected before its first checkpoint: settings, no weights. Passed over in one line.
    (tmp_path / "runs/early").mkdir()
    TrainConfig().to_json(tmp_path / "runs/early/config.json")
    lines = []
    early = tmp_path / "runs/early"
    assert model_choice.automatic(str(early), log=lines.append, runs_dir=tmp_path / "nothing") == "colorful:official"
    assert lines == [f"{early} has no trained weights yet (the first is written at the end of its first epoch): "
                     "using colorful:official, Zhang et al. 2016's published network"]
    # Given a folder that holds no model, your trained run is taken before a published one.
    assert model_choice.automatic(str(early), log=lines.append) == "runs/mine"
    assert lines[-1].startswith(f"{early} has no trained weights yet") and "using runs/mine" in lines[-1]


