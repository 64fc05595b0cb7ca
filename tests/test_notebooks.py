"""The notebooks: built from notebooks/src/*.py by notebooks/_build.py, committed without
outputs, and each executed top to bottom in SMOKE mode (papermill-style injected cell).

Each runs alone, as on Colab, where every notebook gets its own fresh runtime: a fresh
kernel and a fresh, empty working folder (ROOT), nothing run before it. So 04 prepares
the set it trains on, 05 the set and the run it scores, and 06, with no trained run,
fetches Colorful's weights itself (from a local HTTP server here). Nothing is written
into the repository.
"""

import ast
import base64
import io
import os
import re
import time

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell

from conftest import REPO, missing

NB_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(p.name for p in NB_DIR.glob("[0-9][0-9]_*.ipynb"))
EXPECTED = ["01_download_data.ipynb", "02_preprocess.ipynb", "03_model.ipynb", "04_train.ipynb",
            "05_evaluate.ipynb", "06_colorize_your_photos.ipynb", "07_colour_an_old_film.ipynb"]
# The only one that reads Kaggle secrets at Setup; 02 reads them only when it must download.
DOWNLOADING = {"01_download_data.ipynb"}
NEED_GPU = {"04_train.ipynb"}  # the only one that advises getting a GPU (05 scores fine on a CPU)
NO_DRIVE = {"01_download_data.ipynb", "03_model.ipynb"}  # they neither read nor write Drive
WRITE_DRIVE = {"02_preprocess.ipynb", "04_train.ipynb", "05_evaluate.ipynb", "06_colorize_your_photos.ipynb",
               "07_colour_an_old_film.ipynb"}
SMOKE_BUDGET_S = 180  # the limit per notebook on the 2-core development CPU

# Injected after the parameters cell; also keeps the kernel offline, as conftest keeps the tests.
INJECTED = '''# Parameters injected by tests/test_notebooks.py
SMOKE = True
import socket as _socket
_connect = _socket.socket.connect
def _offline(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if self.family == _socket.AF_UNIX or str(host).startswith("127.") or host in ("localhost", "::1"):
        return _connect(self, address)
    raise OSError(f"SMOKE notebooks must not use the network (tried to connect to {address!r})")
_socket.socket.connect = _offline
'''
# Proves the kernel imports this checkout's colorpast, not another installed copy.
WHICH_COLORPAST = 'import colorpast as _cp; print("colorpast imported from", _cp.__file__)\n'
# What TensorFlow's C++ logging writes at start-up when nobody quiets it.
CPP_LOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d|tensorflow/core/|oneDNN custom operations|cpu_feature_guard", re.M)


def _parameters_index(nb) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    return tagged[0]


def _build_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_build", NB_DIR / "_build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return build


