"""``colorpast app``: the functions behind the page, its verb, and the page itself in a
real browser (headless Chromium driven by Selenium), offline."""

import contextlib
import json
import os
import shutil
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

import conftest
from colorpast import app, cli
from colorpast.errors import UserError

# --------------------------------------------------------------- the editor's strokes


def _layer(h, w, box, rgba):
    """An ``h x w x 4`` transparent layer with ``box`` (top, left, bottom, right) painted ``rgba``."""
    a = np.zeros((h, w, 4), np.uint8)
    t, left, b, r = box
    a[t:b, left:r] = rgba
    return a


def test_strokes_become_a_scribble_the_photos_size():
    """The editor paints on a copy at most 1,600 px wide: its strokes are scaled to the
    photo's own size, keep their colour, and are transparent where nothing was painted."""
    layer = _layer(100, 150, (10, 30, 20, 60), (178, 34, 52, 255))
    layer[10:20, 60:62] = (178, 34, 52, 128)  # a soft edge: half opaque
    s = app.strokes_to_scribble({"background": None, "layers": [layer], "composite": None}, (200, 300))
    assert s.shape == (200, 300, 4) and s.dtype == np.uint8
    assert tuple(s[30, 90]) == (178, 34, 52, 255)  # the stroke, at twice the coordinates
    assert s[:, :58, 3].max() == 0  # nothing painted there
    edge = s[30, 122]
    assert 100 < edge[3] < 160 and tuple(edge[:3]) == (178, 34, 52)  # fades, same colour
    assert (s[22:38, 62:118, 3] == 255).all()  # rows 10-20, columns 30-60 at twice the size
    assert s[:18, :, 3].max() == 0 and s[42:, :, 3].max() == 0 and s[:, 126:, 3].max() == 0  # a 1 px fringe at most


def test_nothing_painted_is_no_scribble():
    assert app.strokes_to_scribble(None, (10, 10)) is None
    assert app.strokes_to_scribble({"layers": []}, (10, 10)) is None
    assert app.strokes_to_scribble([np.zeros((5, 5, 4), np.uint8)], (10, 10)) is None


def test_upper_layers_cover_lower_ones():
    blue = _layer(10, 10, (0, 0, 10, 10), (0, 0, 255, 255))
    red = _layer(10, 10, (0, 0, 5, 10), (255, 0, 0, 255))
    s = app.strokes_to_scribble([blue, red], (10, 10))
    assert tuple(s[2, 2]) == (255, 0, 0, 255) and tuple(s[8, 2]) == (0, 0, 255, 255)


def test_a_layer_of_another_size_is_scaled_onto_the_first():
    """A stroke layer whose size differs from the bottom one (the canvas resized between
    strokes) is scaled to it, rows as rows and columns as columns."""
    bottom = _layer(20, 60, (0, 0, 2, 2), (0, 0, 255, 255))  # 20 rows x 60 columns, a blue dot at the corner
    top = _layer(40, 120, (20, 80, 40, 120), (255, 0, 0, 255))  # twice the size: red in its lower right third
    s = app.strokes_to_scribble([bottom, top], (20, 60))
    assert tuple(s[1, 1]) == (0, 0, 255, 255)
    assert (s[10:, 40:, :] == (255, 0, 0, 255)).all() and s[:10, 2:, 3].max() == 0 and s[2:, :40, 3].max() == 0


