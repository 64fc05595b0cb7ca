"""Where photos come from: the embedded sample, a folder (nested, mixed formats) or a zip.

The embedded sample needs no network and no download: real colour photographs bundled
with scikit-image (``skimage.data``) and matplotlib (its sample data). It is the
default dataset of ``colorpast demo``.

The image libraries (scikit-image, matplotlib, Pillow) are imported inside the functions
that use them: every ``colorpast`` command line imports this module (for ``colorpast
prepare``'s defaults), and matplotlib alone takes 0.2 s to import.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from colorpast.errors import UserError


@dataclass(frozen=True)
class Photo:
    name: str
    rgb: np.ndarray  # H x W x 3 uint8
    credit: str


def _skimage(name: str):
    def load():
        import skimage.data

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
    if path not in _ZIPS:
        _ZIPS[path] = zipfile.ZipFile(path)
    return _ZIPS[path]


# Files no photo collection means to contain: OS and archive metadata, hidden files, and
# the marker `colorpast download` leaves in a folder it extracted. Not decoded, but each
# is listed in the manifest as "skipped" with its reason, so every file is accounted for.
SKIPPED = "skipped: "
_SYSTEM_FILES = {"Thumbs.db", "desktop.ini"}
_APPLEDOUBLE_DIR = "__MACOSX"


def skip_reason(name: str) -> str:
    """Why a file or folder of this name is not read ("" when it is): hidden, OS metadata."""
    if name == _APPLEDOUBLE_DIR or name.startswith("._"):
        return SKIPPED + "AppleDouble file (macOS metadata)"
    if name.startswith("."):
        return SKIPPED + "hidden file"
    if name in _SYSTEM_FILES:
        return SKIPPED + "system file (Windows thumbnails or folder settings)"
    return ""


def _skip_in(parts) -> str:
    """The reason inherited from the first skipped folder among ``parts``, or ""."""
    for part in parts:
        why = skip_reason(part)
        if why:
            return why.replace("hidden file", f"in hidden folder {part}")
    return ""


def walk_folder(root) -> list[Entry]:
    """Every file under ``root``, nested folders included, sorted by relative path.

    Symbolic links are followed, and each folder is walked once (by device and inode): a
    link back to a folder above it is listed as "skipped: symlink loop", a second link to
    a folder already walked as "skipped: folder already walked". A file link that loops
    or dangles, a FIFO, a socket or a device is returned with ``problem`` set: opening a
    FIFO would block forever, so nothing is opened here. Hidden files, AppleDouble files
    (``._name``, ``__MACOSX/``) and everything in hidden folders come with a
    ``problem`` that starts with "skipped: ".
    """
    root = Path(root)
    out: list[Entry] = []
    seen_dirs: dict[tuple[int, int], Path] = {}
    # Real folders first, linked ones after: a folder reached both ways is listed under
    # its real path, and its link as "already walked".
    stack = [(root, "")]  # (folder, reason inherited from a skipped folder above it)
    links: list[tuple[Path, str]] = []
    while stack or links:
        d, inherited = stack.pop() if stack else links.pop(0)
        rel_d = d.relative_to(root).as_posix()
        try:
            st = d.stat()
        except OSError as e:
            out.append(Entry(rel_d, str(d), problem=f"unreadable folder: {e.strerror or e}"))
            continue
        first = seen_dirs.get((st.st_dev, st.st_ino))
        if first is not None:
            loop = d.parent.resolve().is_relative_to(first.resolve())  # a link up the tree
            why = "symlink loop" if loop else f"folder already walked as {first.relative_to(root).as_posix() or '.'}"
            out.append(Entry(rel_d, str(d), problem=f"{SKIPPED}{why} (a link to {os.readlink(d)})"))
            continue
        seen_dirs[(st.st_dev, st.st_ino)] = d
        try:
            children = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as e:
            out.append(Entry(rel_d or ".", str(d), problem=f"unreadable folder: {e.strerror or e}"))
            continue
        for child in children:
            rel = Path(child.path).relative_to(root).as_posix()
            try:
                cst = os.stat(child.path)  # follows links; ELOOP for a loop, ENOENT for a dangling link
            except OSError as e:
                if e.errno == errno.ELOOP:
                    why = SKIPPED + "symlink loop"
                else:
                    why = "broken symlink" if child.is_symlink() else "unreadable"
                out.append(Entry(rel, child.path, problem=f"{why}: {e.strerror or e}"))
                continue
            if stat.S_ISDIR(cst.st_mode):
                (links if child.is_symlink() else stack).append((Path(child.path), inherited or _skip_in([child.name])))
            elif inherited or skip_reason(child.name):
                out.append(Entry(rel, child.path, problem=inherited or skip_reason(child.name)))
            elif not stat.S_ISREG(cst.st_mode):
                out.append(Entry(rel, child.path, problem="not a regular file (FIFO, socket or device)"))
            else:
                out.append(Entry(rel, child.path))
    return sorted(out, key=lambda e: e.name)


def walk_zip(path) -> list[Entry]:
    """Every file member of a zip archive (folders inside it included), sorted by name.

    Members in hidden or ``__MACOSX`` folders, hidden and AppleDouble files, and
    symbolic links come with a ``problem`` that starts with "skipped: "."""
    out = []
    with zipfile.ZipFile(path) as zf:
        for i in zf.infolist():
            if i.is_dir():
                continue
            parts = i.filename.split("/")
            why = _skip_in(parts[:-1]) or skip_reason(parts[-1])
            if not why and (i.external_attr >> 16) & 0o170000 == 0o120000:
                why = SKIPPED + "symbolic link inside the archive"
            out.append(Entry(i.filename, str(path), member=i.filename, problem=why))
    return sorted(out, key=lambda e: e.name)


def several(source) -> list:
    """``source`` as a list of sources: one source, or a list or tuple of them."""
    return list(source) if isinstance(source, (list, tuple)) else [source]


def _label(source) -> str:
    """How a source's entries are named among several: the folder's or zip's name."""
    return EMBEDDED_SOURCE if str(source) == EMBEDDED_SOURCE else Path(source).resolve().name.removesuffix(".zip")


