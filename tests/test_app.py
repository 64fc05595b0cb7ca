"""``colorpast app`` without a browser: the work on a photo (app_photo), the models the
page offers and what it says of them, its verb, and its server. The page in a real
browser, for every kind of model: tests/test_app_page.py."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.request

import numpy as np
import pytest
from PIL import Image

from app_fixture import free_port, needs_gradio, nothing_at_hand, outbound, props, run_folder  # noqa: F401
from colorpast import app, app_photo, cli, hints, model_choice
from colorpast.errors import UserError

# --------------------------------------------------------------- the editor's strokes


def _layer(h, w, box, rgba):
    """An ``h x w x 4`` transparent layer with ``box`` (top, left, bottom, right) painted ``rgba``."""
    a = np.zeros((h, w, 4), np.uint8)
    t, left, b, r = box
    a[t:b, left:r] = rgba
    return a


def test_strokes_stay_at_the_canvas_size_and_hint_as_the_photo_size_would():
    """The editor paints on a copy at most 1,600 px wide: the strokes stay at that size (a
    300 MP scan's full-size scribble would be gigabytes), keep their colour, and give the
    model the hint map a scribble the photo's size gives."""
    layer = _layer(100, 150, (10, 30, 20, 60), (178, 34, 52, 255))
    layer[10:20, 60:62] = (178, 34, 52, 128)  # a soft edge: half opaque
    s = app_photo.strokes_to_scribble({"background": None, "layers": [layer], "composite": None})
    assert s.shape == (100, 150, 4) and s.dtype == np.uint8
    assert tuple(s[15, 45]) == (178, 34, 52, 255) and tuple(s[15, 60]) == (178, 34, 52, 128)
    assert s[:, :30, 3].max() == 0 and s[21:, :, 3].max() == 0
    canvas = hints.scribble(s, (200, 300), scaled=True)
    full = hints.scribble(np.repeat(np.repeat(s, 2, axis=0), 2, axis=1), (200, 300))  # the photo's size
    for size in ((56, 84), (224, 336)):
        np.testing.assert_allclose(canvas.to_map(size), full.to_map(size), atol=1e-3)
    with pytest.raises(UserError, match="the painted strokes is 150 x 60, not the shape of the 300 x 200 photo"):
        hints.scribble(s[:60], (200, 300), source="the painted strokes", scaled=True)


def test_nothing_painted_is_no_scribble():
    assert app_photo.strokes_to_scribble(None) is None
    assert app_photo.strokes_to_scribble({"layers": []}) is None
    assert app_photo.strokes_to_scribble([np.zeros((5, 5, 4), np.uint8)]) is None


def test_upper_layers_cover_lower_ones():
    blue = _layer(10, 10, (0, 0, 10, 10), (0, 0, 255, 255))
    red = _layer(10, 10, (0, 0, 5, 10), (255, 0, 0, 255))
    s = app_photo.strokes_to_scribble([blue, red])
    assert tuple(s[2, 2]) == (255, 0, 0, 255) and tuple(s[8, 2]) == (0, 0, 255, 255)


def test_a_layer_of_another_size_is_scaled_onto_the_first():
    """A stroke layer whose size differs from the bottom one (the canvas resized between
    strokes) is scaled to it, rows as rows and columns as columns."""
    bottom = _layer(20, 60, (0, 0, 2, 2), (0, 0, 255, 255))  # 20 rows x 60 columns, a blue dot at the corner
    top = _layer(40, 120, (20, 80, 40, 120), (255, 0, 0, 255))  # twice the size: red in its lower right third
    s = app_photo.strokes_to_scribble([bottom, top])
    assert tuple(s[1, 1]) == (0, 0, 255, 255)
    assert (s[10:, 40:, :] == (255, 0, 0, 255)).all() and s[:10, 2:, 3].max() == 0 and s[2:, :40, 3].max() == 0


def test_painted_strokes_and_a_hints_file_combine(tmp_path):
    shape = (40, 60)
    strokes = _layer(*shape, (0, 0, 10, 60), (0, 0, 255, 255))
    points = tmp_path / "points.json"
    points.write_text(json.dumps([{"x": 5, "y": 30, "color": "#b22234"}, {"x": 50, "y": 30, "color": "#0f0"}]))
    h = app_photo.hints_for(shape, strokes, points)
    assert len(h.points) == 2 and h.scribble is not None and h.scribble[5, 5, 2] == 1.0
    scribble = tmp_path / "scribble.png"
    Image.fromarray(_layer(*shape, (0, 0, 40, 30), (255, 0, 0, 255))).save(scribble)
    h = app_photo.hints_for(shape, strokes, scribble)
    assert h.scribble[5, 5, 1] < -50  # blue (b < 0): the painted stroke wins where both colour a pixel
    assert h.scribble[30, 5, 0] > 50  # red (a > 0) from the file below the stroke
    assert h.scribble[30, 50, 2] == 0  # neither
    # Strokes on a half-size canvas and the file at the photo's size meet at the canvas's size.
    h = app_photo.hints_for(shape, strokes[::2, ::2], scribble)
    assert h.scribble.shape == (20, 30, 3) and h.scribble[2, 2, 1] < -50 and h.scribble[15, 2, 0] > 50
    assert app_photo.hints_for(shape) is None
    with pytest.raises(UserError, match="is 60 x 40 but the photo is 60 x 50"):
        app_photo.hints_for((50, 60), None, scribble)


# ----------------------------------------------------------------------------- models


def _run_at(root, name, model, weights, mtime):
    """A run folder whose weights (a final model or a checkpoint, or none) are ``mtime`` old."""
    run = root / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"model": model}))
    if weights == "final":
        made = run / "model.keras"
    elif weights == "checkpoint":
        made = run / "checkpoints" / "step-00000010"
        made.mkdir(parents=True)
    else:
        return run
    made.touch()
    os.utime(made, (mtime, mtime))
    return run


