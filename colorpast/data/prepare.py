"""``colorpast prepare``: any folder, zip or the embedded sample -> 224x224 uint8 RGB shards.

Every file is decoded once, in worker processes (every core), and either kept or
rejected with a reason:

- decoded with Pillow, EXIF orientation applied; CMYK, palette, RGBA (composited on
  white), YCbCr and 16-bit RGB become 8-bit RGB; single-channel images (L, 1-bit,
  16-bit gray) are black-and-white and rejected as such;
- rejected: empty, unreadable, not an image, truncated or corrupt, animated (several
  frames), over ``--max-pixels`` (a decompression bomb guard, checked from the header
  before any pixel is decoded), shorter side under ``--min-side``, black-and-white
  (see ``GRAY_CHROMA``), and exact duplicates (same decoded pixels as a kept file);
- resized to ``size x size``: ``crop`` (default) scales the short side to ``size`` and
  cuts the centre square; ``pad`` scales the long side to ``size`` and pads with black;
  ``squash`` ignores the aspect ratio;
- split by content hash: the first 8 hex digits of the SHA-256 of the decoded pixels,
  as an integer mod 100: below 100 - val - test -> train, then val, then test (90/5/5
  by default). A file's split depends on its pixels alone, so adding files to a source
  never moves existing ones between splits.

Output (format in ``colorpast.data.shards``): shards of ``--shard-size`` images per split,
``manifest.csv`` (one row per source file) and ``prepared.json``. The run is resumable:
each shard is committed with its manifest part (``.parts/``); a re-run of the same
command skips every file already committed and only decodes the rest, and a finished
folder is left as it is.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import sys
import time
import warnings
from collections import Counter, deque
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from colorpast.errors import UserError

FITS = ("crop", "pad", "squash")

# Black-and-white threshold: mean chroma sqrt(a^2 + b^2) over the resized image, in CIE
# Lab units. Measured on ../shared/data/imagenet1k-256 at 224 px: its R=G=B photos (24
# decoded with Pillow; its README says 23) score 0.01-0.04 (JPEG rounding), a near-gray
# one (hook, channel spread at most 2) 0.03, and a black-and-white street scene with a coloured watermark 0.13;
# the least colourful colour photo (a brown beetle on white) scores 1.07, the next
# ones 1.19-2.5. 0.5 sits in that gap. Sepia-toned prints are NOT caught: the two in
# ../shared/data/legacy-bw score 7.6 and 12.3, above many real colour photos (a
# toaster 2.6, an otter 2.2), and no single statistic we tried (mean chroma, ab spread,
# ab residual after a per-lightness tint) separated them from colour photos.
GRAY_CHROMA = 0.5

MAX_PIXELS = 100_000_000  # decompression-bomb guard: 100 MP (a 50 MP camera fits twice)
MAX_BYTES = 512 * 2**20  # larger files are not photos; reading them would only fill memory
FILE_TIMEOUT_S = 120.0  # one file decoding longer than this is rejected, its worker killed
MANIFEST_FIELDS = ("file", "status", "split", "shard", "index", "key", "reason", "note")
PARTS = ".parts"


@dataclass(frozen=True)
class Settings:
    """Everything that changes the pixels or the splits; a prepared folder keeps one."""

    size: int = 224
    fit: str = "crop"
    val_percent: int = 5
    test_percent: int = 5
    gray_chroma: float = GRAY_CHROMA
    min_side: int = 112  # images are upscaled at most 2x (224 / 112)
    max_pixels: int = MAX_PIXELS

    def split_of(self, key: str) -> str:
        """train / val / test from a hex content hash (fractions in percent)."""
        bucket = int(key[:8], 16) % 100
        if bucket < 100 - self.val_percent - self.test_percent:
            return "train"
        return "val" if bucket < 100 - self.test_percent else "test"


# --------------------------------------------------------------------------- worker side
# These functions run in worker processes started with 'spawn': they import Pillow,
# NumPy and OpenCV, never TensorFlow (forking a process that has TensorFlow loaded can
# deadlock, and a TensorFlow import per worker would cost seconds and memory).


class _Reject(Exception):
    """A file that cannot be kept; the message is its manifest reason."""


def _exit_with_parent() -> None:
    """End this worker when the parent dies (killed, Colab runtime reset).

    A pool worker holds both ends of its task queue, so it would wait for tasks forever
    after a SIGKILL of the parent; a daemon thread checks once a second that the parent
    is still there.
    """
    import threading

    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def _init_worker(max_pixels: int, in_worker: bool = True) -> None:
    from PIL import Image

    import cv2

    if in_worker:
        _exit_with_parent()

    cv2.setNumThreads(1)  # one process per core already; threads would oversubscribe
    Image.MAX_IMAGE_PIXELS = max_pixels
    # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make it an error.
    warnings.simplefilter("error", Image.DecompressionBombWarning)


_GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_CONVERTIBLE = {"CMYK", "YCbCr", "LAB", "HSV", "RGBX"}


def _to_rgb(im):
    """A loaded Pillow image -> (8-bit RGB image, note about the conversion)."""
    from PIL import Image

    mode = im.mode
    if mode == "RGB":
        return im, ""
    if mode in _GRAY_MODES:
        raise _Reject(f"black-and-white: single-channel image (mode {mode})")
    if mode in ("P", "PA"):
        im = im.convert("RGBA")
    if mode in _CONVERTIBLE:
        return im.convert("RGB"), f"converted from {mode}"
    if im.mode in ("RGBA", "RGBa"):
        rgba = im.convert("RGBA")
        if rgba.getextrema()[3][0] == 255:  # fully opaque: the alpha channel says nothing
            return rgba.convert("RGB"), f"converted from {mode}"
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB"), f"converted from {mode}, transparency on white"
    raise _Reject(f"unsupported pixel mode {mode}")


def _resize(im, size: int, fit: str):
    """RGB image -> (``size x size`` RGB image, the resized content before padding)."""
    from PIL import Image

    w, h = im.size
    lanczos = Image.Resampling.LANCZOS
    if fit == "crop":
        s = min(w, h)
        box = ((w - s) / 2, (h - s) / 2, (w + s) / 2, (h + s) / 2)
        out = im.resize((size, size), lanczos, box=box, reducing_gap=3.0)
        return out, out
    if fit == "squash":
        out = im.resize((size, size), lanczos, reducing_gap=3.0)
        return out, out
    scale = size / max(w, h)
    content = im.resize((max(1, round(w * scale)), max(1, round(h * scale))), lanczos, reducing_gap=3.0)
    out = Image.new("RGB", (size, size))
    out.paste(content, ((size - content.width) // 2, (size - content.height) // 2))
    return out, content


def mean_chroma(rgb: np.ndarray) -> float:
    """Mean CIE Lab chroma sqrt(a^2 + b^2) of an ``H x W x 3`` uint8 image, in Lab units."""
    import cv2

    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)  # float in: exact Lab
    return float(np.hypot(lab[..., 1], lab[..., 2]).mean())


def content_key(rgb: np.ndarray) -> str:
    """SHA-256 (hex) of decoded ``H x W x 3`` uint8 pixels and their shape."""
    h = hashlib.sha256(f"{rgb.shape[0]}x{rgb.shape[1]}x3:".encode())
    h.update(np.ascontiguousarray(rgb).tobytes())
    return h.hexdigest()


def _decode(entry, cfg: Settings):
    """One source entry -> ("kept", key, ``size x size x 3`` uint8, note) or ("rejected", reason)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    from colorpast.data import sources

    if entry.problem:
        raise _Reject(entry.problem)
    if entry.name.startswith("embedded:"):
        im = Image.fromarray(sources.load_embedded(entry.name))
    else:
        try:
            data = entry.read(MAX_BYTES)
        except ValueError as e:
            raise _Reject(f"too large: {e}") from None
        except (OSError, KeyError) as e:  # KeyError: a zip member that vanished
            raise _Reject(f"unreadable: {getattr(e, 'strerror', None) or e}") from None
        if not data:
            raise _Reject("empty file: 0 bytes")
        try:
            im = Image.open(io.BytesIO(data))  # reads the header only; checks MAX_IMAGE_PIXELS
        except UnidentifiedImageError:
            raise _Reject("not an image: no decoder recognises it") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _Reject(f"too large: over {cfg.max_pixels} pixels (decompression bomb guard)") from None
        except Exception as e:  # noqa: BLE001 - any header a decoder chokes on is corrupt
            raise _Reject(f"corrupt: {type(e).__name__}: {e}") from None
        w, h = im.size
        if w * h > cfg.max_pixels:
            raise _Reject(f"too large: {w}x{h} is over {cfg.max_pixels} pixels (decompression bomb guard)")
        if min(w, h) < cfg.min_side:
            raise _Reject(f"too small: {w}x{h}, shorter side under {cfg.min_side} px")
        frames = getattr(im, "n_frames", 1)
        # MPO: a phone's JPEG with extra frames (depth map, preview); the first is the photo.
        if frames > 1 and im.format != "MPO":
            raise _Reject(f"animated or multi-page: {frames} frames")
        try:
            im.load()
        except Exception as e:  # noqa: BLE001 - truncated data raises OSError, others vary by format
            raise _Reject(f"truncated or corrupt: {type(e).__name__}: {e}") from None
        try:
            im = ImageOps.exif_transpose(im)
        except Exception:  # noqa: BLE001 - a broken EXIF block must not cost a good photo
            pass
    im, note = _to_rgb(im)
    w, h = im.size
    if min(w, h) < cfg.min_side:
        raise _Reject(f"too small: {w}x{h}, shorter side under {cfg.min_side} px")
    key = content_key(np.asarray(im))
    out, content = _resize(im, cfg.size, cfg.fit)
    chroma = mean_chroma(np.asarray(content))
    if chroma < cfg.gray_chroma:
        raise _Reject(f"black-and-white: mean chroma {chroma:.2f} < {cfg.gray_chroma} (Lab units)")
    return ("kept", key, np.asarray(out, dtype=np.uint8), note)


