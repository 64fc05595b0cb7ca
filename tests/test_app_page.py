"""The app's page in a real browser (headless Chromium driven by Selenium), offline, with
every kind of model it serves: none at all, an automatic run (effunet's, the default),
Colorful's published weights, the weights this project ships (the L1 head alone, and the
313-bin head first as weights/ holds them), and a run that takes hints.
For each: the page loads with no "Error" badge and no console error, a dropped photo is
colorized, and the paint box says why it is off when the model takes no hints. Then the
hints themselves, a HEIC photo, and a scan beyond Pillow's own limit.

Set COLORPAST_APP_SCREENSHOTS=FOLDER to keep a screenshot of each page with its result.
"""

import base64
import contextlib
import json
import os
import shutil
import time

import numpy as np
import pytest
from PIL import Image

import conftest
from app_fixture import free_port, needs_gradio, nothing_at_hand, outbound, run_folder, stage_bundled  # noqa: F401
from colorpast import app, app_photo, models

pytestmark = pytest.mark.slow


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
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=opts)


@contextlib.contextmanager
def _page_in_browser(tmp_path, model, out, runs=None):
    """The app on a free port with ``model`` (None: chosen as the app chooses, from
    ``runs``), results in ``out``, and a browser on it, the page loaded: yields (browser,
    wait, url); both are closed afterwards."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    needs_gradio()
    port = free_port()
    page = app.launch(port=port, model=model, runs_dir=runs or tmp_path / "runs", out_dir=out, block=False,
                      log=lambda _: None)
    browser = _browser(tmp_path)
    try:
        wait = WebDriverWait(browser, 60, poll_frequency=0.2)
        url = f"http://127.0.0.1:{port}/"
        browser.get(url)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#photo input[type=file]"))
        yield browser, wait, url
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


def _console_errors(browser) -> list[str]:
    """The console's errors since the last call ("Uncaught TypeError ..."): none is expected."""
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


ERROR_BADGES = """return [...document.querySelectorAll("*")].filter(e => e.childElementCount === 0
    && e.textContent.trim() === "Error" && e.offsetParent !== null).length"""


def _text(browser, elem_id) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, elem_id).text


def _shown(browser, elem_id) -> bool:
    from selenium.webdriver.common.by import By

    found = browser.find_elements(By.ID, elem_id)  # a component built invisible is not in the page at all
    return bool(found) and found[0].is_displayed()


def _drop(browser, path, name=None, mime=""):
    """Drop ``path`` onto the photo box as a file manager does (``mime``: the type the
    browser gives it; Chromium on Linux gives a capitalised .HEIC none)."""
    browser.execute_script("""
        const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], arguments[1], {type: arguments[2]}));
        const zone = document.querySelector("#photo input[type=file]").parentElement;
        for (const kind of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(kind, {bubbles: true, cancelable: true, dataTransfer: dt}));
        }""", base64.b64encode(path.read_bytes()).decode(), name or path.name, mime)