def test_painted_strokes_and_a_hints_file_combine(tmp_path):
    shape = (40, 60)
    strokes = _layer(*shape, (0, 0, 10, 60), (0, 0, 255, 255))
    points = tmp_path / "points.json"
    points.write_text(json.dumps([{"x": 5, "y": 30, "color": "#b22234"}, {"x": 50, "y": 30, "color": "#0f0"}]))
    h = app.hints_for(shape, strokes, points)
    assert len(h.points) == 2 and h.scribble is not None and h.scribble[5, 5, 2] == 1.0
    scribble = tmp_path / "scribble.png"
    Image.fromarray(_layer(*shape, (0, 0, 40, 30), (255, 0, 0, 255))).save(scribble)
    h = app.hints_for(shape, strokes, scribble)
    assert h.scribble[5, 5, 1] < -50  # blue (b < 0): the painted stroke wins where both colour a pixel
    assert h.scribble[30, 5, 0] > 50  # red (a > 0) from the file below the stroke
    assert h.scribble[30, 50, 2] == 0  # neither
    assert app.hints_for(shape) is None
    with pytest.raises(UserError, match="is 60 x 40 but the photo is 60 x 50"):
        app.hints_for((50, 60), None, scribble)


# ---------------------------------------------------------------------------- models


def _run_folder(root, name, model, weights, mtime):
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


def test_model_choices_newest_trained_run_first(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    hinted = _run_folder(runs, "hinted", "seed16_hints", "final", 2_000)
    older = _run_folder(runs, "older", "seed16", "checkpoint", 1_000)
    _run_folder(runs, "untrained", "seed16", None, 3_000)
    demo = _run_folder(runs, "demo/run", "seed16", "final", 1_500)
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "weights"))
    assert app.trained_runs(runs) == [hinted, demo, older]
    assert [c.ref for c in app.model_choices(runs)] == [str(hinted), str(demo), str(older)]
    assert "takes hints" in app.model_choices(runs)[0].label and "hints" not in app.model_choices(runs)[1].label
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights/colorful_eccv16.weights.h5").touch()
    given = app.model_choices(runs, given=str(older))
    assert [c.ref for c in given] == [str(older), str(hinted), str(demo), app.OFFICIAL]  # --model first, once
    assert app.trained_runs(tmp_path / "nowhere") == []
    # A run of a model that recognises what it colours (an ImageNet-trained encoder) comes
    # first, however old: it scored best (benchmarks/RESULTS.md, "Recognition").
    recognises = _run_folder(runs, "effunet", "effunet", "final", 500)
    assert app.trained_runs(runs) == [recognises, hinted, demo, older]
    assert app.startup_model(None, runs) == str(recognises)


def test_startup_prefers_the_given_model_then_the_newest_run(tmp_path):
    runs = tmp_path / "runs"
    run = _run_folder(runs, "mine", "seed16_hints", "final", 1_000)
    assert app.startup_model("other.keras", runs) == "other.keras"
    assert app.startup_model(None, runs) == str(run)