def decode_entry(entry, cfg: Settings):
    """:func:`_decode`, with every failure turned into a rejection: a worker never raises."""
    try:
        return _decode(entry, cfg)
    except _Reject as r:
        return ("rejected", str(r))
    except MemoryError:
        return ("rejected", "too large: out of memory while decoding")
    except Exception as e:  # noqa: BLE001 - one strange file must never stop a 30,000-file run
        return ("rejected", f"decoder error: {type(e).__name__}: {e}")


def _worker_has_tensorflow() -> bool:
    """For the tests: whether TensorFlow got imported into a worker."""
    return "tensorflow" in sys.modules


# --------------------------------------------------------------------------- parent side


@contextlib.contextmanager
def _main_script_hidden():
    """Keep 'spawn' from re-running the parent's main script in each worker.

    spawn imports the main script (as ``__mp_main__``) in every new process so that
    functions defined there can be unpickled. Ours live in colorpast; and a script or
    benchmark that imports TensorFlow at its top would load it into every worker
    (seconds and hundreds of MB each). Workers started inside this block skip it.
    """
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main is not None and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__spec__ = None
        yield
    finally:
        if main is not None:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)


def _new_pool(workers: int, cfg: Settings):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # 'spawn': fresh interpreters, so the parent's TensorFlow (the CLI imports it) is never forked.
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(cfg.max_pixels,))
    with _main_script_hidden():
        # The pool starts a process per submit until it has `workers` of them: start them all here.
        for _ in range(workers):
            pool.submit(int)
    return pool