def test_model_choices_newest_trained_run_first_then_shipped_and_published(tmp_path, monkeypatch, nothing_at_hand):
    from colorpast import weights

    runs = tmp_path / "runs"
    hinted = _run_at(runs, "hinted", "seed16_hints", "final", 2_000)
    older = _run_at(runs, "older", "seed16", "checkpoint", 1_000)
    _run_at(runs, "untrained", "seed16", None, 3_000)
    demo = _run_at(runs, "demo/run", "seed16", "final", 1_500)
    assert app.runs.trained_runs(runs) == [hinted, demo, older]
    choices = app.model_choices(runs)
    assert [c.ref for c in choices] == [str(hinted), str(demo), str(older)]
    assert choices[0].label.endswith("(seed16_hints, takes hints)") and choices[1].label.endswith("(seed16, no hints)")
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights/colorful_eccv16.weights.h5").touch()
    monkeypatch.setattr(weights, "bundled", lambda name: tmp_path / "w.h5" if name == "effunet" else None)
    given = app.model_choices(runs, given=str(older))
    assert [c.ref for c in given] == [str(older), str(hinted), str(demo), "effunet:bundled", "colorful:official"]
    assert given[0].label == f"{older} (seed16, no hints)" and given[3].label == "effunet:bundled (this project's own, no hints)"
    assert given[4].label == "colorful:official (Zhang et al. 2016's published network, no hints)"
    # The shipped automatic models in the order they were measured (313-bin head first),
    # then the hint model.
    shipping = {"effunet", "effunet_cls", "effunet_hints"}
    monkeypatch.setattr(weights, "bundled", lambda name: tmp_path / "w.h5" if name in shipping else None)
    assert [c.ref for c in app.model_choices(runs)][3:] == [
        "effunet_cls:bundled", "effunet:bundled", "effunet_hints:bundled", "colorful:official"]
    # A run of a model that recognises what it colours (an ImageNet-trained encoder) comes
    # first, however old: it scored best (benchmarks/RESULTS.md, "Recognition").
    recognises = _run_at(runs, "effunet", "effunet", "final", 500)
    assert app.runs.trained_runs(runs) == [recognises, hinted, demo, older]
    assert app.startup_model(None, runs, log=lambda _: None) == str(recognises)


def test_startup_takes_the_given_model_else_chooses_and_offline_with_nothing_opens_without_one(
        tmp_path, monkeypatch, nothing_at_hand):
    """As notebook 06: the given model; else model_choice's order; offline with nothing
    trained, nothing shipped and no published weights, one line says what to do and the
    page still opens (None)."""
    from colorpast import weights

    assert app.startup_model("other.keras", tmp_path / "runs") == "other.keras"
    lines = []
    assert app.startup_model(None, tmp_path / "runs", log=lines.append) is None
    assert len(lines) == 1 and lines[0].startswith("no trained run under")
    assert "no model to colorize with" in lines[0] and "could not download the colorful weights" in lines[0]
    fetched = []
    monkeypatch.setattr(weights, "fetch", lambda name, **_: fetched.append(name))
    lines.clear()
    assert app.startup_model(None, tmp_path / "runs", log=lines.append) == model_choice.OFFICIAL
    assert fetched == ["colorful"] and "using colorful:official" in lines[0] and "fetched now" in lines[0]
    monkeypatch.setattr(weights, "bundled", lambda name: tmp_path / "w.h5" if name.startswith("effunet") else None)
    assert app.startup_model(None, tmp_path / "runs", log=lines.append) == "effunet_cls:bundled" and fetched == ["colorful"]
    run = run_folder(tmp_path / "runs", "seed16_hints", name="mine")
    assert app.startup_model(None, tmp_path / "runs", log=lines.append) == str(run)