def _screenshot(browser, name):
    folder = os.environ.get("COLORPAST_APP_SCREENSHOTS")
    if folder:
        time.sleep(1)  # the slider's images decode after the status text shows
        os.makedirs(folder, exist_ok=True)
        browser.save_screenshot(os.path.join(folder, f"{name}.png"))


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A black-and-white JPEG of a cat (scikit-image's), 451 x 300."""
    from skimage import data

    path = tmp_path_factory.mktemp("photo") / "chelsea.jpg"
    Image.fromarray(data.chelsea()).convert("L").save(path, quality=92)
    return path


def _kind(kind, tmp_path, monkeypatch):
    """The machine for ``kind``: what is at hand, and the model the page should start with."""
    runs = tmp_path / "runs"
    if kind == "automatic run":  # effunet's, the preset 04 trains; its encoder left random here
        return str(run_folder(runs, "effunet"))
    if kind == "hint run":
        return str(run_folder(runs, "seed16_hints"))
    if kind == "published":  # Colorful's weights on disk, random ones (its file's format, not its values)
        (tmp_path / "weights").mkdir()
        models.build("colorful", (None, None, 1)).save_weights(tmp_path / "weights/colorful_eccv16.weights.h5")
        return "colorful:official"
    if kind == "bundled":  # NAME:bundled, staged as weights/ ships them (untrained here)
        stage_bundled(tmp_path / "bundled", monkeypatch, names=("effunet",))
        return "effunet:bundled"
    if kind == "bundled 313 bins":  # as weights/ ships today: the 313-bin head first, decoded at its temperature
        stage_bundled(tmp_path / "bundled", monkeypatch, names=("effunet", "effunet_cls"),
                      decodes={"effunet_cls": {"temperature": 0.7}})
        return "effunet_cls:bundled"
    return None


@pytest.mark.parametrize("kind", ["none", "automatic run", "published", "bundled", "bundled 313 bins", "hint run"])
def test_the_page_works_with_every_kind_of_model(kind, tmp_path, monkeypatch, photo, nothing_at_hand, outbound):
    """Started with no model named, as `colorpast app` and 06 start it: the page loads
    without an "Error" badge or a console error, a dropped JPEG is colorized at its full
    size (with no model, the page says what to do instead), and for a model that takes no
    hints the paint box says painting is off and why."""
    from selenium.webdriver.common.by import By

    expected = _kind(kind, tmp_path, monkeypatch)
    out = tmp_path / "out"
    with _page_in_browser(tmp_path, None, out) as (browser, wait, url):
        wait.until(lambda b: _shown(b, "paint-off") or _shown(b, "editor"))
        time.sleep(2)  # the load event's updates, where the "Error" badges and console errors showed
        assert browser.execute_script(ERROR_BADGES) == 0 and _console_errors(browser) == []
        hints = kind == "hint run"
        assert _shown(browser, "paint-off") != hints and _shown(browser, "editor") == hints
        if kind == "none":
            assert _text(browser, "notice").startswith("No model yet. No model to colorize with: train one")
            assert "Painting is off: there is no model yet" in _text(browser, "paint-off")
        elif not hints:
            assert _text(browser, "notice") == ""
            said = _text(browser, "paint-off")
            assert said.startswith(f"2. Painting is off: {expected} takes no colour hints; it colours on its own.")
            assert "colorpast train --model effunet_hints" in said  # no model that takes hints at hand here
        _drop(browser, photo, mime="image/jpeg")
        if kind == "none":
            wait.until(lambda b: "No model yet" in _text(b, "status"))
            assert not out.exists()
        else:
            wait.until(lambda b: "451 x 300 px colorized without hints" in _text(b, "status"))
            assert f"by {expected};" in _text(browser, "status")
            with Image.open(out / "chelsea_colorized.png") as im:
                assert im.size == (451, 300)
            assert browser.find_elements(By.CSS_SELECTOR, "#before-after img")
        assert browser.execute_script(ERROR_BADGES) == 0 and _console_errors(browser) == []
        _screenshot(browser, f"kind-{kind.replace(' ', '-')}")
        assert [u for u in _requested(browser) if not u.startswith(url)] == []
    assert outbound == []


def test_the_page_colorizes_a_photo_with_painted_and_uploaded_hints(tmp_path, monkeypatch, nothing_at_hand, outbound):
    """In a real browser: drop a photo in (colorized at once), paint a stroke on the gray
    copy, add a JSON file of points, press Colorize; each result is a PNG at the photo's
    full size, and the hints change it. The stroke reaches the server in the brush's
    colour, where it was painted: the untrained model's output cannot show that (it
    mixes hint colours at random). Then a model without hints is chosen: the brush goes,
    the paint box says why, and Colorize leaves the strokes out, saying so."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from skimage import data

    photo = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).convert("L").save(photo)  # 451 x 300, black and white
    points = tmp_path / "points.json"
    points.write_text(json.dumps([{"x": 60, "y": 250, "color": "#3d7a2e"}, {"x": 400, "y": 40, "color": "#4a7fc1"}]))
    out = tmp_path / "out"
    hinted = run_folder(tmp_path / "runs", "seed16_hints")
    plain = run_folder(tmp_path / "runs", "seed16")
    os.utime(plain / "model.keras", (1000, 1000))  # older: the hint run is listed, and chosen, first
    scribbles, colorize_photo = [], app_photo.colorize_photo

    def seen(photo, model, out_dir, strokes=None, **options):
        scribbles.append(app_photo.strokes_to_scribble(strokes))
        return colorize_photo(photo, model, out_dir, strokes=strokes, **options)

    monkeypatch.setattr(app_photo, "colorize_photo", seen)
    with _page_in_browser(tmp_path, None, out) as (browser, wait, url):

        def status_says(text):
            wait.until(lambda b: text in _text(b, "status"))
            return _text(browser, "status")

        def result():
            png = out / "chelsea_colorized.png"
            wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#download a"))
            with Image.open(png) as im:
                assert im.size == (451, 300)
                return np.asarray(im.convert("RGB"))

        browser.find_element(By.CSS_SELECTOR, "#photo input[type=file]").send_keys(str(photo))
        assert f"451 x 300 px colorized without hints in" in status_says("without hints")
        assert f"by {hinted};" in _text(browser, "status")
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
        stroke = scribbles[-1]  # at the canvas's size, the photo's shape
        assert abs(stroke.shape[0] / stroke.shape[1] - 300 / 451) < 0.01
        solid = stroke[..., 3] == 255
        rows, cols = np.nonzero(solid)
        assert np.abs(stroke[solid][:, :3].astype(int) - (74, 127, 193)).max() <= 1  # the brush's #4a7fc1
        assert rows.max() < stroke.shape[0] / 2 and cols.max() - cols.min() > stroke.shape[1] / 5  # top, across

        browser.find_element(By.CSS_SELECTOR, "#hints-file input[type=file]").send_keys(str(points))
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#hints-file a[download='points.json']"))
        browser.find_element(By.ID, "colorize").click()
        status_says("with your painted colours and the hints in points.json")
        both = result()
        assert np.abs(both.astype(int) - painted).max() > 0
        _screenshot(browser, "hints-painted")

        browser.find_element(By.CSS_SELECTOR, "#model input").click()
        wait.until(lambda b: [o for o in b.find_elements(By.CSS_SELECTOR, "ul[role=listbox] li") if str(plain) in o.text])
        [o for o in browser.find_elements(By.CSS_SELECTOR, "ul[role=listbox] li") if str(plain) in o.text][0].click()
        wait.until(lambda b: _shown(b, "paint-off") and not _shown(b, "editor"))
        assert f"choose {hinted} in Model" in _text(browser, "paint-off")
        browser.find_element(By.ID, "colorize").click()
        assert f"(your hints are not used: {plain} takes none)" in status_says("takes none")
        assert browser.execute_script(ERROR_BADGES) == 0 and _console_errors(browser) == []
        assert [u for u in _requested(browser) if not u.startswith(url)] == []
    assert outbound == []


def test_a_heic_is_shown_and_colorized_picked_or_dropped(tmp_path, nothing_at_hand, outbound):
    """An iPhone's IMG_0001.HEIC picked with the photo box's file dialog, then another
    dropped onto it: each shows in the box (a copy the browser can draw: browsers cannot
    draw HEIC) and is colorized at full size. Chromium on Linux gives a capitalised .HEIC
    no type, and Gradio's box (image/*) dropped such a file without a word until the page
    typed it (app.HEIC_TYPE_JS); the server reads it with pillow-heif."""
    import pillow_heif  # noqa: F401 - the heic extra; make test installs it
    from selenium.webdriver.common.by import By
    from skimage import data

    photo, dropped = tmp_path / "IMG_0001.HEIC", tmp_path / "IMG_0002.HEIC"
    pillow_heif.from_pillow(Image.fromarray(data.coffee()[::2, ::2])).save(photo)  # 300 x 200
    pillow_heif.from_pillow(Image.fromarray(data.coffee()[::4, ::4])).save(dropped)  # 150 x 100
    run_folder(tmp_path / "runs", "seed16")
    out = tmp_path / "out"
    shown = """const img = document.querySelector("#photo img"); return img && img.complete ? img.naturalWidth : 0"""
    with _page_in_browser(tmp_path, None, out) as (browser, wait, url):

        def colorized(name, size):
            png = out / f"{name}_colorized.png"
            wait.until(lambda b: f"{size[0]} x {size[1]} px colorized" in _text(b, "status"))
            wait.until(lambda b: png.is_file())
            with Image.open(png) as im:
                assert im.size == size
            wait.until(lambda b: b.execute_script(shown) == size[0])  # the box draws the photo

        browser.find_element(By.CSS_SELECTOR, "#photo input[type=file]").send_keys(str(photo))
        colorized("IMG_0001", (300, 200))
        _screenshot(browser, "heic")
        browser.get(url)  # a fresh page, its photo box empty
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#photo input[type=file]"))
        _drop(browser, dropped)
        colorized("IMG_0002", (150, 100))
        assert browser.execute_script(ERROR_BADGES) == 0 and _console_errors(browser) == []
    assert outbound == []


def test_a_scan_beyond_pillows_own_limit_goes_through_and_one_beyond_ours_is_one_line(tmp_path, monkeypatch,
                                                                                    nothing_at_hand):
    """Gradio opens every upload with Pillow, whose decompression-bomb limit (an error past
    179 MP) refused the 300 MP scans colorpast reads, before colorpast saw them. Here
    Pillow's limit is lowered under a 2.4 MP photo, which stands for such a scan: it goes
    through. Past colorpast's own limit (lowered too), one line says the photo's size and
    the limit; the page says the limit before any upload."""
    from selenium.webdriver.common.by import By
    from skimage import data

    from colorpast import photofiles

    scan = tmp_path / "scan.jpg"
    Image.fromarray(data.chelsea()).convert("L").resize((2000, 1200)).save(scan, quality=90)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)  # Pillow's error past 2 MP
    run_folder(tmp_path / "runs", "seed16")
    out = tmp_path / "out"
    with _page_in_browser(tmp_path, None, out) as (browser, wait, url):
        assert "(up to 300 MP)" in _text(browser, "photo")
        _drop(browser, scan, mime="image/jpeg")
        wait.until(lambda b: "2000 x 1200 px colorized" in _text(b, "status"))
        assert photofiles.read_image(out / "scan_colorized.png").shape == (1200, 2000, 3)
        monkeypatch.setattr(photofiles, "MAX_PIXELS", 2_000_000)
        browser.get(url)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#photo input[type=file]"))
        _drop(browser, scan, name="huge.jpg", mime="image/jpeg")
        wait.until(lambda b: "more than colorpast colorizes" in b.find_element(By.TAG_NAME, "body").text)
        said = [ln for ln in _lines(browser) if "more than colorpast colorizes" in ln]
        assert len(said) == 1 and "2000 x 1200 pixels (2 MP)" in said[0] and "scale it down first" in said[0]
        assert not (out / "huge_colorized.png").exists() and _console_errors(browser) == []


def _lines(browser) -> list[str]:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.TAG_NAME, "body").text.splitlines()