def _kill_pool(pool) -> None:
    """Stop a pool whose worker hangs: shutdown() alone would wait for it forever."""
    for p in list(getattr(pool, "_processes", {}).values()):  # the stdlib offers no public handle before 3.14
        p.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def decode_all(entries, cfg: Settings, workers: int, timeout: float = FILE_TIMEOUT_S):
    """Yield ``(entry, result)`` for every entry, in order, decoding in ``workers`` processes.

    ``workers=0`` decodes in this process (for debugging). In order, so duplicates are
    resolved the same way on every run. A file that takes longer than ``timeout``
    seconds is rejected and its pool replaced; if a worker dies (a decoder crash), the
    files in flight are retried in a fresh pool and a file in flight during two
    crashes is rejected.
    """
    from concurrent.futures import TimeoutError as FutureTimeout
    from concurrent.futures.process import BrokenProcessPool

    if workers == 0:
        _init_worker(cfg.max_pixels, in_worker=False)
        for e in entries:
            yield e, decode_entry(e, cfg)
        return
    pending = iter(entries)
    queue: deque = deque()  # (entry, future, crashes seen), in submission order
    depth = 4 * workers  # enough to keep every worker busy, little memory (results are 150 kB)
    pool = _new_pool(workers, cfg)

    def fill():
        while len(queue) < depth:
            e = next(pending, None)
            if e is None:
                return
            queue.append((e, pool.submit(decode_entry, e, cfg), 0))

    def restart(crashed: bool):
        nonlocal pool
        _kill_pool(pool)
        pool = _new_pool(workers, cfg)
        items = [(e, c + crashed) for e, _, c in queue]
        queue.clear()
        for e, c in items:
            queue.append((e, pool.submit(decode_entry, e, cfg), c))

    try:
        fill()
        while queue:
            e, fut, crashes = queue[0]
            try:
                result = fut.result(timeout=timeout)
            except FutureTimeout:
                result = ("rejected", f"timed out: decoding took over {timeout:g} s")
                queue.popleft()
                restart(crashed=False)
            except BrokenProcessPool:
                if crashes >= 1:
                    result = ("rejected", "decoder crashed: the worker process died twice on this file")
                    queue.popleft()
                restart(crashed=True)
                if crashes < 1:
                    continue
            else:
                queue.popleft()
            yield e, result
            fill()
    finally:
        if queue:  # stopped early (Ctrl-C, an error in the caller): do not wait for the rest
            _kill_pool(pool)
        else:
            pool.shutdown(wait=True)


