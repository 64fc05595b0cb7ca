"""Kaggle datasets into ``data/raw/NAME``, through the official client (``colorpast download``).

    colorpast download flickr30k            # the seed paper's three datasets by alias
    colorpast download OWNER/SLUG --dest data/raw

Credentials, the first found: KAGGLE_API_TOKEN, KAGGLE_USERNAME + KAGGLE_KEY, a
kaggle.json (KAGGLE_CONFIG_DIR, ~/.kaggle or ~/.config/kaggle), ~/.kaggle/access_token,
or Colab secrets of those names (only inside Colab). None of them, or one Kaggle
refuses, is a one-line error saying how to provide them; the key is never printed.

The archive is downloaded into ``DEST/.NAME.download/``, checked (a zip whose every
member's CRC matches: a truncated or corrupt archive is fetched once more), extracted
into ``DEST/.NAME.extracting/`` with a marker file, and that folder is renamed to
``DEST/NAME`` only when complete. So ``DEST/NAME`` existing means a whole download; a
second call finds its marker and does nothing.

With ``unzip=False`` (what the notebooks do: ``prepare`` reads the zip directly, which
saves Flickr30k's 8 GB of extracted files and the minutes writing them) the checked
archive is moved to ``DEST/NAME.zip`` beside a marker ``DEST/.NAME.zip.json``, and a
second call finds that and does nothing.

``preview`` fetches a few photos one file at a time into ``DEST/NAME-preview/``: a look at
Flickr30k costs 8 of its photos, not its 8 GB archive (which 02 fetches itself on Colab).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import sys
import zipfile
import zlib
from pathlib import Path

from tqdm.auto import tqdm  # widgets in notebooks, text elsewhere

from colorpast.errors import UserError
from colorpast.fsutil import commit, sha256_file, writable_dir, write_text_atomic

# The seed paper's datasets (see the seed's notebooks).
ALIASES = {
    "flickr30k": "hsankesara/flickr-image-dataset",
    "anime": "weiwangk/japanese-anime-scenes",
    "art": "thedownhill/art-images-drawings-painting-sculpture-engraving",
}
MARKER = ".colorpast-download.json"
HOW_TO_AUTHENTICATE = (
    "set KAGGLE_API_TOKEN (or KAGGLE_USERNAME and KAGGLE_KEY), or save the kaggle.json from "
    "https://www.kaggle.com/settings (API, Create New Token) as ~/.kaggle/kaggle.json with chmod 600; "
    "on Colab, add KAGGLE_USERNAME and KAGGLE_KEY as secrets (key icon) and allow notebook access"
)
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")  # no "..": the slug names a folder


def resolve(name: str) -> tuple[str, str]:
    """An alias or ``OWNER/SLUG`` -> (folder name under dest, ``OWNER/SLUG``)."""
    if name in ALIASES:
        return name, ALIASES[name]
    if _REF.match(name):
        return name.split("/")[1], name
    raise UserError(
        f"unknown dataset {name!r}: give OWNER/SLUG as in kaggle.com/datasets/OWNER/SLUG "
        f"or one of the aliases {', '.join(ALIASES)}"
    )


def _kaggle_json_paths() -> list[Path]:
    """Where the kaggle client looks for kaggle.json, in its order."""
    home = Path(os.path.expanduser("~"))
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        return [Path(os.environ["KAGGLE_CONFIG_DIR"]) / "kaggle.json"]
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [home / ".kaggle" / "kaggle.json", xdg / "kaggle" / "kaggle.json"]


def _colab_secrets() -> bool:
    """Copy Kaggle credentials from Colab secrets into this process's environment."""
    if "google.colab" not in sys.modules:
        return False
    try:
        from google.colab import userdata
    except ImportError:
        return False

    def get(key):
        try:
            return userdata.get(key)
        except Exception:  # noqa: BLE001 - SecretNotFoundError, NotebookAccessError: not provided
            return None

    token = get("KAGGLE_API_TOKEN")
    if token:
        os.environ["KAGGLE_API_TOKEN"] = token
        return True
    user, key = get("KAGGLE_USERNAME"), get("KAGGLE_KEY")
    if user and key:
        os.environ["KAGGLE_USERNAME"], os.environ["KAGGLE_KEY"] = user, key
        return True
    return False


