"""The Setup every notebook runs, and the few steps notebooks share with no CLI verb
(06's own steps are in ``colorpast.photos`` and ``colorpast.photo_hints``).

    from colorpast import notebook
    env = notebook.setup()      # prints what it found; env.root, env.is_colab, env.gpus
    ...
    notebook.finish(env)        # the last cell of a notebook that wrote to Drive

On Colab, in the notebooks that read or write Drive (``drive=True``), Google Drive is
mounted and the working folder is ``/content/drive/MyDrive/colorpast``, so prepared sets,
runs and reports survive a disconnect; ``finish`` flushes it, so closing the tab right
after a notebook loses nothing. The others (01's look at a dataset, 03) work in
``/content/colorpast`` and never open Drive's permission dialog. Locally the working
folder is the repository root (the parent of ``notebooks/``, where Jupyter starts a
notebook's kernel). ``COLORPAST_ROOT`` overrides both. The process changes into that
folder, so the notebooks use the same relative paths as the command line:
``data/raw/NAME``, ``data/prepared/NAME``, ``runs/NAME``, ``reports/NAME``, ``weights/``.

Only notebooks that download from Kaggle ask for its credentials at Setup
(``kaggle=True``): on Colab, reading a secret opens the "grant access" dialog (02 reads
them only when it must download, through ``colorpast.data.download``). Only notebooks
that train look for a GPU (``gpu=True``); the others never advise switching the runtime,
since switching it wipes ``/content``.

Every notebook runs ``setup()`` first, and the data notebooks (01, 02) never need Keras:
the modules that import Keras or TensorFlow (training, models, colorize, figures) are
imported inside the functions that use them, and so are the libraries only a notebook
or Colab has (IPython, ipywidgets, google.colab).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from colorpast import errors, version
from colorpast.config import preset
from colorpast.data import shards
from colorpast.data.download import credentials_source
from colorpast.errors import UserError
from colorpast.fsutil import commit, discard

# The repository the notebooks install from and their badges point to. A fork changes
# this line and runs notebooks/_build.py; on Colab the Setup cell's REPO_URL field (a
# form field, filled from this constant) can be edited without rebuilding.
REPO_URL = "https://github.com/colorpast/colorpast"
COLAB_DRIVE = Path("/content/drive")
DRIVE_FOLDER = "MyDrive/colorpast"
# Downloads on Colab go to the runtime's own disk, not Drive: a Kaggle archive
# (Flickr30k: 8 GB) would not fit beside everything else on a free 15 GB Drive, and
# reading it back through Drive is slow. It is lost on a disconnect, and 02 fetches it
# again when it needs it; the prepared shards (02), runs and reports are on Drive.
COLAB_LOCAL = Path("/content/colorpast")
COLAB_RAW = COLAB_LOCAL / "data" / "raw"
MIN_TENSORFLOW = (2, 16)
FOLDERS = ("data", "runs", "reports", "weights")
NO_GPU = (
    "No GPU found: training will be slow, everything else runs fine on the CPU. "
    "On Colab: Runtime > Change runtime type > Hardware accelerator: GPU (T4), then run the notebook again "
    "(switching the runtime wipes /content; Drive keeps your data). "
    "Locally: install the CUDA build of TensorFlow (docs/notebooks.md, 'Local Jupyter with CUDA'). "
    "Continuing on the CPU."
)
NO_GPU_NEEDED = "This notebook needs no GPU; it runs on the CPU."


# What the Setup cell installs unless its REF field says otherwise: a branch, a tag or a
# commit. A pinned tag or commit keeps every session on the same code; a run records the
# version and commit that started it either way (colorpast.version).
REF = "main"


def install_command(repo_url: str = REPO_URL, ref: str = REF, extras: str = "") -> str:
    """The pip requirement that installs colorpast from ``repo_url`` (a GitHub repository) at
    ``ref``, with the optional ``extras`` ("heic")."""
    return f"colorpast{f'[{extras}]' if extras else ''} @ git+{repo_url}@{ref}"


def in_colab() -> bool:
    return "google.colab" in sys.modules


def colab_badge(notebook: str, repo_url: str = REPO_URL, branch: str = "main") -> str:
    """Markdown for an "Open in Colab" badge of ``notebooks/<notebook>`` in the repository."""
    path = repo_url.removeprefix("https://github.com/")
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"(https://colab.research.google.com/github/{path}/blob/{branch}/notebooks/{notebook})"
    )


@dataclass
class Environment:
    is_colab: bool
    root: Path
    raw: Path = Path("data/raw")  # where 01 downloads datasets
    gpus: list = field(default_factory=list)
    kaggle: str | None = None  # where Kaggle credentials come from, or None

    def path(self, *parts) -> Path:
        return self.root.joinpath(*parts)


def default_root(is_colab: bool, drive: Path | None = None) -> Path:
    """The working folder: $COLORPAST_ROOT, Drive on Colab, else the repository root."""
    if os.environ.get("COLORPAST_ROOT"):
        return Path(os.environ["COLORPAST_ROOT"]).expanduser()
    if is_colab:
        return (drive or COLAB_DRIVE) / DRIVE_FOLDER
    cwd = Path.cwd()
    return cwd.parent if cwd.name == "notebooks" else cwd


def mount_drive(drive: Path | None = None) -> None:
    """Mount Google Drive on Colab (asks for permission once per session)."""
    from google.colab import drive as colab_drive

    drive = drive or COLAB_DRIVE
    if not (drive / "MyDrive").is_dir():
        colab_drive.mount(str(drive))


def kaggle_credentials() -> str | None:
    """Where Kaggle credentials come from (Colab secrets are copied into the environment), or None."""
    try:
        return credentials_source()
    except UserError:
        return None


def gpus(memory_growth: bool = True) -> list:
    """The GPUs TensorFlow sees. With ``memory_growth``, each takes memory as it needs it,
    so two notebooks open on one local GPU do not fight over it (TensorFlow otherwise
    reserves nearly all of it for the first). Must run before TensorFlow uses a GPU."""
    import tensorflow as tf

    found = tf.config.list_physical_devices("GPU")
    if memory_growth:
        for g in found:
            try:
                tf.config.experimental.set_memory_growth(g, True)
            except (RuntimeError, ValueError):  # already initialized: too late, and harmless
                pass
    return found


# TensorFlow's C++ log lines (absl format: I1126 22:31:05.123456  1234 port.cc:153] ...; before
# absl is initialized the time reads 00:00:<seconds since 1970>).
# TensorFlow 2.21 writes its start-up ones (oneDNN, CUDA factories and drivers,
# cpu_feature_guard) before it reads TF_CPP_MIN_LOG_LEVEL, straight to file descriptor 2.
_CPP_LOG = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called|[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\])")


@contextlib.contextmanager
def quiet_native_stderr():
    """Drop TensorFlow's C++ log lines written to file descriptor 2 inside the block; other
    output written there is passed on. A notebook shows fd 2 (Colab does), so without
    this every Setup would open with lines nobody can act on."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            rest = [ln for ln in captured.read().decode(errors="replace").splitlines() if not _CPP_LOG.match(ln)]
            if rest:
                print("\n".join(rest), file=sys.stderr)