class _Folder:
    """The output folder's committed state: parts of the manifest and their shards."""

    def __init__(self, out: Path):
        self.out = out
        self.parts = out / PARTS

    def committed_rows(self) -> tuple[list[dict], Counter]:
        """Rows of every committed part; removes uncommitted leftovers of an interrupted run.

        A kept part counts only with its shard beside it (the part is written first,
        the shard renamed into place second), a shard only with its part.
        """
        from colorpast.data import shards

        self.parts.mkdir(parents=True, exist_ok=True)
        rows, next_index = [], Counter()
        for p in sorted(self.parts.glob("*.csv")):
            stem = p.stem
            is_shard_part = not stem.startswith("rejected-")
            if is_shard_part and not (self.out / f"{stem}{shards.SUFFIX}").exists():
                p.unlink()
                continue
            with open(p, newline="") as f:
                rows.extend(csv.DictReader(f))
            if is_shard_part:
                split, index = stem.rsplit("-", 1)
                next_index[split] = max(next_index[split], int(index) + 1)
            else:
                next_index["rejected"] = max(next_index["rejected"], int(stem.split("-")[1]) + 1)
        for split in shards.SPLITS:
            for s in shards.shard_files(self.out, split):
                if not (self.parts / f"{s.stem}.csv").exists():
                    s.unlink()  # written, but its manifest part never was: redo its images
        for leftover in list(self.out.glob("*.partial")) + list(self.parts.glob("*.tmp")):
            leftover.unlink()
        return rows, next_index

    def write_part(self, name: str, rows: list[dict]) -> None:
        tmp = self.parts / f"{name}.csv.tmp"
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
            w.writeheader()
            w.writerows(rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.parts / f"{name}.csv")


def _fault(point: str, stem: str) -> None:
    """Fault injection for the test suite: ``COLORPAST_FAULT=kill-after-part:train-00002``
    (the manifest part written, its shard not yet) or ``kill-after-shard:STEM`` (the shard
    landed, the rejected files seen so far not yet written) SIGKILLs this process there."""
    if os.environ.get("COLORPAST_FAULT") == f"{point}:{stem}":
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _finished(out: Path, cfg: Settings, source: str) -> dict | None:
    """The summary of ``out`` when it is complete and was made from ``source`` with ``cfg``."""
    from colorpast.data import shards

    try:
        old = json.loads((out / shards.SUMMARY).read_text())
    except (OSError, ValueError):
        return None
    same = old.get("version") == shards.FORMAT_VERSION and old.get("settings") == asdict(cfg) and old.get("source") == source
    return old if same and old.get("complete") else None