def test_offline_with_nothing_trained_starts_without_a_model(tmp_path, monkeypatch):
    """As notebook 06: Colorful's weights are fetched when nothing is trained; offline
    that fails, is said in one line with what to do, and the app still starts."""
    from colorpast import weights

    def offline(name, **_):
        raise UserError(f"could not download the {name} weights: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setattr(weights, "fetch", offline)
    lines = []
    assert app.startup_model(None, tmp_path / "runs", log=lines.append) is None
    assert "using colorful:official" in lines[0] and len(lines) == 3
    assert "could not download" in lines[2] and "colorpast weights fetch colorful" in lines[2]
    fetched = []
    monkeypatch.setattr(weights, "fetch", lambda name, **_: fetched.append(name))
    assert app.startup_model(None, tmp_path / "runs", log=lines.append) == app.OFFICIAL and fetched == ["colorful"]


def test_write_png_keeps_the_full_resolution(tmp_path):
    rgb = np.random.default_rng(0).random((123, 457, 3), dtype=np.float32)
    path = app.write_png(rgb, tmp_path / "out" / "x_colorized.png")
    with Image.open(path) as im:
        assert im.size == (457, 123) and im.mode == "RGB"
        assert np.array_equal(np.asarray(im), app.to_uint8(rgb))


# ------------------------------------------------------------------------------ verb


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


# ---------------------------------------------------------------------- the page


def _needs_gradio():
    try:
        import gradio  # noqa: F401
    except ImportError:
        conftest.missing('gradio is not installed (pip install --no-deps -r requirements-app.txt, or "colorpast[app]")')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def outbound(monkeypatch) -> list:
    """Connections this process tries to open to other hosts (the app's server thread
    included); conftest's guard refuses them, and this remembers them, so a test can
    check that none was tried rather than that a failure was swallowed."""
    tried, guarded = [], socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not host.startswith(("127.", "/")) and host not in ("localhost", "::1"):
            tried.append(address)
        return guarded(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return tried


@pytest.fixture(scope="module")
def hint_model(tmp_path_factory) -> str:
    """An untrained seed16_hints saved as .keras: the page needs a model that takes
    hints, not a good one (its output still changes with the hints)."""
    from colorpast import models

    path = tmp_path_factory.mktemp("model") / "hints.keras"
    models.build("seed16_hints").save(path)
    return str(path)


def test_offline_page_starts_without_a_model_and_a_busy_port_is_one_line(tmp_path, monkeypatch, hint_model,
                                                                         outbound):
    _needs_gradio()
    from colorpast import weights

    def offline(name, **_):
        raise UserError(f"could not download the {name} weights")

    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setattr(weights, "fetch", offline)
    port, lines = _free_port(), []
    page = app.launch(port=port, model=None, runs_dir=tmp_path / "runs", out_dir=tmp_path / "out", block=False,
                      log=lines.append)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as r:
            assert r.status == 200 and b"colorpast" in r.read()
        assert "starting without a model" in lines[-2] and "model: none" in lines[-1]
        # The page itself says what to do, and the brush is off (nothing would follow it).
        props = _props(port)
        assert props["notice"]["value"].startswith("**No model yet.** No model to colorize with: train one")
        assert props["editor"]["interactive"] is False
        # A notebook cell run again: the first page is closed, not left serving beside the new one.
        lines.clear()
        again = app.launch(port=None, model=hint_model, runs_dir=tmp_path / "runs", out_dir=tmp_path / "out",
                           block=False, log=lines.append)
        try:
            with pytest.raises(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
            assert lines == [f"colorpast app: below (model: {hint_model}); it runs until the runtime stops, and "
                             "running this cell again starts it afresh"]
            props = _props(again.server_port)
            assert props["notice"]["value"] == "" and props["editor"]["interactive"] is not False
        finally:
            again.close()
    finally:
        page.close()
    assert outbound == []  # no analytics, no version check, no share link


def test_a_busy_port_is_one_line(tmp_path, hint_model):
    _needs_gradio()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{port}.*--port"):
            app.launch(port=port, model=hint_model, runs_dir=tmp_path / "runs", block=False, log=lambda _: None)


def test_a_model_without_hints_turns_the_brush_off_and_says_which_do(tmp_path, monkeypatch):
    """The page's notice and brush for each kind of model: a hints model (nothing said),
    one without hints (painting off, and what takes them), none (what to do)."""
    from colorpast import models
    from colorpast.config import TrainConfig

    plain = tmp_path / "plain.keras"
    models.build("seed16", (None, None, 1)).save(plain)
    assert not app.takes_hints(str(plain)) and not app.takes_hints("colorful:official") and not app.takes_hints(None)
    (tmp_path / "runs/h").mkdir(parents=True)
    TrainConfig(model="effunet_hints").to_json(tmp_path / "runs/h/config.json")
    assert app.takes_hints(str(tmp_path / "runs/h")) and app.notice(str(tmp_path / "runs/h")) == ""
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "weights"))
    said = app.notice("colorful:official")
    assert said.startswith("**colorful:official takes no colour hints: painting is off.**")
    assert "colorpast weights fetch siggraph17" in said and "colorpast train --model seed16_hints" in said
    assert app.notice(None).startswith("**No model yet.**")
    # Zhang et al. 2017's published weights on disk: offered, and named in the notice.
    (tmp_path / "weights").mkdir()
    models.build("siggraph17").save_weights(tmp_path / "weights/siggraph17.weights.h5")
    assert "choose siggraph17:official (Zhang et al. 2017's published model) above" in app.notice(str(plain))
    assert app.takes_hints("siggraph17:official")
    assert [c.ref for c in app.model_choices(tmp_path / "runs", str(plain))][-1] == "siggraph17:official"


def _props(port) -> dict:
    """The page's components by elem_id, as its /config describes them to the browser."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=30) as r:
        config = json.loads(r.read())
    return {c["props"]["elem_id"]: c["props"] for c in config["components"] if c.get("props", {}).get("elem_id")}


def test_the_verb_serves_until_ctrl_c_and_leaves_nothing_behind(tmp_path, hint_model):
    """``colorpast app`` as a user starts it: the page answers, Ctrl-C stops it with
    status 0, and its temporary results folder (under TMPDIR) is gone."""
    _needs_gradio()
    port, tmp = _free_port(), tmp_path / "tmp"
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
    _needs_gradio()
    assert cli.main(["app", "--model", str(tmp_path / "runs/nosuch"), "--port", str(_free_port())]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no model at" in err


def test_colorize_photo_is_the_pages_one_function(tmp_path, hint_model):
    from colorpast import models

    photo = tmp_path / "old print.png"
    Image.fromarray(np.tile(np.linspace(0, 255, 96, dtype=np.uint8), (64, 1))).save(photo)
    model = app.load_model(hint_model)
    r = app.colorize_photo(photo, model, tmp_path / "out", strokes={"layers": []})
    assert r.message.startswith("96 x 64 px colorized without hints in ")
    assert r.png == tmp_path / "out" / "old print_colorized.png" and r.before.shape == r.after.shape == (64, 96, 3)
    with Image.open(r.png) as im:
        assert im.size == (96, 64)
    points = tmp_path / "p.json"
    points.write_text('[{"x": 90, "y": 60, "color": "#b22234"}]')
    strokes = [_layer(32, 48, (0, 0, 5, 48), (74, 127, 193, 255))]  # painted on a half-size copy
    hinted = app.colorize_photo(photo, model, tmp_path / "out", strokes=strokes, hints_file=points, model_ref="m")
    assert "with your painted colours and the hints in p.json in " in hinted.message and " by m;" in hinted.message
    assert np.abs(hinted.after.astype(int) - r.after).max() > 0
    with pytest.raises(UserError, match="takes no colour hints"):
        app.colorize_photo(photo, models.build("seed16"), tmp_path / "out", strokes=strokes)


def test_colorize_photo_restores_a_faded_print_and_sets_colour_strength(tmp_path, hint_model, monkeypatch):
    """The page's 'Faded old print' and 'Colour strength' reach colorize (whose own tests
    check what each does to the colours): the model sees a stretched L, the output keeps
    the photo's own."""
    from colorpast import color, colorizer

    photo = tmp_path / "faded.png"
    Image.fromarray(np.tile(np.linspace(100, 150, 96).astype(np.uint8), (64, 1))).save(photo)  # a faded print
    model = app.load_model(hint_model)
    seen, calls = [], []
    real_normalize, real_colorize = colorizer.normalize_L, app.colorizer.colorize
    monkeypatch.setattr(colorizer, "normalize_L", lambda L: seen.append(float(np.ptp(L))) or real_normalize(L))
    monkeypatch.setattr(app.colorizer, "colorize", lambda *a, **k: calls.append(k) or real_colorize(*a, **k))
    plain = app.colorize_photo(photo, model, tmp_path / "a")
    assert not seen and calls[-1]["normalize"] is False and calls[-1]["saturation"] == 1.0
    restored = app.colorize_photo(photo, model, tmp_path / "b", normalize=True, saturation=1.7)
    assert len(seen) == 1 and seen[0] < 30  # the model's input was the faded L, stretched there
    assert calls[-1]["normalize"] is True and calls[-1]["saturation"] == 1.7
    lab = {k: color.rgb_to_lab(np.asarray(Image.open(r.png), np.float32) / 255)
           for k, r in (("plain", plain), ("restored", restored))}
    assert np.abs(lab["restored"][..., 0] - lab["plain"][..., 0]).max() < 1.0  # the photo's own L
    with pytest.raises(UserError, match="saturation"):
        app.colorize_photo(photo, model, tmp_path / "d", saturation=9.0)