def _user_error_in_one_line(shell, etype, value, tb, tb_offset=None):
    """IPython custom exception handler: a UserError prints one line, as in the CLI."""
    print(f"{etype.__name__}: {value}", file=sys.stderr)
    return []


def register_error_handler() -> bool:
    """In an IPython kernel, show a UserError as one line instead of a traceback."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False

    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((UserError,), _user_error_in_one_line)
    return True


def setup(root=None, drive: bool = True, kaggle: bool = False, gpu: bool = True, log=print) -> Environment:
    """Detect Colab, mount Drive there, change into the working folder, report GPU and Kaggle.

    Args:
        root: the working folder (default: see :func:`default_root`).
        drive: this notebook reads or writes Drive: on Colab, mount it (the permission
            dialog, once a session) and work there; otherwise work in ``/content/colorpast``.
        kaggle: look for Kaggle credentials (Colab secrets included); only the notebooks
            that download ask, so the others never trigger Colab's "grant access" dialog.
        gpu: this notebook benefits from a GPU: say so when there is none.
    """
    # TensorFlow's C++ log lines (CUDA factories, oneDNN, cpu_feature_guard) say nothing a
    # notebook user can act on: the level holds for what is logged later, and the start-up
    # lines, written before TensorFlow reads it, are filtered from the import itself.
    if sys.version_info < (3, 10):
        raise RuntimeError(f"colorpast needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        with quiet_native_stderr():
            import tensorflow as tf

            found = gpus()
        if tuple(int(x) for x in tf.__version__.split(".")[:2]) < MIN_TENSORFLOW:
            raise RuntimeError(f"colorpast needs TensorFlow 2.16 or newer (Keras 3); this is {tf.__version__}")
        library = f"TensorFlow {tf.__version__}"
    else:  # JAX or PyTorch: TensorFlow may be absent (the GPU machines carry none)
        import keras

        from colorpast import devices

        found = devices._gpus()
        library = f"Keras {keras.__version__} on {backend}"
    register_error_handler()
    errors.AUDIENCE = "notebook"  # one-line errors name notebooks and their parameters, not CLI options
    is_colab = in_colab()
    if root is None and is_colab and not drive and not os.environ.get("COLORPAST_ROOT"):
        root = COLAB_LOCAL
    root = Path(root) if root is not None else default_root(is_colab)
    no_drive = None
    if is_colab and drive and root.is_relative_to(COLAB_DRIVE):
        try:
            mount_drive()
        except Exception as e:  # noqa: BLE001 - declined ("credential propagation was unsuccessful") or unavailable
            no_drive, root = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'no reason given'}", COLAB_LOCAL
    for name in FOLDERS:
        (root / name).mkdir(parents=True, exist_ok=True)
    os.chdir(root)
    raw = COLAB_RAW if is_colab else root.resolve() / "data" / "raw"
    env = Environment(is_colab=is_colab, root=root.resolve(), raw=raw, gpus=found,
                      kaggle=kaggle_credentials() if kaggle else None)
    where = "Google Colab" if is_colab else "local Jupyter"
    log(f"{where}, Python {sys.version.split()[0]}, {library}, colorpast {version.label(version.describe())}")
    log(f"working folder: {env.root} (data/, runs/, reports/, weights/ live here)")
    if no_drive:
        log(f"Google Drive is not mounted ({no_drive}): working on this runtime's disk, whose files vanish when "
            "the runtime disconnects; download what you want to keep, or run Setup again and allow Drive")
    if env.raw != env.root / "data" / "raw":
        log(f"downloads: {env.raw} (this runtime's disk: fast, but lost on a disconnect)")
    if env.gpus:
        log(f"GPU: {', '.join(getattr(g, 'name', None) or str(g) for g in env.gpus)}")
    else:
        log(NO_GPU if gpu else NO_GPU_NEEDED)
    if kaggle:
        log(f"Kaggle credentials: {env.kaggle or 'none (see Kaggle credentials below)'}")
    return env


def finish(env: Environment, log=print) -> None:
    """The last cell of every notebook that writes to Drive: on Colab, write out what the
    Drive mount still holds in memory, and leave Drive mounted for whatever runs next.

    Drive's mount uploads in the background; a tab closed right after 04 could leave
    ``model.keras`` or a checkpoint half-uploaded. ``flush_and_unmount`` returns when all
    is written (Colab has no flush alone); Drive is then mounted again (no dialog: the
    permission holds for the session) and the working folder is the same, so a cell run
    after this one (04 again with more ``EPOCHS``, or 06's app saving a result) still
    works on Drive. If Drive cannot be mounted again, one line says to run Setup first,
    and the working folder is the runtime's disk. Elsewhere this does nothing."""
    if not env.is_colab or not env.root.is_relative_to(COLAB_DRIVE) or not (COLAB_DRIVE / "MyDrive").is_dir():
        return
    from google.colab import drive as colab_drive

    COLAB_LOCAL.mkdir(parents=True, exist_ok=True)
    os.chdir(COLAB_LOCAL)  # the working folder is on Drive: leave it while it is unmounted
    colab_drive.flush_and_unmount()
    try:
        colab_drive.mount(str(COLAB_DRIVE))
        os.chdir(env.root)
    except Exception as e:  # noqa: BLE001 - whatever Colab raises, the line below says what to do
        log(f"Drive is written out, and could not be mounted again ({type(e).__name__}): you can close this tab; "
            "to go on here, run Setup again before any other cell (until then files land on the runtime's disk)")
        return
    log(f"Drive is written out: closing this tab now loses nothing; it stays mounted, and {env.root} is still "
        "the working folder for any cell you run next")


# ------------------------------------------------------------------ steps notebooks share


def is_prepared(folder) -> bool:
    """Whether ``folder`` holds a complete prepared set."""
    return bool((shards.summary_or_none(folder) or {}).get("complete"))


SMOKE_DATA = "data/prepared/smoke"
SMOKE_RUN = "runs/smoke"


def run_folder(data, model=None, preset_name: str = "effunet") -> str:
    """04's run folder when RUN is None: ``runs/MODEL-SET`` (``runs/effunet-flickr30k``;
    ``MODEL = "effunet_hints"``: ``runs/effunet_hints-flickr30k``), ``MODEL`` being the
    preset's when None. Each model trains in its own run, where 05, 06 and the app look."""
    return f"runs/{model or preset(preset_name).model}-{Path(str(data)).name}"


def smoke_data(folder=SMOKE_DATA, log=print) -> str:
    """The embedded sample prepared at 64 px (20 % val, 20 % test): what SMOKE mode trains on.

    Prepared here when absent, so every notebook runs alone on a fresh runtime."""
    from colorpast.data.prepare import prepare

    if not is_prepared(folder):
        prepare("embedded", folder, size=64, val_percent=20, test_percent=20, progress=False, log=log)
    return str(folder)


def smoke_run(run=SMOKE_RUN, data=SMOKE_DATA, log=print) -> str:
    """A two-epoch run of the ``smoke`` preset on :func:`smoke_data`, trained when absent."""
    from colorpast import train

    if not (Path(run) / train.FINAL).is_file():
        train.train(preset("smoke", data=smoke_data(data, log=log)), run, verbose=False, log=log)
    return str(run)


def local_copy(prepared, env: Environment, log=print) -> str:
    """On Colab, copy a prepared set from Drive to the runtime's disk once; return the path to train from.

    Reading shards through Drive's FUSE mount is several times slower than the local disk,
    and a GPU waits for it. The copy lives in ``/content/colorpast/data/prepared/NAME``
    (lost on a disconnect, copied again by the next session); elsewhere ``prepared`` is
    returned as it is. A copy whose ``prepared.json`` differs is replaced.
    """

    src = Path(prepared)
    if not env.is_colab or not is_prepared(src):
        return str(prepared)
    dest = COLAB_LOCAL / "data" / "prepared" / src.name
    if is_prepared(dest) and (dest / shards.SUMMARY).read_text() == (src / shards.SUMMARY).read_text():
        return str(dest)
    discard(dest)
    tmp = dest.with_name(f".{dest.name}.copying")
    discard(tmp)
    files = [p for p in src.rglob("*") if p.is_file() and shards.SUMMARY != p.name]

    with tqdm(total=sum(p.stat().st_size for p in files), unit="B", unit_scale=True, desc=f"copying {src.name}") as bar:
        for p in files:
            target = tmp / p.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, target)
            bar.update(p.stat().st_size)
    shutil.copyfile(src / shards.SUMMARY, tmp / shards.SUMMARY)  # last: a complete copy has it
    commit(tmp, dest)  # every file and the folder synced, then renamed
    log(f"copied {src} to {dest} (this runtime's disk)")
    return str(dest)
