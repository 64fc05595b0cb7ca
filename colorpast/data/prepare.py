"""``colorpast prepare``: any folder, zip or the embedded sample -> 224x224 uint8 RGB shards.

Every file is decoded once, in worker processes (every core), and either kept or
rejected with a reason (``colorpast.data.decode`` says what is kept and how it is
resized); exact duplicates (same decoded pixels as a kept file) are rejected too. Kept
images are split by content hash: the first 8 hex digits of the SHA-256 of the decoded
pixels, as an integer mod 100: below 100 - val - test -> train, then val, then test
(90/5/5 by default). A file's split depends on its pixels alone, so adding files to a
source never moves existing ones between splits.

Output (format in ``colorpast.data.shards``): shards of ``shard_size`` images per split,
``manifest.csv`` (one row per source file) and ``prepared.json``. The run is resumable
(``colorpast.data.ingest``): a re-run of the same command skips every file already
committed and only decodes the rest, and a finished folder is left as it is.

``Settings`` (``colorpast.data.settings``, offered here too) is the one home of the
defaults: ``prepare()`` and ``colorpast prepare`` (``colorpast.commands.prepare``) read
theirs from it.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from colorpast.data import shards, sources
from colorpast.data.decode import FITS, GRAY_CHROMA, MAX_BYTES, MAX_PIXELS, content_key, decode_entry, mean_chroma
from colorpast.data.ingest import FILE_TIMEOUT_S, PARTS, Folder, decode_all, decode_into
from colorpast.data.settings import Settings
from colorpast.errors import UserError, say
from colorpast.fsutil import PARTIAL, discard, writable_dir

# prepare, Settings and SHARD_SIZE, and the names this module offered before decoding and
# ingest moved to their own modules, for callers that import them from here.
__all__ = ["Settings", "prepare", "SHARD_SIZE", "FITS", "GRAY_CHROMA", "MAX_BYTES", "MAX_PIXELS", "FILE_TIMEOUT_S",
           "MANIFEST_FIELDS", "PARTS", "content_key", "decode_all", "decode_entry", "mean_chroma"]
MANIFEST_FIELDS = shards.MANIFEST_FIELDS

SHARD_SIZE = 256  # images per shard: 38 MB at 224 px


def prepare(source, out, size: int = Settings.size, fit: str = Settings.fit, workers: int | None = None,
            shard_size: int = SHARD_SIZE, val_percent: int = Settings.val_percent,
            test_percent: int = Settings.test_percent, min_side: int | None = Settings.min_side,
            max_pixels: int = Settings.max_pixels, gray_chroma: float = Settings.gray_chroma,
            restart: bool = False, progress: bool = True, timeout: float = FILE_TIMEOUT_S, log=print) -> dict:
    """Prepare ``source`` into ``out``; returns the ``prepared.json`` summary. Safe to re-run.

    Args:
        source: a folder (walked recursively), a ``.zip`` file, or ``"embedded"``; or a list of
            them, prepared as one set (``sources.source_entries`` names each photo).
        out: the prepared folder (created; must be empty or hold a prepared set).
        size, fit, val_percent, test_percent, min_side, max_pixels, gray_chroma: see ``Settings``.
        workers: decoding processes (default: one per usable core; 0 decodes in this process).
        shard_size: images per shard.
        restart: discard what ``out`` holds and prepare again.
    """
    cfg = Settings(size, fit, val_percent, test_percent, gray_chroma, min_side, max_pixels)
    if shard_size < 1:
        raise UserError("--shard-size must be at least 1")
    src, out = sources.source_id(source), Path(out)
    finished = None if restart else _finished(out, cfg, src)
    if finished is not None and not sources.source_exists(src):
        # A new Colab session: the set on Drive is complete, its source on the runtime's
        # disk is gone. Nothing to do, and nothing to download again.
        log(f"{out}: already prepared from {src} ({finished['files']} files); the source is gone, which is fine")
        return finished
    entries = sources.source_entries(source)  # UserError for a missing or empty source
    _check_folder(out, cfg, src, restart)
    folder = Folder(out, shard_size)  # what an earlier run committed
    done = folder.files()
    todo = [e for e in entries if e.name not in done]
    if not todo and finished is not None and finished["files"] == len(entries) and (out / shards.MANIFEST).exists():
        log(f"{out}: all {len(entries)} files already prepared; nothing to do ({say('pass --restart', 'set RESTART = True')} to redo)")
        return finished
    check_free_space(out, len(todo), cfg.size)
    _write_summary(out, cfg, src, len(entries), folder.rows, complete=False)
    if done:
        log(f"resuming: {len(done)} of {len(entries)} files already prepared, {len(todo)} to go")
    t0 = time.time()
    decode_into(folder, todo, cfg, workers, timeout, progress)
    folder.write_manifest()
    summary = _write_summary(out, cfg, src, len(entries), folder.rows, complete=True)
    log(_report(summary, out, len(todo), time.time() - t0))
    return summary


SPACE_MARGIN = 64 * 2**20  # bytes: the manifest, the summary, a shard being written


def check_free_space(out: Path, files: int, size: int) -> None:
    """Refuse, before anything is written, to prepare ``files`` photos at ``size`` px into
    ``out`` when its disk cannot hold them (each kept photo is ``size`` x ``size`` x 3
    bytes): on Colab a free Drive of 15 GB, shared with mail, holds Flickr30k's 4.7 GB
    only when it is mostly empty, and a full Drive fails mid-shard."""
    need = files * size * size * 3 + SPACE_MARGIN
    free = shutil.disk_usage(out).free
    if need > free:
        raise UserError(
            f"{out}: preparing {files} photos at {size} px needs about {_gb(need)} and its disk has {_gb(free)} free; "
            "free some space (on Colab: Google Drive's storage), or " + say("pass a smaller --size or another --out",
                                                                             "choose a smaller SIZE"))


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def _finished(out: Path, cfg: Settings, source: str) -> dict | None:
    """The summary of ``out`` when it is complete and was made from ``source`` with ``cfg``."""
    old = shards.summary_or_none(out) or {}
    same = old.get("version") == shards.FORMAT_VERSION and old.get("settings") == asdict(cfg) and old.get("source") == source
    return old if same and old.get("complete") else None


def _check_folder(out: Path, cfg: Settings, source: str, restart: bool) -> None:
    """Refuse to mix settings or sources in one prepared folder; ``restart`` clears ours."""
    summary = out / shards.SUMMARY
    if restart and summary.exists():
        shards.remove_set(out)
        if (out / PARTS).exists():
            for p in (out / PARTS).iterdir():
                discard(p)
    if summary.exists():
        old = shards.summary_or_none(out)
        if old is None:
            raise UserError(f"{summary} is unreadable; {say('pass --restart', 'set RESTART = True')} to prepare {out} again")
        wanted = {"version": shards.FORMAT_VERSION, "settings": asdict(cfg), "source": source}
        diff = [k for k in wanted if old.get(k) != wanted[k]]
        if diff:
            was = ", ".join(f"{k}={old.get(k)}" for k in diff if k != "settings")
            if "settings" in diff:
                changed = {k: v for k, v in (old.get("settings") or {}).items() if asdict(cfg).get(k) != v}
                was = ", ".join(filter(None, [was, ", ".join(f"{k}={v}" for k, v in changed.items())]))
            raise UserError(
                f"{out} was prepared with other settings ({was}); " + say(
                    "pass --restart to replace it or --out to use another folder",
                    "set RESTART = True to replace it, or choose another NAME")
            )
    elif out.exists() and any(p.name != PARTS and not p.name.startswith(PARTIAL) for p in out.iterdir()):
        raise UserError(f"{out} is not empty and holds no prepared set; "
                        + say("choose an empty or new --out folder", "choose another NAME (the set lands in data/prepared/NAME)"))
    writable_dir(out)


def _write_summary(out: Path, cfg: Settings, source: str, files: int, rows: list[dict], complete: bool) -> dict:
    """Write and return ``prepared.json``: counts from the manifest ``rows`` committed so far."""
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
        "files": files,
        "source": source,
        "shards": {s: [p.name for p in shards.shard_files(out, s)] for s in shards.SPLITS},
        "settings": asdict(cfg),
        "complete": complete,
    }
    shards.write_summary(out, summary)
    return summary


def _report(summary: dict, out: Path, decoded: int, seconds: float) -> str:
    """The closing line: what was kept, rejected and skipped, and why."""
    c = summary["counts"]
    why = ", ".join(f"{n} {r}" for r, n in summary["rejected_by_reason"].items())
    skips = ", ".join(f"{n} {r}" for r, n in summary["skipped_by_reason"].items())
    skip_text = f"skipped {summary['skipped']} ({skips}); " if skips else ""
    return (
        f"prepared {sum(c.values())} of {summary['files']} files into {out}: train {c['train']}, val {c['val']}, "
        f"test {c['test']}; rejected {summary['rejected']}{f' ({why})' if why else ''}; "
        f"{skip_text}"
        f"{decoded} decoded in {seconds:.1f} s; reasons per file in {out / shards.MANIFEST}"
    )