def test_the_notebooks_exist_each_with_its_python_source():
    assert NOTEBOOKS == EXPECTED
    assert sorted(p.name for p in (NB_DIR / "src").glob("*.py")) == [n.replace(".ipynb", ".py") for n in EXPECTED]


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_without_outputs_and_rebuilt_identically(name):
    raw = (NB_DIR / name).read_text()
    nb = nbformat.reads(raw, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: committed with outputs"
    assert nbformat.writes(_build_module().build(name)) + "\n" == raw, f"{name} differs from notebooks/src: run notebooks/_build.py"


@pytest.mark.parametrize("name", EXPECTED)
def test_source_is_plain_python_that_calls_the_package(name):
    """Linters and duplicate finders read the sources; the logic lives in colorpast."""
    source = NB_DIR / "src" / name.replace(".ipynb", ".py")
    tree = ast.parse(source.read_text(), filename=str(source))
    defined = [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
    assert defined == [], f"{source.name} defines {defined}: move it into the package"
    imported = {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "colorpast" in imported


@pytest.mark.parametrize("name", EXPECTED)
def test_opens_with_title_purpose_badge_setup_and_parameters(name):
    from colorpast.notebook import colab_badge

    nb = nbformat.read(NB_DIR / name, as_version=4)
    head = nb.cells[0].source.splitlines()
    assert head[0].startswith("# ") and head[0][2:4] == name[:2]
    purpose = [ln for ln in head[1:] if ln.strip()][0]
    assert purpose.startswith("*") and purpose.endswith("*")
    assert colab_badge(name) in nb.cells[0].source
    assert nb.cells[1].source.startswith("## Setup")
    assert 'IS_COLAB = "google.colab" in sys.modules' in nb.cells[2].source and "%pip install" in nb.cells[2].source
    setup = nb.cells[3].source
    assert "notebook.setup(" in setup
    assert ("kaggle=True" in setup) == (name in DOWNLOADING), "only the notebooks that download read Kaggle secrets"
    assert ("gpu=False" not in setup) == (name in NEED_GPU), "only the notebooks that train or score advise a GPU"
    assert (nb.metadata.get("accelerator") == "GPU") == (name in NEED_GPU)
    assert ("drive=False" in setup) == (name in NO_DRIVE), "only the notebooks that use Drive mount it"
    last = [c for c in nb.cells if c.cell_type == "code"][-1].source
    assert (last.strip() == "notebook.finish(env)") == (name in WRITE_DRIVE), "what wrote to Drive flushes it at the end"
    params = nb.cells[_parameters_index(nb)].source
    assert "SMOKE = False" in params  # users get the real thing; only the tests shrink it


@pytest.mark.parametrize("name", EXPECTED)
def test_every_parameter_is_a_colab_form_field_with_a_line_saying_what_it_does(name):
    """Colab shows `# @param` lines as form fields; each parameter has one, and the
    comment line above it says what it does (the form shows the code's comments too)."""
    nb = nbformat.read(NB_DIR / name, as_version=4)
    lines = nb.cells[_parameters_index(nb)].source.splitlines()
    assigned = [i for i, ln in enumerate(lines) if re.match(r"[A-Z_]+ = ", ln)]
    assert assigned and lines[assigned[0]].startswith("SMOKE = False")
    for i in assigned:
        assert re.search(r"  # @param (\{type:\"(boolean|string|integer|raw)\"\}|\[.+\])", lines[i]), lines[i]
        assert lines[i - 1].startswith("# ") and len(lines[i - 1]) > 12, f"no line above {lines[i]!r}"
    assert not [ln for ln in lines if ln.strip() and not ln.startswith("#") and not re.match(r"[A-Z_]+ = ", ln)]


@pytest.mark.parametrize("name", EXPECTED)
def test_install_line_and_badge_name_the_same_repository(name):
    """One visible form field in Setup, filled from the package's one constant, and the
    badge built from that same constant: a fork changes one line and rebuilds."""
    from colorpast import notebook

    nb = nbformat.read(NB_DIR / name, as_version=4)
    install = nb.cells[2].source
    (field,) = [ln for ln in install.splitlines() if ln.startswith("REPO_URL = ")]
    assert field == f'REPO_URL = "{notebook.REPO_URL}"  # @param {{type:"string"}}'
    (ref,) = [ln for ln in install.splitlines() if ln.startswith("REF = ")]
    assert ref == f'REF = "{notebook.REF}"  # @param {{type:"string"}}'  # a branch, tag or commit to pin
    assert re.search(r'%pip install -q "colorpast(\[heic,app\])? @ git\+\{REPO_URL\}@\{REF\}"', install)  # IPython expands both
    assert "Most users leave these two alone" in install
    repo_path = notebook.REPO_URL.removeprefix("https://github.com/")
    badges = re.findall(r"colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/", nb.cells[0].source)
    assert badges == [repo_path]


def test_the_repository_url_is_written_once_in_the_sources():
    from colorpast.notebook import REPO_URL

    files = [*(REPO / "colorpast").rglob("*.py"), *(NB_DIR / "src").glob("*.py"), NB_DIR / "_build.py"]
    holding = [f.relative_to(REPO).as_posix() for f in files if REPO_URL in f.read_text()]
    assert holding == ["colorpast/notebook.py"]


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A fresh, empty ROOT with a notebooks/ folder (the kernel's cwd, as in Jupyter)."""
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    monkeypatch.delenv("COLORPAST_ROOT", raising=False)
    monkeypatch.delenv("COLORPAST_WEIGHTS", raising=False)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # the notebook's Setup must quiet TensorFlow itself
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # inline figures, as in Jupyter
    return {"root": root, "done": {}}


def execute(workspace, name, extra: str = "", path=None):
    """Run ``name`` (``path``: a changed copy of it) in a fresh kernel with SMOKE = True;
    returns (executed notebook, seconds)."""
    from nbclient import NotebookClient

    nb = nbformat.read(path or NB_DIR / name, as_version=4)
    nb.cells.insert(_parameters_index(nb) + 1, new_code_cell(INJECTED + WHICH_COLORPAST + extra,
                                                             metadata={"tags": ["injected-parameters"]}))
    client = NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(workspace["root"] / "notebooks")}})
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError on any error, with the cell and traceback
    workspace["done"][name] = (nb, time.perf_counter() - t0)
    return workspace["done"][name]


def run_alone(workspace, name, extra: str = ""):
    """``name`` alone in its fresh ROOT: nothing is run before it."""
    return execute(workspace, name, extra)


def _outputs(nb):
    return [o for c in nb.cells for o in c.get("outputs", [])]


def _text(nb) -> str:
    out = []
    for o in _outputs(nb):
        data = o.get("data", {})
        out.append(o.get("text", "") or data.get("text/markdown", "") or data.get("text/plain", ""))
    return "\n".join(out)


def _images(nb) -> list:
    """The inline PNGs as (width, height)."""
    from PIL import Image

    return [Image.open(io.BytesIO(base64.b64decode(o["data"]["image/png"]))).size
            for o in _outputs(nb) if "image/png" in o.get("data", {})]


def _check_common(nb, name, seconds):
    print(f"{name}: {seconds:.1f} s")
    assert seconds < SMOKE_BUDGET_S, f"{name} took {seconds:.0f} s in SMOKE mode (budget {SMOKE_BUDGET_S} s)"
    text = _text(nb)
    assert f"colorpast imported from {REPO / 'colorpast' / '__init__.py'}" in text
    assert ("Continuing on the CPU" in text) == (name in NEED_GPU)  # GPU advice only where a GPU helps
    assert ("needs no GPU" in text) == (name not in NEED_GPU)
    assert ("Kaggle credentials" in text) == (name in DOWNLOADING)
    assert not CPP_LOG.search(text), f"{name} printed TensorFlow C++ log lines: {CPP_LOG.search(text).group(0)!r}"
    assert _images(nb), f"{name} showed no figure"
    return text


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in EXPECTED if n not in ("06_colorize_your_photos.ipynb",
                                                                   "07_colour_an_old_film.ipynb")])
