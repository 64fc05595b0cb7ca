"""The notebooks: generated from notebooks/_build.py, committed without outputs, and each
executed top to bottom in a fresh kernel in SMOKE mode (papermill-style injected cell).

They run in the order of the workflow in one temporary working folder (ROOT), as a user
runs them: 02 prepares the set 04 trains on, 04's run is what 05 and 06 use. Running one
alone (``-k 05``) first runs the ones before it. Nothing is written into the repository.
"""

import os
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from conftest import REPO

NB_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(p.name for p in NB_DIR.glob("[0-9][0-9]_*.ipynb"))
EXPECTED = ["01_download_data.ipynb", "02_preprocess.ipynb", "03_model.ipynb", "04_train.ipynb",
            "05_evaluate.ipynb", "06_colorize_your_photos.ipynb"]
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


def _parameters_index(nb) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    return tagged[0]


def test_the_six_notebooks_exist():
    assert NOTEBOOKS == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_without_outputs_and_rebuilt_identically(name):
    import importlib.util

    raw = (NB_DIR / name).read_text()
    nb = nbformat.reads(raw, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: committed with outputs"
    spec = importlib.util.spec_from_file_location("_build", NB_DIR / "_build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert nbformat.writes(build.build(name)) + "\n" == raw, f"{name} differs from notebooks/_build.py: run it"


@pytest.mark.parametrize("name", EXPECTED)
def test_opens_with_title_purpose_badge_setup_and_parameters(name):
    nb = nbformat.read(NB_DIR / name, as_version=4)
    head = nb.cells[0].source.splitlines()
    assert head[0].startswith("# ") and head[0][2:4] == name[:2]
    purpose = [ln for ln in head[1:] if ln.strip()][0]
    assert purpose.startswith("*") and purpose.endswith("*")
    assert f"colab.research.google.com/github/colorpast/colorpast/blob/main/notebooks/{name}" in nb.cells[0].source
    assert nb.cells[1].source.startswith("## Setup")
    assert 'IS_COLAB = "google.colab" in sys.modules' in nb.cells[2].source and "%pip install" in nb.cells[2].source
    assert "notebook.setup()" in nb.cells[3].source
    params = nb.cells[_parameters_index(nb)].source
    assert "SMOKE = False" in params  # users get the real thing; only the tests shrink it


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A temporary ROOT with a notebooks/ folder (the kernel's cwd, as in Jupyter)."""
    root = tmp_path_factory.mktemp("notebook-root")
    (root / "notebooks").mkdir()
    env = {
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",  # inline figures, as in Jupyter
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("COLORPAST_ROOT", raising=False)
        mp.delenv("COLORPAST_WEIGHTS", raising=False)
        for k, v in env.items():
            mp.setenv(k, v)
        yield {"root": root, "done": {}}


def execute(workspace, name, extra: str = ""):
    """Run ``name`` in a fresh kernel with SMOKE = True; returns (executed notebook, seconds)."""
    from nbclient import NotebookClient

    nb = nbformat.read(NB_DIR / name, as_version=4)
    nb.cells.insert(_parameters_index(nb) + 1, new_code_cell(INJECTED + extra, metadata={"tags": ["injected-parameters"]}))
    client = NotebookClient(nb, kernel_name="python3", timeout=600,
                            resources={"metadata": {"path": str(workspace["root"] / "notebooks")}})
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError on any error, with the cell and traceback
    return nb, time.perf_counter() - t0


def run_in_order(workspace, name):
    for earlier in EXPECTED[: EXPECTED.index(name)]:
        if earlier not in workspace["done"]:
            workspace["done"][earlier] = execute(workspace, earlier)
    workspace["done"][name] = execute(workspace, name)
    return workspace["done"][name]


def _text(nb) -> str:
    out = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            data = o.get("data", {})
            out.append(o.get("text", "") or data.get("text/markdown", "") or data.get("text/plain", ""))
    return "\n".join(out)


def _images(nb) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_in_smoke_mode(workspace, name):
    nb, seconds = run_in_order(workspace, name)
    print(f"{name}: {seconds:.1f} s")
    assert seconds < SMOKE_BUDGET_S, f"{name} took {seconds:.0f} s in SMOKE mode (budget {SMOKE_BUDGET_S} s)"
    text = _text(nb)
    assert "Continuing on the CPU" in text  # the Setup's GPU check ran and said what to do
    assert _images(nb) >= 1, f"{name} showed no figure"
    root = workspace["root"]
    if name == "02_preprocess.ipynb":
        assert (root / "data/prepared/smoke/prepared.json").is_file()
    if name == "04_train.ipynb":
        assert (root / "runs/smoke/history.csv").read_text().count("\n") == 3  # header + 2 epochs
    if name == "05_evaluate.ipynb":
        assert "| gray |" in text and "| runs/smoke |" in text and "is absent: comparing without Colorful" in text
        assert (root / "reports/smoke-test/grid.png").is_file()
    if name == "06_colorize_your_photos.ipynb":
        assert sorted(p.name for p in (root / "colorized").iterdir()) == ["chelsea.png", "grace_hopper.png"]
        assert _images(nb) >= 2  # before and after of each photo


@pytest.mark.slow
def test_train_notebook_resumes_the_run_after_a_disconnect(workspace, tmp_path):
    """A first session stops after epoch 1 (EPOCHS = 1 stands in for the disconnect); running
    the notebook again continues the same run from its checkpoint instead of starting over."""
    import shutil

    if "02_preprocess.ipynb" not in workspace["done"]:
        run_in_order(workspace, "02_preprocess.ipynb")
    own = {"root": tmp_path, "done": {}}  # a fresh ROOT holding only the prepared set
    (tmp_path / "notebooks").mkdir()
    shutil.copytree(workspace["root"] / "data/prepared/smoke", tmp_path / "data/prepared/smoke")
    first, _ = execute(own, "04_train.ipynb", extra="EPOCHS = 1\n")
    history = tmp_path / "runs/smoke/history.csv"
    assert "resuming" not in _text(first) and history.read_text().count("\n") == 2
    second, _ = execute(own, "04_train.ipynb")
    assert "resuming" in _text(second) and "at epoch 2" in _text(second)
    assert history.read_text().count("\n") == 3


def _own_root(tmp_path):
    """A fresh ROOT for one notebook run, with a notebooks/ folder as the kernel's cwd."""
    (tmp_path / "notebooks").mkdir()
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
    assert "2 image files in" in text and _images(nb) >= 1 and KEY not in text
    got = {str(p.relative_to(tmp_path / "data/raw/flickr30k")) for p in (tmp_path / "data/raw/flickr30k").rglob("*.jpg")}
    assert got == set(photos)


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
    assert 'pip install "tensorflow[and-cuda]==' in readme and "jupyter lab notebooks/" in readme