def credentials_source() -> str:
    """Where the Kaggle credentials will come from (a description, never the secret).

    Raises UserError (one line, saying how to provide them) when there are none.
    """
    if os.environ.get("KAGGLE_API_TOKEN"):
        return "KAGGLE_API_TOKEN"
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return "KAGGLE_USERNAME and KAGGLE_KEY"
    for p in _kaggle_json_paths():
        if p.is_file():
            try:
                data = json.loads(p.read_text())
            except (OSError, ValueError):
                raise UserError(f"{p} is not valid JSON; download a new one: {HOW_TO_AUTHENTICATE}") from None
            if not (isinstance(data, dict) and data.get("username") and data.get("key")):
                raise UserError(f"{p} lacks 'username' or 'key'; download a new one: {HOW_TO_AUTHENTICATE}")
            return str(p)
    for p in (Path(os.path.expanduser("~/.kaggle/access_token")), Path(os.path.expanduser("~/.kaggle/access_token.txt"))):
        if p.is_file() and p.read_text().strip():
            return str(p)
    if _colab_secrets():
        return "Colab secrets"
    raise UserError(f"no Kaggle credentials found: {HOW_TO_AUTHENTICATE}")


def _bar(total: int, desc: str, progress: bool):
    return tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=not progress, mininterval=1.0)