def test_notebook_runs_alone_in_smoke_mode(workspace, name):
    nb, seconds = run_alone(workspace, name)
    text = _check_common(nb, name, seconds)
    root = workspace["root"]
    if name in ("02_preprocess.ipynb", "04_train.ipynb", "05_evaluate.ipynb"):
        assert (root / "data/prepared/smoke/prepared.json").is_file()
    if name == "04_train.ipynb":
        assert (root / "runs/smoke/history.csv").read_text().count("\n") == 3  # header + 2 epochs
        assert len(_images(nb)) >= 3  # live curves while training, the curves after, the first look
    if name == "05_evaluate.ipynb":
        assert "| gray |" in text and "| sepia |" in text and "| runs/smoke |" in text
        assert "| effunet_cls:bundled |" in text  # the shipped model, scored beside the run (no download)
        assert "is absent: comparing without Colorful" in text
        assert (root / "reports/smoke-test/grid.png").is_file()


@pytest.mark.slow
def test_train_notebook_chooses_a_313_bin_models_temperature(workspace):
    """04 with a 313-bin model, as `colorpast train` does: the run's decoding temperature
    chosen on its validation photos and kept in decode.json (which 05, 06 and the app
    read)."""
    import json

    nb, seconds = run_alone(workspace, "04_train.ipynb", extra='MODEL = "seed16_cls"\n')
    text = _check_common(nb, "04_train.ipynb", seconds)
    decode = workspace["root"] / "runs/smoke/decode.json"
    assert decode.is_file(), "04 trained a 313-bin model and chose no temperature"
    t = json.loads(decode.read_text())["temperature"]
    assert f"runs/smoke: decoding temperature {t:g}, chosen on" in text