def test_the_page_says_what_each_kind_of_model_does_with_the_brush(tmp_path, monkeypatch, nothing_at_hand):
    """No model: the notice says what to do. A model without hints: the paint box says
    it is off and why, and names a model at hand that takes hints, or how to get one. A
    model with hints: nothing is said."""
    from colorpast import models

    runs = tmp_path / "runs"
    plain = tmp_path / "plain.keras"
    models.build("seed16", (None, None, 1)).save(plain)
    assert app.notice(None).startswith("**No model yet.** No model to colorize with: train one")
    assert app.notice(str(plain)) == app.notice("effunet:bundled") == ""
    said = app.paint_off(str(plain), runs)
    assert said.startswith(f"**2. Painting is off:** {plain} takes no colour hints; it colours on its own.")
    assert "colorpast train --model effunet_hints" in said and "colorpast weights fetch siggraph17" in said
    assert app.paint_off(None, runs).startswith("**2. Painting is off:** there is no model yet")
    hinted = run_folder(runs, "seed16_hints")
    assert model_choice.takes_hints(str(hinted)) and model_choice.takes_hints(f"{hinted}:best")
    assert f"choose **{hinted}** in Model" in app.paint_off("colorful:official", runs)
    other = run_folder(tmp_path / "elsewhere", "seed16_hints")  # 06's HINTS_MODEL, outside runs/: named first
    assert f"choose **{other}** in Model" in app.paint_off("colorful:official", runs, also=[str(other)])
    # The published 2017 model on disk, with no run of yours that takes hints: that one is named.
    import shutil

    shutil.rmtree(hinted)
    (tmp_path / "weights").mkdir()
    models.build("siggraph17").save_weights(tmp_path / "weights/siggraph17.weights.h5")
    assert "choose **siggraph17:official** in Model" in app.paint_off(str(plain), runs)
    assert model_choice.takes_hints("siggraph17:official") and not model_choice.takes_hints("colorful:official")
    assert [c.ref for c in app.model_choices(runs, str(plain))][-1] == "siggraph17:official"


# ----------------------------------------------------------------------------- result


@pytest.fixture(scope="module")
def hint_model(tmp_path_factory) -> str:
    """An untrained seed16_hints saved as .keras: the page needs a model that takes
    hints, not a good one (its output still changes with the hints)."""
    from colorpast import models

    path = tmp_path_factory.mktemp("model") / "hints.keras"
    models.build("seed16_hints").save(path)
    return str(path)


def test_colorize_photo_is_the_pages_one_function(tmp_path, hint_model):
    from colorpast import models

    photo = tmp_path / "old print.png"
    Image.fromarray(np.tile(np.linspace(0, 255, 96, dtype=np.uint8), (64, 1))).save(photo)
    model = app.load_model(hint_model)
    r = app_photo.colorize_photo(photo, model, tmp_path / "out", strokes={"layers": []})
    assert r.message.startswith("96 x 64 px colorized without hints in ")
    assert r.png == tmp_path / "out" / "old print_colorized.png" and r.before.shape == r.after.shape == (64, 96, 3)
    with Image.open(r.png) as im:
        assert im.size == (96, 64)
        assert np.array_equal(np.asarray(im.convert("RGB")), r.after)  # the shown copy is the file, at this size
    points = tmp_path / "p.json"
    points.write_text('[{"x": 90, "y": 60, "color": "#b22234"}]')
    strokes = [_layer(32, 48, (0, 0, 5, 48), (74, 127, 193, 255))]  # painted on a half-size copy
    hinted = app_photo.colorize_photo(photo, model, tmp_path / "out", strokes=strokes, hints_file=points, model_ref="m")
    assert "with your painted colours and the hints in p.json in " in hinted.message and " by m;" in hinted.message
    assert np.abs(hinted.after.astype(int) - r.after).max() > 0
    with pytest.raises(UserError, match="takes no colour hints"):
        app_photo.colorize_photo(photo, models.build("seed16"), tmp_path / "out", strokes=strokes)


