"""Where photos come from: the embedded sample, a folder (nested, mixed formats) or a zip.

The embedded sample needs no network and no download: real colour photographs bundled
with scikit-image (``skimage.data``) and matplotlib (its sample data). It is the
default dataset of ``colorpast demo``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Photo:
    name: str
    rgb: np.ndarray  # H x W x 3 uint8
    credit: str


def _skimage(name: str):
    import skimage.data

    def load():
        img = getattr(skimage.data, name)()
        return img[0] if isinstance(img, tuple) else img  # stereo_motorcycle: (left, right, disparity)

    return load


def _grace_hopper():
    import matplotlib.cbook
    from PIL import Image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(Image.open(f).convert("RGB"))


# name -> (loader, credit). Only natural colour photographs: scikit-image's microscopy,
# astronomy and synthetic images would teach the model colours old photos never have.
_EMBEDDED = {
    "astronaut": (_skimage("astronaut"), "Eileen Collins, NASA (scikit-image)"),
    "chelsea": (_skimage("chelsea"), "Stefan van der Walt (scikit-image)"),
    "coffee": (_skimage("coffee"), "Rachel Michetti (scikit-image)"),
    "rocket": (_skimage("rocket"), "SpaceX, public domain (scikit-image)"),
    "motorcycle": (_skimage("stereo_motorcycle"), "Middlebury stereo dataset (scikit-image)"),
    "grace_hopper": (_grace_hopper, "U.S. Navy, public domain (matplotlib)"),
}

# Held out from demo training and used to evaluate it: a cat and a portrait, subjects
# the training photos do not contain, so the scores say something about generalization.
EMBEDDED_HELD_OUT = ("chelsea", "grace_hopper")


def embedded_names() -> list[str]:
    return list(_EMBEDDED)


def embedded_sample(names=None) -> list[Photo]:
    """Load the embedded photos (all, or those named) as uint8 RGB, in a fixed order.

    A photo that cannot be loaded offline in this installation is skipped, so a newer
    scikit-image that moves a file to its download cache does not break the demo; an
    empty result raises RuntimeError.
    """
    photos = []
    for name in names or _EMBEDDED:
        loader, credit = _EMBEDDED[name]
        try:
            rgb = np.ascontiguousarray(loader()[..., :3], dtype=np.uint8)
        except Exception:  # noqa: BLE001 - a missing optional file must not stop the demo
            continue
        photos.append(Photo(name, rgb, credit))
    if not photos:
        raise RuntimeError("none of the embedded sample photos could be loaded from scikit-image or matplotlib")
    return photos


# --- Files on disk: a folder (nested, mixed formats), a zip, or the embedded sample -----

EMBEDDED_SOURCE = "embedded"
ZIP_PREFIX = "zip:"


@dataclass(frozen=True)
class Entry:
    """One candidate photo of a source, small and picklable so a worker process can read it.

    name:     stable identifier used in the manifest and for resume: the path relative
              to the source folder (``/``-separated), the member name inside a zip, or
              ``embedded:NAME``.
    path:     the file to read (the folder's file or the zip archive); "" for embedded.
    member:   the zip member name; "" otherwise.
    problem:  set when the walk already knows the entry cannot be read (a symlink loop,
              a FIFO, a device); the reason goes to the manifest and nothing is opened.
    """

    name: str
    path: str = ""
    member: str = ""
    problem: str = ""

    def read(self, max_bytes: int) -> bytes:
        """The file's bytes. Raises OSError (unreadable) or ValueError (over ``max_bytes``)."""
        if self.member:
            zf = _open_zip(self.path)
            info = zf.getinfo(self.member)
            if info.file_size > max_bytes:
                raise ValueError(f"file too large ({info.file_size} bytes, limit {max_bytes})")
            return zf.read(info)
        with open(self.path, "rb") as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ValueError(f"file too large (over {max_bytes} bytes)")
        return data


_ZIPS: dict = {}


def _open_zip(path: str):
    """A zip archive opened once per process: reading its directory for every member
    would cost a second per thousand members on a 30,000-photo archive."""
    import zipfile

    if path not in _ZIPS:
        _ZIPS[path] = zipfile.ZipFile(path)
    return _ZIPS[path]


# Files no photo collection means to contain: OS and archive metadata, and the marker
# that `colorpast download` leaves in a folder it extracted. They are skipped silently.
_IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", ".colorpast-download.json"}
_IGNORED_DIRS = {"__MACOSX", ".git", ".ipynb_checkpoints"}


def _ignored(name: str) -> bool:
    return name in _IGNORED_NAMES or name.startswith("._")


def walk_folder(root) -> list[Entry]:
    """Every file under ``root``, nested folders included, sorted by relative path.

    Symbolic links are followed (a linked folder is walked once: a folder already seen,
    by device and inode, is not entered again, so a link loop cannot recurse forever).
    A file link that loops or dangles, a FIFO, a socket or a device is returned with
    ``problem`` set: opening a FIFO would block forever, so nothing is opened here.
    """
    import errno
    import os
    import stat
    from pathlib import Path

    root = Path(root)
    out: list[Entry] = []
    seen_dirs: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            st = d.stat()
        except OSError as e:
            out.append(Entry(d.relative_to(root).as_posix(), str(d), problem=f"unreadable folder: {e.strerror or e}"))
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        try:
            children = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as e:
            out.append(Entry(d.relative_to(root).as_posix() or ".", str(d), problem=f"unreadable folder: {e.strerror or e}"))
            continue
        for child in children:
            rel = Path(child.path).relative_to(root).as_posix()
            try:
                cst = os.stat(child.path)  # follows links; ELOOP for a loop, ENOENT for a dangling link
            except OSError as e:
                why = "symlink loop" if e.errno == errno.ELOOP else ("broken symlink" if child.is_symlink() else "unreadable")
                out.append(Entry(rel, child.path, problem=f"{why}: {e.strerror or e}"))
                continue
            if stat.S_ISDIR(cst.st_mode):
                if child.name not in _IGNORED_DIRS:
                    stack.append(Path(child.path))
            elif _ignored(child.name):
                continue
            elif not stat.S_ISREG(cst.st_mode):
                out.append(Entry(rel, child.path, problem="not a regular file (FIFO, socket or device)"))
            else:
                out.append(Entry(rel, child.path))
    return sorted(out, key=lambda e: e.name)


def walk_zip(path) -> list[Entry]:
    """Every file member of a zip archive (folders inside it included), sorted by name."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        names = [
            i.filename
            for i in zf.infolist()
            if not i.is_dir()
            and not any(part in _IGNORED_DIRS for part in i.filename.split("/")[:-1])
            and not _ignored(i.filename.rsplit("/", 1)[-1])
        ]
    return [Entry(n, str(path), member=n) for n in sorted(names)]


def source_entries(source) -> list[Entry]:
    """The entries of a source: ``"embedded"``, a folder, or a ``.zip`` file.

    Raises UserError (one line) for a missing source, a file that is not a zip, or a
    source without a single file in it.
    """
    import zipfile
    from pathlib import Path

    from colorpast.errors import UserError

    if str(source) == EMBEDDED_SOURCE:
        return [Entry(f"embedded:{n}") for n in embedded_names()]
    p = Path(source)
    if p.is_dir():
        entries = walk_folder(p)
    elif p.is_file():
        if not zipfile.is_zipfile(p):
            raise UserError(f"{p} is neither a folder nor a zip archive")
        try:
            entries = walk_zip(p)
        except (zipfile.BadZipFile, OSError) as e:
            raise UserError(f"cannot read the zip archive {p}: {e}") from None
    elif p.exists():
        raise UserError(f"{p} is neither a folder nor a zip archive")
    else:
        raise UserError(f"source {p} does not exist (give a folder, a .zip file, or 'embedded')")
    if not entries:
        raise UserError(f"source {p} contains no files")
    return entries


def load_embedded(entry_name: str) -> np.ndarray:
    """The ``H x W x 3`` uint8 pixels of an ``embedded:NAME`` entry."""
    (photo,) = embedded_sample([entry_name.split(":", 1)[1]])
    return photo.rgb