@pytest.fixture
def colorful_server(tmp_path):
    """The official Colorful release as a random network with the official key names, on 127.0.0.1."""
    import hashlib
    import http.server
    import threading
    from functools import partial

    import importlib.util

    try:
        import torch
    except ImportError:
        missing("torch is not installed (the ECCV16 reference network needs it)")
    spec = importlib.util.spec_from_file_location("eccv16_reference", REPO / "tests/models/eccv16_reference.py")
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)

    served = tmp_path / "served"
    served.mkdir()
    pth = served / "release.pth"
    torch.save(reference.random_reference().state_dict(), pth)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/release.pth", hashlib.sha256(pth.read_bytes()).hexdigest()
    server.shutdown()


@pytest.mark.slow
def test_colorize_notebook_alone_fetches_colorful_and_shows_sensible_sizes(workspace, colorful_server):
    """06 on a fresh runtime with no trained run: Colorful's weights fetched (from a local
    server standing in for the release), a 3000 px photo shown at most 1,600 px wide plus
    a full-resolution detail, the full-size PNG and a zip of them in the output folder."""
    import numpy as np
    from PIL import Image

    url, sha = colorful_server
    root = workspace["root"]
    (root / "photos").mkdir()
    gray = np.asarray(Image.fromarray(np.linspace(0, 255, 3000, dtype=np.uint8)[None].repeat(2000, 0)))
    Image.fromarray(gray).save(root / "photos/big.png")
    release = ("import dataclasses as _dc\nfrom colorpast import weights as _w\n"
               f"_w.RELEASES['colorful'] = _dc.replace(_w.RELEASES['colorful'], url={url!r}, sha256={sha!r})\n"
               "_w.bundled = lambda name: None  # a checkout that ships no model of its own\n")
    nb, seconds = run_alone(workspace, "06_colorize_your_photos.ipynb", extra=release)
    text = _check_common(nb, "06_colorize_your_photos.ipynb", seconds)
    assert "no trained run under runs/ yet" in text and "using colorful:official" in text
    assert (root / "weights/colorful_eccv16.weights.h5").is_file()
    # No upload, no samples; the colours given by position (SMOKE's two POINTS) in their own folder.
    assert sorted(p.name for p in (root / "colorized").iterdir() if p.is_file()) == ["big.png"]
    assert Image.open(root / "colorized/hints/big.png").size == (3000, 2000)
    assert Image.open(root / "colorized/big.png").size == (3000, 2000)  # full resolution on disk
    assert (root / "colorized.zip").is_file()
    widths = [w for w, _ in _images(nb)]
    print("inline widths", widths)
    # overview, detail, the hints example, the grid and the colours by position; none 6000 px wide
    assert len(widths) == 5 and max(widths) <= 1700, widths
    assert abs(widths[1] - 2 * 384) <= 40, widths  # the detail: two 384 px crops, one photo pixel per PNG pixel
    assert "big.png: 3000 x 2000 px (shown at 800 px wide)" in text
    # The worked example of hints (offline in SMOKE: an embedded photo, an untrained seed16_hints), then the app.
    assert (root / "examples/astronaut-bw.png").is_file()
    assert "colorpast app: below (model: " in text and "http://127.0.0.1" not in text