def test_no_result_overwrites_another_photos(tmp_path):
    """IMG_1.jpg and then IMG_1.png, a second photo named IMG_1.jpg, and a result left by an
    earlier page: each keeps its own file. The same photo colorized again (other hints)
    replaces its own result."""
    out, names = tmp_path / "out", {}
    (out).mkdir()
    files = {}
    for i, rel in enumerate(["a/IMG_1.jpg", "b/IMG_1.png", "c/IMG_1.jpg", "d/IMG_1.JPG"]):
        f = tmp_path / rel
        f.parent.mkdir()
        f.write_bytes(bytes([i]))
        files[rel] = f
    (out / "IMG_1_colorized.png").write_bytes(b"an earlier page's result")
    got = [app_photo.result_path(f, out, names) for f in files.values()]
    assert [p.name for p in got] == ["IMG_1-jpg_colorized.png", "IMG_1-png_colorized.png",
                                     "IMG_1-jpg_colorized-2.png", "IMG_1-jpg_colorized-3.png"]
    assert app_photo.result_path(files["a/IMG_1.jpg"], out, names) == got[0]


def test_colorize_photo_restores_a_faded_print_and_sets_colour_strength(tmp_path, hint_model, monkeypatch):
    """The page's 'Faded old print' and 'Colour strength' reach colorize (whose own tests
    check what each does to the colours): the model sees a stretched L, the output keeps
    the photo's own."""
    from colorpast import color, colorizer

    photo = tmp_path / "faded.png"
    Image.fromarray(np.tile(np.linspace(100, 150, 96).astype(np.uint8), (64, 1))).save(photo)  # a faded print
    model = app.load_model(hint_model)
    seen, calls = [], []
    real_normalize, real_colorize = colorizer.normalize_L, colorizer.colorize_into
    monkeypatch.setattr(colorizer, "normalize_L", lambda L: seen.append(float(np.ptp(L))) or real_normalize(L))
    monkeypatch.setattr(colorizer, "colorize_into", lambda *a, **k: calls.append(k) or real_colorize(*a, **k))
    plain = app_photo.colorize_photo(photo, model, tmp_path / "a")
    assert not seen and calls[-1]["normalize"] is False and calls[-1]["saturation"] == 1.0
    restored = app_photo.colorize_photo(photo, model, tmp_path / "b", normalize=True, saturation=1.7)
    assert len(seen) == 1 and seen[0] < 30  # the model's input was the faded L, stretched there
    assert calls[-1]["normalize"] is True and calls[-1]["saturation"] == 1.7
    lab = {k: color.rgb_to_lab(np.asarray(Image.open(r.png), np.float32) / 255)
           for k, r in (("plain", plain), ("restored", restored))}
    assert np.abs(lab["restored"][..., 0] - lab["plain"][..., 0]).max() < 1.0  # the photo's own L
    with pytest.raises(UserError, match="saturation"):
        app_photo.colorize_photo(photo, model, tmp_path / "d", saturation=9.0)


# ------------------------------------------------------------------------------ verb and server


def test_app_help_lists_its_options(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["app", "--help"])
    out = capsys.readouterr().out
    assert e.value.code == 0
    assert all(o in out for o in ("--port", "--model", "--runs", "--host", 'pip install "colorpast[app]"'))