def source_entries(source) -> list[Entry]:
    """The entries of a source: ``"embedded"``, a folder, or a ``.zip`` file; or of several
    sources (a list), each entry named ``LABEL/NAME`` by its source's folder or zip name
    (``imagenet1k-256/n01440764_tench.jpg``), as one folder holding them all would name it.

    Raises UserError (one line) for a missing source, a file that is not a zip, a source
    without a single file in it, or two sources of one name.
    """
    if isinstance(source, (list, tuple)) and len(source) == 1:
        source = source[0]
    if isinstance(source, (list, tuple)):
        labels = [_label(s) for s in source]
        clash = sorted({x for x in labels if labels.count(x) > 1})
        if clash:
            raise UserError(f"two sources are named {clash[0]}; give each its own folder name, or one folder holding both")
        return [e if e.name.startswith("embedded:") else replace(e, name=f"{label}/{e.name}")
                for s, label in zip(source, labels) for e in source_entries(s)]
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


SEPARATOR = " + "  # between the sources of a set prepared from several


def source_id(source) -> str:
    """How a prepared set records its source: ``"embedded"`` or the folder's or zip's absolute
    path; for several, theirs joined by ``SEPARATOR``."""
    if isinstance(source, (list, tuple)):
        return SEPARATOR.join(source_id(s) for s in source)
    return EMBEDDED_SOURCE if str(source) == EMBEDDED_SOURCE else str(Path(source).resolve())


def source_exists(source_id: str) -> bool:
    return all(s == EMBEDDED_SOURCE or Path(s).exists() for s in source_id.split(SEPARATOR))


def load_embedded(entry_name: str) -> np.ndarray:
    """The ``H x W x 3`` uint8 pixels of an ``embedded:NAME`` entry."""
    (photo,) = embedded_sample([entry_name.split(":", 1)[1]])
    return photo.rgb


def peek(source, n: int = 8, max_bytes: int = 64 * 2**20) -> list[tuple[str, np.ndarray]]:
    """The first ``n`` photos of a source that decode, as ``(name, H x W x 3 uint8)``: a look
    at a folder, zip or ``"embedded"`` before preparing it (prepare does the real checks)."""
    from PIL import Image, ImageOps

    if str(source) == EMBEDDED_SOURCE:
        return [(p.name, p.rgb) for p in embedded_sample()[:n]]
    found = []
    for e in source_entries(source):
        if len(found) >= n:
            break
        if e.problem:
            continue
        try:
            with Image.open(io.BytesIO(e.read(max_bytes))) as im:
                found.append((e.name, np.asarray(ImageOps.exif_transpose(im).convert("RGB"))))
        except Exception:  # noqa: BLE001 - not a photo: prepare lists it with its reason
            continue
    return found