@pytest.mark.slow
@pytest.mark.parametrize("at_hand", ["nothing", "bundled"])
def test_colorize_notebook_on_a_first_offline_session(workspace, tmp_path, monkeypatch, at_hand):
    """06 for real (not SMOKE), as a first session with the network cut: nothing trained,
    no published weights, the example photo not fetchable, and a POINTS cell filled in.
    Every cell runs (a NameError or a traceback would stop the notebook here). With the
    models this project ships (staged here, untrained), each cell uses them; with nothing
    at hand, each says in one line what it skipped and what to do, and the app opens with
    its "No model yet" notice."""
    from PIL import Image

    from app_fixture import stage_bundled

    root = workspace["root"]
    (root / "photos").mkdir()
    Image.fromarray(np.full((48, 64), 90, np.uint8)).save(root / "photos/old.png")
    nb = nbformat.read(NB_DIR / "06_colorize_your_photos.ipynb", as_version=4)
    (points,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("POINTS = [")]
    points.source = points.source.replace("POINTS = [", "POINTS = [(10, 20, 'sky blue'),", 1)  # a user's colour
    nbformat.write(nb, root / "06.ipynb")
    extra = "SMOKE = False\nAPP = True\n"
    if at_hand == "bundled":
        # as weights/ ships them; the kernel reads COLORPAST_BUNDLED
        stage_bundled(tmp_path / "bundled", monkeypatch, names=("effunet", "effunet_cls", "effunet_hints"))
    else:
        extra += "from colorpast import weights as _w\n_w.bundled = lambda name: None  # a checkout that ships none\n"
    done, _ = execute(workspace, "06.ipynb", extra=extra, path=root / "06.ipynb")
    text = _text(done)
    lines = [ln for ln in text.splitlines() if ln.strip()]

    def one(start):
        said = [ln for ln in lines if ln.startswith(start)]
        assert len(said) == 1, (start, said)
        return said[0]

    assert "NameError" not in text and "Traceback" not in text and "UserError" not in text
    assert not [ln for ln in lines if "old.png" in ln and "first of" in ln]  # the one photo: taken without a word
    assert not (root / "weights").exists() or not any((root / "weights").iterdir())  # no partial download left
    if at_hand == "bundled":
        assert one("could not fetch the example photo https://raw.githubusercontent.com/").endswith(
            "run this cell again online to see it; your own photos below need no network")
        assert one("no trained run under runs/ yet (04_train makes one): using effunet_cls:bundled, the model this project "
                   "ships")
        assert one("1 colorized into colorized") and Image.open(root / "colorized/old.png").size == (64, 48)
        assert one("using effunet_hints:bundled, the model this project ships")
        assert one("1 colours given: colorized/hints/old.png") and (root / "colorized/hints/old.png").is_file()
        assert one("colorpast app: below (model: effunet_cls:bundled)")
        return
    assert "train one in 04_train, or run 06's cell under \"The model\" again while online" in one("no trained run under runs/ yet")
    assert one("nothing colorized: there is no model")
    assert "could not download https://" in one("no model that takes colour hints: train one in 04_train")
    assert one("the worked example is skipped: there is no model that takes colour hints")
    assert one("your colours are not used: no model that takes colour hints")
    assert one("nothing new colorized in colorized: nothing to download")
    assert one("colorpast app: below (model: none)")
    assert not (root / "colorized").exists() or not any((root / "colorized").rglob("*.png"))


@pytest.mark.slow
def test_film_notebook_alone_colours_a_made_up_film_with_its_sound(workspace):
    """07 on a fresh runtime with no trained run: the model this project ships for films
    (effunet:bundled, where 06 takes effunet_cls:bundled; no download), a made-up film with a cut and a tone,
    its first frames with the grid, a point given on frame 0, a preview and the whole film
    played inline, each at the film's size with its sound; the pieces gone."""
    import av

    nb, seconds = run_alone(workspace, "07_colour_an_old_film.ipynb")
    text = _check_common(nb, "07_colour_an_old_film.ipynb", seconds)
    root = workspace["root"]
    assert "using effunet:bundled, the model this project ships" in text and "1 film(s) in films: smoke-reel.mp4" in text
    assert "smoke-reel.mp4: 160 x 120, 12 fps, 3.0 s (36 frames), sound: aac" in text
    assert sorted(p.name for p in (root / "coloured").iterdir()) == ["smoke-reel-preview.mp4", "smoke-reel.mp4"]
    for name, frames in (("smoke-reel-preview.mp4", 12), ("smoke-reel.mp4", 36)):
        with av.open(str(root / "coloured" / name)) as c:
            v = c.streams.video[0]
            assert (v.width, v.height) == (160, 120) and c.streams.audio
            assert sum(1 for p in c.demux(v) if p.size) == frames
    assert "36 frames coloured" in text and "1 cut(s)" in text
    videos = [o for o in _outputs(nb) if '<video controls' in o.get("data", {}).get("text/html", "")]
    assert len(videos) == 2  # the preview and the whole film, played inline
    assert len(_images(nb)) == 1  # the first frames with their grid
    assert (root / "coloured.zip").is_file()