def _check_folder(out: Path, cfg: Settings, source: str, restart: bool) -> None:
    """Refuse to mix settings or sources in one prepared folder; --restart clears ours."""
    from colorpast.data import shards
    from colorpast.fsutil import writable_dir

    summary = out / shards.SUMMARY
    if restart and summary.exists():
        for p in list(out.glob("*.tfrecord")) + list(out.glob(f"*{shards.SUFFIX}")) + list(out.glob("*.partial")) + [out / shards.MANIFEST, summary]:
            p.unlink(missing_ok=True)
        if (out / PARTS).exists():
            for p in (out / PARTS).iterdir():
                p.unlink()
    if summary.exists():
        try:
            old = json.loads(summary.read_text())
        except (OSError, ValueError):
            raise UserError(f"{summary} is unreadable; pass --restart to prepare {out} again") from None
        wanted = {"version": shards.FORMAT_VERSION, "settings": asdict(cfg), "source": source}
        diff = [k for k in wanted if old.get(k) != wanted[k]]
        if diff:
            was = ", ".join(f"{k}={old.get(k)}" for k in diff if k != "settings")
            if "settings" in diff:
                changed = {k: v for k, v in (old.get("settings") or {}).items() if asdict(cfg).get(k) != v}
                was = ", ".join(filter(None, [was, ", ".join(f"{k}={v}" for k, v in changed.items())]))
            raise UserError(
                f"{out} was prepared with other settings ({was}); pass --restart to replace it or --out to use another folder"
            )
    elif out.exists() and any(p.name != PARTS for p in out.iterdir()):
        raise UserError(f"{out} is not empty and holds no prepared set; choose an empty or new --out folder")
    writable_dir(out)