def test_without_gradio_one_line_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio now raises ImportError
    assert cli.main(["app", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err == 'colorpast app: error: the app needs Gradio: pip install "colorpast[app]"\n'


def test_on_colab_a_gradio_that_loops_behind_its_proxy_is_one_line(monkeypatch):
    """Gradio 6.4 to 6.26 lose the page behind Colab's proxy (Gradio issue 13629, fixed in
    6.27): on Colab such a version stops with one line saying how to get a newer one;
    elsewhere, and with a version outside that range, the app goes on."""
    fake = types.ModuleType("gradio")
    monkeypatch.setitem(sys.modules, "gradio", fake)
    assert [app.colab_broken(v) for v in ("6.3.0", "6.4.0", "6.19.0", "6.26.9", "6.27.0", "6.31.0", "7.0", "dev")] == [
        False, True, True, True, False, False, False, False]
    fake.__version__ = "6.19.0"
    assert app.gradio() is fake  # not on Colab: Gradio's own proxying is not involved
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    with pytest.raises(UserError) as e:
        app.gradio()
    assert "\n" not in str(e.value) and "6.19.0" in str(e.value) and "13629" in str(e.value)
    assert "Setup" in str(e.value) and "Restart" in str(e.value)
    fake.__version__ = "6.31.0"
    assert app.gradio() is fake



def test_offline_page_starts_without_a_model_and_a_cell_run_again_replaces_it(tmp_path, hint_model, outbound,
                                                                              nothing_at_hand):
    needs_gradio()
    port, lines = free_port(), []
    page = app.launch(port=port, model=None, runs_dir=tmp_path / "runs", out_dir=tmp_path / "out", block=False,
                      log=lines.append)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
            assert r.status == 200 and b"colorpast" in r.read()
        assert "no model to colorize with" in lines[-2] and "model: none" in lines[-1]
        # The page itself says what to do, and the brush is off (nothing would follow it).
        p = props(port)
        assert p["notice"]["value"].startswith("**No model yet.** No model to colorize with: train one")
        assert p["paint"]["visible"] == "hidden" and p["paint-off"]["visible"] is True
        # A notebook cell run again: the first page is closed, not left serving beside the new one.
        lines.clear()
        again = app.launch(port=None, model=hint_model, runs_dir=tmp_path / "runs", out_dir=tmp_path / "out",
                           block=False, log=lines.append)
        try:
            with pytest.raises(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
            assert lines == [f"colorpast app: below (model: {hint_model}); it runs until the runtime stops, and "
                             "running this cell again starts it afresh"]
            p = props(again.server_port)
            assert p["notice"]["value"] == "" and p["paint"]["visible"] is True and p["paint-off"]["visible"] is False
        finally:
            again.close()
    finally:
        page.close()
    assert outbound == []  # no analytics, no version check, no share link


def test_a_busy_port_is_one_line(tmp_path, hint_model):
    needs_gradio()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{port}.*--port"):
            app.launch(port=port, model=hint_model, runs_dir=tmp_path / "runs", block=False, log=lambda _: None)


def test_the_verb_serves_until_ctrl_c_and_leaves_nothing_behind(tmp_path, hint_model):
    """``colorpast app`` as a user starts it: the page answers, Ctrl-C stops it with
    status 0, and its temporary results folder (under TMPDIR) is gone."""
    needs_gradio()
    port, tmp = free_port(), tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "COLORPAST_WEIGHTS": str(tmp_path / "weights"), "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen([sys.executable, "-m", "colorpast", "app", "--port", str(port), "--model", hint_model,
                          "--runs", str(tmp_path / "runs")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    said, errors = [], []

    def read(stream, into):
        for line in stream:
            into.append(line)

    readers = [threading.Thread(target=read, args=(s, into), daemon=True) for s, into in ((p.stdout, said),
                                                                                        (p.stderr, errors))]
    for r in readers:
        r.start()
    ready = f"open http://127.0.0.1:{port} in a browser (model: {hint_model})"
    try:
        # Ctrl-C once the verb says where to open the page (it is serving by then); start-up
        # imports Gradio, TensorFlow and the model: slow on a busy 2-core CPU.
        deadline = time.monotonic() + 180
        while not any(ready in line for line in said):
            assert p.poll() is None and time.monotonic() < deadline, "".join(errors)[-2000:]
            time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
            assert r.status == 200
        assert any(d.name.startswith("colorpast-app-") for d in tmp.iterdir())
        p.send_signal(signal.SIGINT)
        p.wait(timeout=60)
        for r in readers:
            r.join(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
    out, err = "".join(said), "".join(errors)
    assert p.returncode == 0, err[-2000:]
    assert "colorpast app: stopped" in out and "Traceback" not in err
    assert not any(d.name.startswith("colorpast-app-") for d in tmp.iterdir())


def test_a_model_that_does_not_load_is_one_line(tmp_path, capsys):
    needs_gradio()
    assert cli.main(["app", "--model", str(tmp_path / "runs/nosuch"), "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no model at" in err


def test_a_model_that_does_not_load_is_one_line(tmp_path, capsys, nothing_at_hand):
    """A --model that is not there, and a published one that cannot be fetched: one line each, exit 2."""
    needs_gradio()
    assert cli.main(["app", "--model", str(tmp_path / "runs/nosuch"), "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no model at" in err
    assert cli.main(["app", "--model", "colorful:official", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "colorful:official: could not download the colorful weights" in err