@pytest.mark.slow
def test_preprocess_notebook_fetches_the_zip_itself_and_a_new_session_fetches_nothing(workspace, tmp_path):
    """02 without SMOKE, opened from its badge: nothing in data/raw, so it downloads the
    archive itself (a stand-in for Kaggle's client) and prepares straight from the zip.
    Then a new session: the runtime's disk is wiped (data/raw deleted), the set is on
    Drive; a re-run finds prepared.json first and downloads nothing."""
    import shutil
    import zipfile

    from PIL import Image

    from colorpast.data import sources

    archive = tmp_path / "kaggle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sources.embedded_sample():
            buf = io.BytesIO()
            Image.fromarray(p.rgb).save(buf, "JPEG", quality=90)
            zf.writestr(f"photos/{p.name}.jpg", buf.getvalue())
        zf.writestr("__MACOSX/photos/._chelsea.jpg", b"resource fork")
    kaggle = ("SMOKE = False\nNAME = 'someone/old-photos'\nSIZE, VAL_PERCENT, TEST_PERCENT = 64, 20, 20\n"
              "import shutil as _sh\nfrom colorpast.data import download as _dl\n"
              "_dl.credentials_source = lambda: 'a stand-in for Kaggle'\n")
    fetch = f"_dl.fetch = lambda ref, folder, quiet=False: _sh.copy({str(archive)!r}, folder / 'old-photos.zip')\n"
    refuse = "_dl.fetch = lambda *a, **k: 1 / 0  # a second download would fail the cell\n"
    root = workspace["root"]
    first, _ = execute(workspace, "02_preprocess.ipynb", extra=kaggle + fetch)
    text = _text(first)
    assert "not extracted (prepare reads the zip)" in text and "skipped: {'AppleDouble file': 1}" in text
    assert sorted(p.name for p in (root / "data/raw").iterdir()) == [".old-photos.zip.json", "old-photos.zip"]
    shutil.rmtree(root / "data/raw")
    second, _ = execute(workspace, "02_preprocess.ipynb", extra=kaggle + refuse)
    assert "already prepared from" in _text(second) and "the source is gone" in _text(second)
    assert not (root / "data/raw/old-photos.zip").exists()


@pytest.mark.slow
def test_train_notebook_resumes_the_run_after_a_disconnect(workspace):
    """A first session stops in epoch 2 (an interrupt after step 4 stands in for the
    disconnect: it checkpoints that step); running the notebook again continues the same
    run from its checkpoint instead of starting over, with the run's own settings."""
    from nbclient.exceptions import CellExecutionError

    stop = "import os as _os\n_os.environ['COLORPAST_FAULT'] = 'sigint-at-step:4'\n"
    with pytest.raises(CellExecutionError, match="KeyboardInterrupt"):
        execute(workspace, "04_train.ipynb", extra=stop)
    history = workspace["root"] / "runs/smoke/history.csv"
    assert history.read_text().count("\n") == 2  # header + epoch 1
    second, _ = execute(workspace, "04_train.ipynb")
    assert "resuming" in _text(second) and "at epoch 2, step 4" in _text(second)
    assert history.read_text().count("\n") == 3


def _own_root(tmp_path):
    """A fresh ROOT for one notebook run, with a notebooks/ folder as the kernel's cwd."""
    (tmp_path / "notebooks").mkdir(parents=True)
    return {"root": tmp_path, "done": {}}