def prepare(
    source,
    out,
    size: int = 224,
    fit: str = "crop",
    workers: int | None = None,
    shard_size: int = 256,
    val_percent: int = 5,
    test_percent: int = 5,
    min_side: int | None = None,
    max_pixels: int = MAX_PIXELS,
    gray_chroma: float = GRAY_CHROMA,
    restart: bool = False,
    progress: bool = True,
    timeout: float = FILE_TIMEOUT_S,
    log=print,
) -> dict:
    """Prepare ``source`` into ``out``; returns the ``prepared.json`` summary. Safe to re-run.

    Args:
        source: a folder (walked recursively), a ``.zip`` file, or ``"embedded"``.
        out: the prepared folder (created; must be empty or hold a prepared set).
        size: output side in pixels; images are ``size x size x 3`` uint8 RGB.
        fit: ``crop``, ``pad`` or ``squash`` (see the module docstring).
        workers: decoding processes (default: one per usable core; 0 decodes in this process).
        shard_size: images per shard (at 224 px, 256 images are 38 MB).
        val_percent, test_percent: split fractions, in percent of the content-hash space.
        min_side: shortest accepted side in pixels before resizing (default ``size // 2``).
    """
    from colorpast.data import shards, sources

    if fit not in FITS:
        raise UserError(f"unknown --fit {fit!r}; choose one of {', '.join(FITS)}")
    if size < 8:
        raise UserError(f"--size {size} is too small (at least 8)")
    if not (0 <= val_percent and 0 <= test_percent and val_percent + test_percent < 100):
        raise UserError("--val and --test must be percentages that leave some training data")
    if shard_size < 1:
        raise UserError("--shard-size must be at least 1")
    cfg = Settings(size, fit, val_percent, test_percent, gray_chroma, size // 2 if min_side is None else min_side, max_pixels)
    src = sources.EMBEDDED_SOURCE if str(source) == sources.EMBEDDED_SOURCE else str(Path(source).resolve())
    out = Path(out)
    finished = None if restart else _finished(out, cfg, src)
    if finished is not None and src != sources.EMBEDDED_SOURCE and not Path(src).exists():
        # A new Colab session: the set on Drive is complete, its source on the runtime's
        # disk is gone. Nothing to do, and nothing to download again.
        log(f"{out}: already prepared from {src} ({finished['files']} files); the source is gone, which is fine")
        return finished
    entries = sources.source_entries(source)  # UserError for a missing or empty source
    _check_folder(out, cfg, src, restart)
    folder = _Folder(out)
    rows, next_index = folder.committed_rows()
    done = {r["file"] for r in rows}
    kept_keys = {r["key"]: r["file"] for r in rows if r["status"] == "kept"}
    todo = [e for e in entries if e.name not in done]
    if workers is None:  # the cores this process may use (a container or taskset can allow fewer)
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

    def write_summary(complete: bool) -> dict:
        counts = Counter(r["split"] for r in rows if r["status"] == "kept")
        reasons = Counter(r["reason"].split(":")[0] for r in rows if r["status"] == "rejected")
        skipped = Counter(r["reason"].removeprefix(sources.SKIPPED).split(":")[0].split(" (")[0]
                          for r in rows if r["status"] == "skipped")
        summary = {
            "version": shards.FORMAT_VERSION,
            "size": cfg.size,
            "fit": cfg.fit,
            "counts": {s: counts.get(s, 0) for s in shards.SPLITS},
            "rejected": sum(reasons.values()),
            "rejected_by_reason": dict(sorted(reasons.items())),
            "skipped": sum(skipped.values()),  # hidden files, OS metadata, symlink loops: not photos
            "skipped_by_reason": dict(sorted(skipped.items())),
            "files": len(entries),
            "source": src,
            "shards": {s: [p.name for p in shards.shard_files(out, s)] for s in shards.SPLITS},
            "settings": asdict(cfg),
            "complete": complete,
        }
        _atomic_text(out / shards.SUMMARY, json.dumps(summary, indent=2) + "\n")
        return summary

    if not todo and (out / shards.MANIFEST).exists() and (out / shards.SUMMARY).exists():
        summary = json.loads((out / shards.SUMMARY).read_text())
        if summary.get("complete") and summary.get("files") == len(entries):
            log(f"{out}: all {len(entries)} files already prepared; nothing to do (pass --restart to redo)")
            return summary
    write_summary(complete=False)
    if done:
        log(f"resuming: {len(done)} of {len(entries)} files already prepared, {len(todo)} to go")

    buffers: dict[str, list] = {s: [] for s in shards.SPLITS}
    rejected: list[dict] = []

    def flush(split: str) -> None:
        buf = buffers[split]
        if not buf:
            return
        name = shards.shard_name(split, next_index[split])
        stem = name.removesuffix(shards.SUFFIX)
        part = [
            {"file": n, "status": "kept", "split": split, "shard": name, "index": i, "key": k, "reason": "", "note": note}
            for i, (n, k, _, note) in enumerate(buf)
        ]
        folder.write_part(stem, part)  # first the part, then the shard: see committed_rows
        _fault("kill-after-part", stem)
        shards.write_shard(out / name, [rgb for _, _, rgb, _ in buf])
        _fault("kill-after-shard", stem)
        rows.extend(part)
        next_index[split] += 1
        buf.clear()
        flush_rejected()

    def flush_rejected() -> None:
        if rejected:
            folder.write_part(f"rejected-{next_index['rejected']:05d}", rejected)
            rows.extend(rejected)
            next_index["rejected"] += 1
            rejected.clear()

    bar = _progress(len(todo), progress)
    t0 = time.time()
    n_kept = n_rej = 0
    try:
        # closing(): if writing a shard fails, the workers stop at once, not whenever the
        # traceback holding the generator is freed.
        with contextlib.closing(decode_all(todo, cfg, workers, timeout)) as results:
            for entry, result in results:
                if result[0] == "kept":
                    _, key, rgb, note = result
                    if key in kept_keys:
                        result = ("rejected", f"duplicate: same pixels as {kept_keys[key]}")
                    else:
                        kept_keys[key] = entry.name
                        split = cfg.split_of(key)
                        buffers[split].append((entry.name, key, rgb, note))
                        n_kept += 1
                        if len(buffers[split]) >= shard_size:
                            flush(split)
                if result[0] == "rejected":
                    status = "skipped" if result[1].startswith(sources.SKIPPED) else "rejected"
                    n_rej += status == "rejected"
                    rejected.append({"file": entry.name, "status": status, "split": "", "shard": "", "index": "", "key": "", "reason": result[1], "note": ""})
                    if len(rejected) >= 1000:
                        flush_rejected()
                bar.update(1)
                bar.set_postfix(kept=n_kept, rejected=n_rej, refresh=False)
        for split in shards.SPLITS:
            flush(split)
        flush_rejected()
    finally:
        bar.close()

    rows.sort(key=lambda r: r["file"])
    tmp = out / (shards.MANIFEST + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, out / shards.MANIFEST)
    summary = write_summary(complete=True)
    elapsed = time.time() - t0
    c = summary["counts"]
    why = ", ".join(f"{n} {r}" for r, n in summary["rejected_by_reason"].items())
    skips = ", ".join(f"{n} {r}" for r, n in summary["skipped_by_reason"].items())
    skip_text = f"skipped {summary['skipped']} ({skips}); " if skips else ""
    log(
        f"prepared {sum(c.values())} of {len(entries)} files into {out}: train {c['train']}, val {c['val']}, "
        f"test {c['test']}; rejected {summary['rejected']}{f' ({why})' if why else ''}; "
        f"{skip_text}"
        f"{len(todo)} decoded in {elapsed:.1f} s; reasons per file in {out / shards.MANIFEST}"
    )
    return summary


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="img", desc="prepare", disable=not enabled, smoothing=0.1)