def _browser(tmp_path):
    """Headless Chromium that can reach this machine alone: every other host name fails
    to resolve, so a page that needed the internet (fonts, scripts) would show it."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        conftest.missing("selenium is not installed (pip install --no-deps -r requirements-app.txt)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        conftest.missing("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1150",
                "--enable-unsafe-swiftshader", f"--user-data-dir={tmp_path / 'chromium'}",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=opts)


@contextlib.contextmanager
def _page_in_browser(tmp_path, model, out):
    """The app on a free port with ``model``, results in ``out``, and a browser for it:
    yields (browser, wait, url); both are closed afterwards."""
    from selenium.webdriver.support.ui import WebDriverWait

    port = _free_port()
    page = app.launch(port=port, model=model, runs_dir=tmp_path / "runs", out_dir=out, block=False,
                      log=lambda _: None)
    browser = _browser(tmp_path)
    try:
        yield browser, WebDriverWait(browser, 60, poll_frequency=0.2), f"http://127.0.0.1:{port}/"
    finally:
        browser.quit()
        page.close()


def _requested(browser) -> list[str]:
    """Every web URL (http, https, ws, wss) the browser asked for so far; its own
    chrome:// pages and the page's data: and blob: URLs reach no network."""
    urls = []
    for entry in browser.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))]


