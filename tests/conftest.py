"""Test isolation: nothing written to the home folder, no network, quiet TensorFlow.

The environment is set at import time, before TensorFlow, Keras or matplotlib are
imported by any test, and is inherited by the subprocesses tests start.
"""

import importlib.util
import os
import socket
import tempfile
from pathlib import Path

import pytest

_SANDBOX = Path(tempfile.mkdtemp(prefix="colorpast-tests-"))
for var, sub in {
    "HOME": "home",
    "KERAS_HOME": "keras",
    "MPLCONFIGDIR": "matplotlib",
    "IPYTHONDIR": "ipython",
    "JUPYTER_CONFIG_DIR": "jupyter/config",
    "JUPYTER_DATA_DIR": "jupyter/data",
    "JUPYTER_RUNTIME_DIR": "jupyter/runtime",
    "KAGGLE_CONFIG_DIR": "kaggle",
    "XDG_CACHE_HOME": "cache",
    "XDG_CONFIG_HOME": "config",
    "GRADIO_TEMP_DIR": "gradio",  # the app's uploads and results (else /tmp/gradio, kept after the suite)
}.items():
    (_SANDBOX / sub).mkdir(parents=True, exist_ok=True)
    os.environ[var] = str(_SANDBOX / sub)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["MPLBACKEND"] = "Agg"
os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the suite is CPU-only and deterministic
os.environ.pop("KAGGLE_USERNAME", None)
os.environ.pop("KAGGLE_KEY", None)
# JAX's persistent compilation cache, one for the whole run: set by the first process
# (pytest's, or xdist's controller) and inherited by its workers, the subprocesses tests
# start and the pytest run inside the JAX pass. That pass and the GPU scripts' smoke runs
# compile the same train steps at the same shapes again and again, each compile seconds
# on this CPU (a tiny seed16 training on JAX: 37 s cold, 11 s with the cache warm). The
# first compile of each computation still runs in the suite. A size limit makes JAX lock
# the folder (with filelock) around each read and write: processes share it at once.
if not os.environ.get("COLORPAST_TESTS_JAX_CACHE") and importlib.util.find_spec("filelock"):
    os.environ["COLORPAST_TESTS_JAX_CACHE"] = os.environ["JAX_COMPILATION_CACHE_DIR"] = str(_SANDBOX / "jax-cache")
    os.environ["JAX_COMPILATION_CACHE_MAX_SIZE"] = str(4 << 30)
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")):
        return _real_connect(self, address)
    if self.family == socket.AF_UNIX:
        return _real_connect(self, address)
    raise OSError(f"tests must not use the network (tried to connect to {address!r})")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    # No test sees another's Kaggle credentials: code under test (the notebooks' Setup
    # reading Colab secrets) exports them into os.environ; these undo that afterwards.
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    # notebook.setup() switches one-line errors to a notebook's wording for the process;
    # the next test starts from the command line's.
    from colorpast import errors  # no Keras: safe before the environment above matters

    monkeypatch.setattr(errors, "AUDIENCE", "cli")


# The slowest test files, slowest first (seconds in a fresh-clone `make test`, 2026-12-03,
# `--durations`): `make test` runs files whole in two processes (`--dist loadfile`), in the
# order collected, so these start first and the short files fill in after them, instead
# of a long file starting last and running alone at the end.
SLOW_FIRST = ["tests/test_backends.py", "tests/test_train.py", "tests/test_evaluate_colorize.py",
              "tests/test_benchmarks.py", "tests/test_notebooks.py", "tests/test_app_page.py", "tests/models/test_effunet.py",
              "tests/models/test_effunet_lite2.py", "tests/test_train_recipes.py", "tests/test_run_settings.py",
              "tests/test_demo.py"]


def pytest_collection_modifyitems(config, items):
    """The slow files first (``SLOW_FIRST``), the rest in their own order.

    ``@pytest.mark.tensorflow`` tests need TensorFlow as the Keras backend (tf.data,
    tf.distribute): they run in the main pass and are skipped in the other backends' passes
    (tests/test_backends.py), which run everything else again."""
    rank = {f: i for i, f in enumerate(SLOW_FIRST)}
    order = {id(item): n for n, item in enumerate(items)}
    items.sort(key=lambda item: (rank.get(item.nodeid.split("::")[0], len(rank)), order[id(item)]))
    import keras

    if keras.backend.backend() == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"TensorFlow-only; this pass runs on {keras.backend.backend()}")
    for item in items:
        if "tensorflow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sandbox() -> Path:
    return _SANDBOX


def in_ci() -> bool:
    """Whether the suite runs in CI (which sets CI=true), where everything a test needs is present."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(reason: str, module: bool = False):
    """A test cannot run here (torch, port 80 or ../shared is missing): skip it on a
    developer's machine, fail it in CI, which provides all three, so that nothing
    there passes by skipping. The only way tests may skip."""
    if in_ci():
        pytest.fail(f"{reason}; CI must provide it", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


def shared_folder(name: str) -> Path:
    """A folder of ../shared/data, or skip the test with the reason (fail it in CI)."""
    p = SHARED_DATA / name
    if not p.is_dir():
        missing(f"{p} is absent (the shared development photos live beside the repository)")
    return p


def cli(*args):
    """``colorpast ARGS`` run inside this test process: the same parser, commands and
    error handling (one line, its exit code) as the console script, without a fresh
    Python importing TensorFlow for every call (7 to 10 s each here). The script itself,
    its process, exit status and import costs, is tested in tests/test_cli.py.
    Returns what subprocess.run would (returncode, stdout, stderr)."""
    import contextlib
    import io
    import subprocess

    from colorpast.cli import main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:  # argparse's errors and --help
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return subprocess.CompletedProcess(["colorpast", *argv], code, out.getvalue(), err.getvalue())


def _small(name: str, hints: bool):
    from colorpast.models import registry
    from small_model import register_small

    yield register_small(name, hints)
    registry._REGISTRY.pop(name)


@pytest.fixture
def small_model():
    yield from _small("test_small", hints=False)


@pytest.fixture
def small_hint_model():
    yield from _small("test_small_hints", hints=True)