HELP = "decode, validate and resize a folder, zip or the embedded sample into 224x224 training shards"
DESCRIPTION = (
    "Decode every file of SOURCE once (a folder with nested subfolders and mixed formats, a "
    ".zip file, or 'embedded'), apply EXIF orientation, convert to 8-bit RGB, drop "
    "black-and-white images, exact duplicates and every file that is not a usable photo "
    "(each listed with its reason in manifest.csv), resize to SIZE x SIZE, split "
    "train/val/test by content hash (90/5/5 by default) and write uint8 RGB NumPy shards. "
    "Uses every core; an interrupted run resumes where it stopped when re-run."
)


def add_arguments(p) -> None:
    p.add_argument("source", help="a folder, a .zip file, or 'embedded' (the photos shipped with scikit-image and matplotlib)")
    p.add_argument("--out", required=True, help="output folder, e.g. data/prepared/NAME")
    p.add_argument("--size", type=int, default=224, help="output side in pixels (default: 224)")
    p.add_argument("--fit", choices=FITS, default="crop", help="crop: short side to SIZE, centre crop (default); pad: long side to SIZE, black borders; squash: ignore the aspect ratio")
    p.add_argument("--workers", type=int, default=None, help="decoding processes (default: one per core)")
    p.add_argument("--shard-size", type=int, default=256, help="images per shard (default: 256)")
    p.add_argument("--val", type=int, default=5, dest="val_percent", help="validation percentage (default: 5)")
    p.add_argument("--test", type=int, default=5, dest="test_percent", help="test percentage (default: 5)")
    p.add_argument("--min-side", type=int, default=None, help="reject images whose shorter side is under this (default: SIZE / 2)")
    p.add_argument("--max-pixels", type=int, default=MAX_PIXELS, help=f"reject images over this many pixels (default: {MAX_PIXELS})")
    p.add_argument("--gray-chroma", type=float, default=GRAY_CHROMA, help=f"reject images whose mean Lab chroma is under this (default: {GRAY_CHROMA})")
    p.add_argument("--restart", action="store_true", help="discard what --out holds and prepare again")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    prepare(
        args.source,
        args.out,
        size=args.size,
        fit=args.fit,
        workers=args.workers,
        shard_size=args.shard_size,
        val_percent=args.val_percent,
        test_percent=args.test_percent,
        min_side=args.min_side,
        max_pixels=args.max_pixels,
        gray_chroma=args.gray_chroma,
        restart=args.restart,
        progress=not args.no_progress,
    )
    return 0
