"""The Setup every notebook runs: Colab or local, where files live, Kaggle, the GPU.

    from colorpast import notebook
    env = notebook.setup()      # prints what it found; env.root, env.is_colab, env.gpus

On Colab, Google Drive is mounted and the working folder is
``/content/drive/MyDrive/colorpast``, so datasets, runs and reports survive a
disconnect; Kaggle credentials are read from Colab secrets. Locally the working folder
is the repository root (the parent of ``notebooks/``, where Jupyter starts a notebook's
kernel). ``COLORPAST_ROOT`` overrides both. The process changes into that folder, so
the notebooks use the same relative paths as the command line: ``data/raw/NAME``,
``data/prepared/NAME``, ``runs/NAME``, ``reports/NAME``, ``weights/``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_URL = "https://github.com/colorpast/colorpast"  # assumed home of the repository (badges, Colab install)
COLAB_DRIVE = Path("/content/drive")
DRIVE_FOLDER = "MyDrive/colorpast"
# Downloads on Colab go to the runtime's own disk, not Drive: a Kaggle archive plus its
# extracted files (Flickr30k: 2 x 8 GB) would not fit a free 15 GB Drive, and reading
# 31,783 small files back through Drive is slow. They are lost on a disconnect; the
# prepared shards (02), runs and reports are on Drive.
COLAB_RAW = Path("/content/colorpast/data/raw")
MIN_TENSORFLOW = (2, 16)
FOLDERS = ("data", "runs", "reports", "weights")
NO_GPU = (
    "No GPU found: training will be slow, everything else runs fine on the CPU. "
    "On Colab: Runtime > Change runtime type > Hardware accelerator: GPU (T4), then run the notebook again. "
    "Locally: install the CUDA build of TensorFlow (README, 'Local Jupyter with CUDA'). "
    "Continuing on the CPU."
)


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
    from colorpast.data.download import credentials_source
    from colorpast.errors import UserError

    try:
        return credentials_source()
    except UserError:
        return None


def gpus() -> list:
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def setup(root=None, mount: bool = True, log=print) -> Environment:
    """Detect Colab, mount Drive there, change into the working folder, report Kaggle and GPU.

    Args:
        root: the working folder (default: see :func:`default_root`).
        mount: on Colab, mount Google Drive when ``root`` is on it.
    """
    import tensorflow as tf

    if sys.version_info < (3, 10):
        raise RuntimeError(f"colorpast needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    if tuple(int(x) for x in tf.__version__.split(".")[:2]) < MIN_TENSORFLOW:
        raise RuntimeError(f"colorpast needs TensorFlow 2.16 or newer (Keras 3); this is {tf.__version__}")
    is_colab = in_colab()
    root = Path(root) if root is not None else default_root(is_colab)
    if is_colab and mount and root.is_relative_to(COLAB_DRIVE):
        mount_drive()
    for name in FOLDERS:
        (root / name).mkdir(parents=True, exist_ok=True)
    os.chdir(root)
    raw = COLAB_RAW if is_colab else root.resolve() / "data" / "raw"
    env = Environment(is_colab=is_colab, root=root.resolve(), raw=raw, gpus=gpus(), kaggle=kaggle_credentials())
    where = "Google Colab" if is_colab else "local Jupyter"
    log(f"{where}, Python {sys.version.split()[0]}, TensorFlow {tf.__version__}")
    log(f"working folder: {env.root} (data/, runs/, reports/, weights/ live here)")
    if env.raw != env.root / "data" / "raw":
        log(f"downloads: {env.raw} (this runtime's disk: fast, but lost on a disconnect)")
    if env.gpus:
        log(f"GPU: {', '.join(g.name for g in env.gpus)}")
    else:
        log(NO_GPU)
    log(f"Kaggle credentials: {env.kaggle or 'none (only needed to download datasets, see 01_download_data)'}")
    return env