def test_the_page_colorizes_a_photo_with_painted_and_uploaded_hints(tmp_path, monkeypatch, hint_model, outbound):
    """In a real browser: drop a photo in (colorized at once), paint a stroke on the gray
    copy, add a JSON file of points, press Colorize; each result is a PNG at the photo's
    full size, and the hints change it. The stroke reaches the server in the brush's
    colour, where it was painted: the untrained model's output cannot show that (it
    mixes hint colours at random). Set COLORPAST_APP_SCREENSHOT=FILE to keep a
    screenshot of the page with its result."""
    _needs_gradio()
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from skimage import data

    photo = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).convert("L").save(photo)  # 451 x 300, black and white
    points = tmp_path / "points.json"
    points.write_text(json.dumps([{"x": 60, "y": 250, "color": "#3d7a2e"}, {"x": 400, "y": 40, "color": "#4a7fc1"}]))
    out = tmp_path / "out"
    scribbles, colorize_photo = [], app.colorize_photo

    def seen(photo, model, out_dir, strokes=None, **options):
        scribbles.append(app.strokes_to_scribble(strokes, (300, 451)))
        return colorize_photo(photo, model, out_dir, strokes=strokes, **options)

    monkeypatch.setattr(app, "colorize_photo", seen)
    with _page_in_browser(tmp_path, hint_model, out) as (browser, wait, url):

        def status_says(text):
            wait.until(lambda b: text in b.find_element(By.ID, "status").text)
            return browser.find_element(By.ID, "status").text

        def result():
            png = out / "chelsea_colorized.png"
            wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#download a"))
            with Image.open(png) as im:
                assert im.size == (451, 300)
                return np.asarray(im.convert("RGB"))

        browser.get(url)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#photo input[type=file]"))
        browser.find_element(By.CSS_SELECTOR, "#photo input[type=file]").send_keys(str(photo))
        assert "451 x 300 px colorized without hints" in status_says("without hints")
        automatic = result()
        assert browser.find_elements(By.CSS_SELECTOR, "#before-after img")

        canvas = max(browser.find_elements(By.CSS_SELECTOR, "#editor canvas"),
                     key=lambda c: c.size["width"] * c.size["height"])
        (ActionChains(browser).move_to_element_with_offset(canvas, -80, -40).click_and_hold()
         .move_by_offset(60, 0).move_by_offset(60, 20).move_by_offset(40, 0).release().perform())
        browser.find_element(By.ID, "colorize").click()
        status_says("with your painted colours in")
        painted = result()
        assert np.abs(painted.astype(int) - automatic).max() > 0  # the strokes reached the model
        solid = scribbles[-1][..., 3] == 255
        rows, cols = np.nonzero(solid)
        assert np.abs(scribbles[-1][solid][:, :3].astype(int) - (74, 127, 193)).max() <= 1  # the brush's #4a7fc1
        assert rows.max() < 150 and cols.max() - cols.min() > 100  # above the middle, drawn left to right

        browser.find_element(By.CSS_SELECTOR, "#hints-file input[type=file]").send_keys(str(points))
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#hints-file a[download='points.json']"))
        browser.find_element(By.ID, "colorize").click()
        status_says("with your painted colours and the hints in points.json")
        both = result()
        assert np.abs(both.astype(int) - painted).max() > 0
        if os.environ.get("COLORPAST_APP_SCREENSHOT"):
            time.sleep(1)  # the slider's images decode after the status text shows
            browser.save_screenshot(os.environ["COLORPAST_APP_SCREENSHOT"])
        outside = [u for u in _requested(browser) if not u.startswith(url)]
        assert outside == [], f"the page asked for other hosts: {outside[:5]}"
    assert outbound == []