@pytest.mark.slow
def test_download_notebook_fetches_from_kaggle_when_not_smoke(workspace, tmp_path, monkeypatch):
    """01's real branch (SMOKE = False): the official kaggle client downloads the dataset,
    from a local stand-in for the Kaggle API (port 80), and the gallery shows its photos.
    (``workspace`` for its environment only: this run has its own ROOT.)"""
    import io

    from PIL import Image

    from colorpast.data.sources import embedded_sample
    from kaggle_fixture import KEY, USER, make_zip, serve_kaggle

    photos = {}
    for p in embedded_sample(["coffee", "chelsea"]):
        buf = io.BytesIO()
        Image.fromarray(p.rgb[::4, ::4]).save(buf, "JPEG")
        photos[f"flickr30k_images/flickr30k_images/{p.name}.jpg"] = buf.getvalue()
    archive = make_zip({**photos, "flickr30k_images/results.csv": b"image_name| comment\n"})
    # The kernel inherits these: the client talks to localhost, with the stand-in's credentials.
    for var, value in {"KAGGLE_API_ENVIRONMENT": "LOCALHOST", "KAGGLE_USERNAME": USER, "KAGGLE_KEY": KEY,
                       "KAGGLE_CONFIG_DIR": str(tmp_path / "kaggle-config")}.items():
        monkeypatch.setenv(var, value)
    with serve_kaggle() as kaggle:
        kaggle["datasets"]["hsankesara/flickr-image-dataset"] = [archive]
        nb, _ = execute(_own_root(tmp_path), "01_download_data.ipynb", extra="SMOKE = False\n")
    assert [body["datasetSlug"] for _, body in kaggle["requests"]] == ["flickr-image-dataset"]
    text = _text(nb)
    assert "checked; not extracted" in text and len(_images(nb)) >= 1 and KEY not in text
    import zipfile

    with zipfile.ZipFile(tmp_path / "data/raw/flickr30k.zip") as z:  # kept whole: 02 prepares from the zip
        assert {n for n in z.namelist() if n.endswith(".jpg")} == set(photos)
    # As on Colab (WHOLE = False there by default): the photos one by one, never the archive.
    with serve_kaggle() as kaggle:
        kaggle["datasets"]["hsankesara/flickr-image-dataset"] = [archive]
        nb, _ = execute(_own_root(tmp_path / "look"), "01_download_data.ipynb", extra="SMOKE = False\nWHOLE = False\n")
    downloads = [body for path, body in kaggle["requests"] if path.endswith("DownloadDataset")]
    assert len(downloads) == 2 and all(body.get("fileName") in photos for body in downloads)
    assert len(_images(nb)) >= 1 and not (tmp_path / "look/data/raw/flickr30k.zip").exists()


@pytest.mark.slow
def test_evaluate_notebook_fetches_the_official_colorful_weights_when_not_smoke(workspace, tmp_path):
    """05's real branch (SMOKE = False, FETCH_COLORFUL = True): the official weights are
    downloaded, checked and converted, and Colorful is a row of the table. Served from a
    local file of the release's format (a random ECCV16 network saved by torch) with its own sha256."""
    import hashlib
    import http.server
    import importlib.util
    import shutil
    import threading
    from functools import partial

    from conftest import missing

    try:
        import torch
    except ImportError:
        missing("torch is not installed (the ECCV16 reference network needs it)")
    for earlier in EXPECTED[:4]:  # 04's run and 02's prepared set
        if earlier not in workspace["done"]:
            workspace["done"][earlier] = execute(workspace, earlier)
    own = _own_root(tmp_path)
    for part in ("data/prepared/smoke", "runs/smoke"):
        shutil.copytree(workspace["root"] / part, tmp_path / part)
    spec = importlib.util.spec_from_file_location("eccv16_reference", REPO / "tests/models/eccv16_reference.py")
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    served = tmp_path / "served"
    served.mkdir()
    torch.save(reference.random_reference().state_dict(), served / "eccv16.pth")
    sha = hashlib.sha256((served / "eccv16.pth").read_bytes()).hexdigest()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/eccv16.pth"
    extra = f"""SMOKE = False
DATA, RUN, LIMIT = "data/prepared/smoke", "runs/smoke", None
from colorpast import weights as _weights
_official = _weights.RELEASES["colorful"]
_weights.RELEASES["colorful"] = _weights.Release({url!r}, {sha!r}, _official.filename, _official.converted)
"""
    try:
        nb, _ = execute(own, "05_evaluate.ipynb", extra=extra)
    finally:
        server.shutdown()
        server.server_close()
    text = _text(nb)
    assert "| colorful:official |" in text and "| runs/smoke |" in text and "is absent" not in text
    assert (tmp_path / "weights/colorful_eccv16.weights.h5").is_file()
    assert (tmp_path / "reports/smoke-test/grid.png").is_file()


def test_readme_indexes_every_notebook_with_its_colab_badge():
    from colorpast.notebook import colab_badge

    readme = (REPO / "README.md").read_text()
    for name in EXPECTED:
        assert f"[{name}](notebooks/{name})" in readme and colab_badge(name) in readme
    assert "REPO_URL" in readme and "colorpast/notebook.py" in readme  # how a fork points the notebooks at itself
    guide = (REPO / "docs" / "notebooks.md").read_text()  # Colab, Drive and local Jupyter, linked from the README
    assert "](docs/notebooks.md" in readme
    assert 'pip install "tensorflow[and-cuda]==' in guide and "jupyter lab notebooks/" in guide
