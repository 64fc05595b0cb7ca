"""The package's few filesystem ideas, each written once: a folder we may write to, a
file written atomically, a file deleted without filling Google Drive's Trash, and a
file's sha256.

Atomic here means what a reader sees after a crash or a SIGKILL at any instant: either
the old file or the complete new one, never a torn one. Every file another process or a
later run reads (checkpoints, manifests, shards, reports, weights, config.json,
history.csv) is written through ``atomic_write`` or ``atomic_path``: the data goes to a
temporary file in the same folder (so the rename cannot cross file systems), is flushed
and fsynced, renamed over the target, and the folder is fsynced where the OS allows, so
the rename itself survives a power cut. Temporary names start with ``PARTIAL``; a
process killed mid-write leaves one behind, which ``remove_partials`` clears.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from colorpast.errors import UserError

PARTIAL = ".partial-"


def writable_dir(path) -> Path:
    """Create ``path`` if needed and prove it is writable, or raise UserError saying why."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=p)
        os.close(fd)
        os.remove(probe)
    except FileExistsError:
        raise UserError(f"cannot use {p} as an output folder: a file of that name exists") from None
    except OSError as e:
        raise UserError(f"cannot write to {p}: {e.strerror or e}") from None
    return p


def partial_path(path) -> Path:
    """The temporary name ``path`` is written under: same folder, same suffix (Keras
    checks ``.keras`` and ``.weights.h5``), this process's id so writers never collide."""
    path = Path(path)
    return path.with_name(f"{PARTIAL}{os.getpid()}-{path.name}")


def fsync_dir(folder) -> None:
    """Make a rename in ``folder`` durable. A no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (network mounts) refuse fsync on a folder
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def commit(tmp, path) -> Path:
    """Rename the finished file or folder ``tmp`` over ``path`` and make it durable: the
    data first (every file of a folder, then the folder), then the rename. A folder can
    replace only a missing or empty one (``os.replace``'s rule)."""
    tmp, path = Path(tmp), Path(path)
    if tmp.is_dir():
        for f in tmp.rglob("*"):
            if f.is_file():
                _fsync_file(f)
        fsync_dir(tmp)
    else:
        _fsync_file(tmp)
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path for a writer that takes a file name (``model.save``,
    ``np.save``); when the block ends without an error it becomes ``path``. On an error
    the temporary file is removed and ``path`` is untouched."""
    path = Path(path)
    tmp = partial_path(path)
    try:
        yield tmp
        commit(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            discard(tmp)
        raise


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", **open_kwargs):
    """``open(path, mode)`` for writing, atomically: yields the open file; ``path`` is
    replaced only when the block ends without an error. ``newline=""`` and the like pass
    through to ``open``."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write writes whole files; mode {mode!r} is not 'w' or 'wb'")
    with atomic_path(path) as tmp:
        with open(tmp, mode, **open_kwargs) as f:
            yield f


def write_text_atomic(path, text: str) -> Path:
    """``path.write_text(text)``, atomically."""
    with atomic_write(path) as f:
        f.write(text)
    return Path(path)


def discard(path) -> None:
    """Delete a file or a folder, truncating every file to 0 bytes before unlinking it.

    On a mounted Google Drive a deleted file goes to the Trash and still counts against
    the quota for 30 days (a seed16 checkpoint is about 47 MB, a colorful one about
    390 MB, one every epoch; a prepared Flickr30k is gigabytes of shards); truncated
    first, it lands there empty. Every deletion of a file that may be large goes
    through here. A missing ``path`` is not an error.
    """
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            discard(child)
        path.rmdir()
    elif path.exists() or path.is_symlink():
        if path.is_file() and not path.is_symlink():
            os.truncate(path, 0)
        path.unlink()


def remove_partials(folder) -> None:
    """Remove the temporary files a killed writer left in ``folder`` (files only: a
    folder with that prefix belongs to its owner, such as a checkpoint being written)."""
    for stale in Path(folder).glob(PARTIAL + "*"):
        if stale.is_file():
            with contextlib.suppress(OSError):
                discard(stale)


def sha256_file(path, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file's bytes, read in ``chunk``-sized blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()