def test_a_heic_dropped_into_the_page_is_read_and_colorized(tmp_path, hint_model, outbound):
    """In a real browser: an iPhone's IMG_0001.HEIC picked with the photo box's file
    dialog, then another dropped onto it, are each colorized at full size. Chromium on
    Linux gives a capitalised .HEIC no type, and Gradio's box (image/*) dropped such a
    file without a word until the page typed it (app.HEIC_TYPE_JS); the server reads it
    with pillow-heif, registered when the page is built."""
    _needs_gradio()
    import base64

    import pillow_heif  # noqa: F401 - the heic extra; make test installs it
    from selenium.webdriver.common.by import By
    from skimage import data

    photo, dropped = tmp_path / "IMG_0001.HEIC", tmp_path / "IMG_0002.HEIC"
    pillow_heif.from_pillow(Image.fromarray(data.coffee()[::2, ::2])).save(photo)  # 300 x 200
    pillow_heif.from_pillow(Image.fromarray(data.coffee()[::4, ::4])).save(dropped)  # 150 x 100
    out = tmp_path / "out"
    with _page_in_browser(tmp_path, hint_model, out) as (browser, wait, url):

        def colorized(name, size):
            png = out / f"{name}_colorized.png"
            wait.until(lambda b: f"{size[0]} x {size[1]} px colorized" in b.find_element(By.ID, "status").text)
            wait.until(lambda b: png.is_file())
            with Image.open(png) as im:
                assert im.size == size

        browser.get(url)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#photo input[type=file]"))
        browser.find_element(By.CSS_SELECTOR, "#photo input[type=file]").send_keys(str(photo))
        colorized("IMG_0001", (300, 200))
        browser.get(url)  # a fresh page, its photo box empty
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#photo input[type=file]"))
        browser.execute_script("""
            const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], "IMG_0002.HEIC", {type: ""}));  // as Chromium on Linux has it
            const zone = document.querySelector("#photo input[type=file]").parentElement;
            for (const kind of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(kind, {bubbles: true, cancelable: true, dataTransfer: dt}));
            }""", base64.b64encode(dropped.read_bytes()).decode())
        colorized("IMG_0002", (150, 100))
    assert outbound == []