def check_archive(path, progress: bool = False) -> str | None:
    """None if ``path`` is a whole zip archive, else what is wrong with it.

    Reads every member and checks its CRC (as ``ZipFile.testzip`` does, with a progress
    bar: Flickr30k's 8 GB take minutes): a truncated download lacks the central directory
    at the end, a corrupt one fails a CRC.
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return "missing or empty"
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if not infos:
                return "the archive is empty"
            with _bar(sum(i.file_size for i in infos), f"checking {path.name}", progress) as bar:
                for info in infos:
                    try:
                        with zf.open(info) as f:  # the CRC is checked when a member is read to its end
                            for block in iter(lambda: f.read(1 << 20), b""):
                                bar.update(len(block))
                    except zipfile.BadZipFile:
                        return f"member {info.filename!r} fails its CRC check"
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as e:
        return f"not a whole zip archive ({e})"
    return None


def extract(archive, target, dataset: str = "", progress: bool = False) -> dict:
    """Extract ``archive`` into a fresh ``target`` folder, atomically; returns its marker.

    Nested folders are kept. A member whose path would land outside ``target`` (an
    absolute path or ``..``) is skipped, as are symbolic links. ``target`` appears
    (renamed from a temporary folder) only when every file and the marker are written.
    """
    archive, target = Path(archive), Path(target)
    tmp = target.with_name(f".{target.name}.extracting")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    root = tmp.resolve()
    files = skipped = total = 0
    with zipfile.ZipFile(archive) as zf, _bar(sum(i.file_size for i in zf.infolist()), f"extracting {archive.name}", progress) as bar:
        for info in zf.infolist():
            bar.update(info.file_size)
            dest = (tmp / info.filename).resolve()
            is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
            if is_link or not dest.is_relative_to(root) or dest == root:
                skipped += 1
                continue
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            files += 1
            total += info.file_size
    marker = {
        "dataset": dataset,
        "archive": archive.name,
        "archive_bytes": archive.stat().st_size,
        "archive_sha256": sha256_file(archive),
        "files": files,
        "bytes": total,
        "skipped_unsafe_members": skipped,
    }
    write_text_atomic(tmp / MARKER, json.dumps(marker, indent=2) + "\n")
    if target.exists():
        shutil.rmtree(target)  # only ever a folder of ours: download() checks for its marker
    commit(tmp, target)
    return marker


def _count_files(folder: Path) -> int:
    return sum(len([f for f in files if f != MARKER]) for _, _, files in os.walk(folder))


def is_complete(target, ref: str | None = None) -> bool:
    """Whether ``target`` holds a whole download (of ``ref``, when given)."""
    try:
        marker = json.loads((Path(target) / MARKER).read_text())
    except (OSError, ValueError):
        return False
    if ref is not None and marker.get("dataset") != ref:
        return False
    return _count_files(Path(target)) == marker.get("files")


# The first kaggle client that reads KAGGLE_API_TOKEN (kagglesdk's access tokens, what
# kaggle.com/settings hands out now); pyproject's floor. An older one (Colab has had 1.6
# preinstalled) would fail deep inside with a traceback.
MIN_CLIENT = (1, 8, 0)


def _check_client() -> None:
    """A one-line UserError when the kaggle client is missing or older than MIN_CLIENT."""
    from importlib import metadata

    want = ".".join(map(str, MIN_CLIENT))
    with contextlib.suppress(metadata.PackageNotFoundError):
        have = metadata.version("kaggle")
        if tuple(int(x) for x in re.findall(r"\d+", have)[:3]) >= MIN_CLIENT:
            return
        raise UserError(f"the kaggle client {have} is older than {want}, which colorpast needs (it reads "
                        f"KAGGLE_API_TOKEN); upgrade it: pip install -U 'kaggle>={want}'")
    raise UserError(f"the kaggle client is not installed: pip install 'kaggle>={want}'")


@contextlib.contextmanager
def _kaggle(ref: str):
    """An authenticated ``KaggleApi``; the client's errors inside the block become one line.

    Raises UserError for missing or refused credentials, unknown datasets and an
    unreachable Kaggle."""
    # The client (and requests, which it brings) only when fetching: its import is slow
    # and `colorpast download --help` reads ALIASES from this module.
    import requests

    source = credentials_source()
    _check_client()
    # `import kaggle` authenticates at import time and prints its own help on failure;
    # we authenticate below and word the error ourselves.
    with contextlib.redirect_stdout(io.StringIO()):
        from kaggle.api.kaggle_api_extended import KaggleApi
    api = KaggleApi()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                api.authenticate()  # a token is checked with Kaggle here; a key only at the download
            except SystemExit:  # the client exits when no credentials work
                raise UserError(f"Kaggle did not accept the credentials from {source}: {HOW_TO_AUTHENTICATE}") from None
        yield api
    except requests.HTTPError as e:
        status = e.response.status_code if e.response is not None else None
        if status in (401, 403):
            raise UserError(
                f"Kaggle refused the credentials from {source} (HTTP {status}); "
                f"check or renew them: {HOW_TO_AUTHENTICATE}"
            ) from None
        if status == 404:
            raise UserError(f"Kaggle has no dataset {ref} (HTTP 404); check the name at kaggle.com/datasets/{ref}") from None
        raise UserError(f"downloading {ref} from Kaggle failed: HTTP {status}") from None
    except requests.ConnectionError:
        raise UserError(f"cannot reach Kaggle to download {ref}: check the network connection") from None


def fetch(ref: str, folder, quiet: bool = False) -> Path:
    """Download ``ref``'s archive into ``folder`` with the official kaggle client; returns its path.

    Raises UserError for missing or refused credentials and unknown datasets.
    """
    with _kaggle(ref) as api:
        api.dataset_download_files(ref, path=str(folder), force=True, quiet=quiet, unzip=False)
    return Path(folder) / f"{ref.split('/')[1]}.zip"


PREVIEW_SUFFIXES = (".jpg", ".jpeg", ".png")
PREVIEW_PAGES = 5  # file-list pages of up to 200 names looked through for photos


def preview(name: str, dest="data/raw", count: int = 8, log=print) -> Path:
    """The first ``count`` photos of a Kaggle dataset's file list (``PREVIEW_PAGES`` pages
    at most), each fetched alone, in ``dest/NAME-preview/`` (in their folders with kaggle 2,
    not with 1.8); a second call that finds them fetches nothing."""
    folder_name, ref = resolve(name)
    out = writable_dir(Path(dest) / f"{folder_name}-preview")
    have = [p for p in out.rglob("*") if p.is_file() and p.suffix.lower() in PREVIEW_SUFFIXES]
    if len(have) >= count:
        log(f"{count} photos of {ref} are already in {out}")
        return out
    with _kaggle(ref) as api:
        names, token = [], None
        for _ in range(PREVIEW_PAGES):
            page = api.dataset_list_files(ref, page_token=token, page_size=200)
            files = getattr(page, "dataset_files", None) or getattr(page, "files", None) or []
            names += [f.name for f in files if str(f.name).lower().endswith(PREVIEW_SUFFIXES)]
            token = getattr(page, "next_page_token", None)
            if len(names) >= count or not token:
                break
        for n in names[:count]:
            with contextlib.redirect_stdout(io.StringIO()):  # the client prints the licence and each file
                api.dataset_download_file(ref, n, path=str(out), force=True, quiet=True)
    got = [p.stat().st_size for p in out.rglob("*") if p.is_file()]
    log(f"{ref}: {len(got)} photos in {out} ({sum(got) / 1e6:.1f} MB), fetched one by one; the whole archive is for 02")
    return out


def archive_marker(archive) -> Path:
    """The marker beside a checked archive kept whole: ``DEST/.NAME.zip.json``."""
    archive = Path(archive)
    return archive.with_name(f".{archive.name}.json")


def is_complete_archive(archive, ref: str | None = None) -> bool:
    """Whether ``archive`` is a whole, checked download (of ``ref``, when given).

    Trusts the marker written after the CRC check, with the size: re-reading 8 GB to
    check every CRC again would cost minutes at every run."""
    try:
        marker = json.loads(archive_marker(archive).read_text())
    except (OSError, ValueError):
        return False
    if ref is not None and marker.get("dataset") != ref:
        return False
    return Path(archive).is_file() and Path(archive).stat().st_size == marker.get("archive_bytes")


def download(name: str, dest="data/raw", keep_archive: bool = False, quiet: bool = False, unzip: bool = True,
             log=print) -> Path:
    """Download a Kaggle dataset; returns ``dest/NAME`` (extracted) or ``dest/NAME.zip``.

    Idempotent: a complete download (its marker present, its files all there) is not
    fetched again. A truncated or corrupt archive is fetched a second time before
    giving up. The archive is deleted after extraction unless ``keep_archive``. With
    ``unzip=False`` the checked archive is kept as ``dest/NAME.zip`` and nothing is
    extracted; an extracted download already there is returned instead.
    """
    folder_name, ref = resolve(name)
    dest = writable_dir(dest)
    target = dest / folder_name
    zipped = dest / f"{folder_name}.zip"
    if is_complete(target, ref):
        log(f"{ref} is already downloaded in {target} (delete that folder to fetch it again)")
        return target
    if not unzip and is_complete_archive(zipped, ref):
        log(f"{ref} is already downloaded: {zipped} (delete it to fetch it again)")
        return zipped
    if target.exists() and not (target / MARKER).exists() and any(target.iterdir()):
        raise UserError(f"{target} exists and was not made by colorpast download; move it or pass another --dest")
    work = dest / f".{folder_name}.download"
    archive = work / f"{ref.split('/')[1]}.zip"
    problem = check_archive(archive, progress=not quiet) if archive.exists() else "missing"
    if problem is None:
        log(f"using the whole archive left by an earlier run: {archive}")
    else:
        credentials_source()  # no credentials: say so before creating anything
        work.mkdir(exist_ok=True)
    for attempt in (1, 2):
        if problem is None:
            break
        if archive.exists():
            if problem != "missing":
                log(f"{archive} is damaged ({problem}); downloading it again")
            archive.unlink()
        log(f"downloading {ref} from Kaggle into {work}")
        archive = fetch(ref, work, quiet=quiet)
        problem = check_archive(archive, progress=not quiet)
        if problem is not None and attempt == 2:
            raise UserError(f"the archive of {ref} arrived damaged twice ({problem}); try again later")
    if not unzip:
        archive_marker(zipped).unlink(missing_ok=True)
        commit(archive, zipped)
        marker = {"dataset": ref, "archive": zipped.name, "archive_bytes": zipped.stat().st_size}
        write_text_atomic(archive_marker(zipped), json.dumps(marker, indent=2) + "\n")  # last: the archive is whole
        shutil.rmtree(work)
        log(f"{ref}: {zipped.stat().st_size / 1e6:.1f} MB in {zipped}, checked; not extracted (prepare reads the zip)")
        return zipped
    log(f"extracting {archive.name} into {target}")
    marker = extract(archive, target, dataset=ref, progress=not quiet)
    if not keep_archive:
        shutil.rmtree(work)
    log(f"{ref}: {marker['files']} files, {marker['bytes'] / 1e6:.1f} MB in {target}")
    return target
