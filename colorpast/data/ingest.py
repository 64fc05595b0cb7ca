"""Decode many files in parallel into a prepared folder, resumably: the worker pool and the
folder's committed state.

Files are decoded (``colorpast.data.decode``) in worker processes, one per core, in
order, so duplicates are resolved the same way on every run. A file that hangs is
rejected after ``FILE_TIMEOUT_S``; a decoder crash costs its worker, not the run.

Resume: kept images are committed a shard at a time, each with its part of the
manifest (``.parts/train-00002.csv`` beside ``train-00002.npy``), and rejected files a
part at a time (``.parts/rejected-00000.csv``). A re-run reads the committed parts,
drops whatever an interrupted run left half-done, and decodes only the rest.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from colorpast import fsutil
from colorpast.data import decode, shards, sources
from colorpast.data.settings import Settings

FILE_TIMEOUT_S = 120.0  # one file decoding longer than this is rejected, its worker killed
PARTS = ".parts"
REJECTED = "rejected-"  # parts of rejected and skipped files: rejected-00000.csv, ...
REJECTED_PER_PART = 1000


def decode_into(folder: Folder, entries, cfg: Settings, workers: int | None = None,
                timeout: float = FILE_TIMEOUT_S, progress: bool = True) -> None:
    """Decode ``entries`` and commit each to ``folder``: kept images into shards of their
    split (by content), exact duplicates of a kept image and failures as rejected."""
    bar = _progress(len(entries), progress)
    n_kept = n_rej = 0
    try:
        # closing(): if writing a shard fails, the workers stop at once, not whenever the
        # traceback holding the generator is freed.
        with contextlib.closing(decode_all(entries, cfg, workers, timeout)) as results:
            for entry, result in results:
                if result[0] == "kept" and result[1] in folder.kept_keys:
                    result = ("rejected", f"duplicate: same pixels as {folder.kept_keys[result[1]]}")
                if result[0] == "kept":
                    _, key, rgb, note = result
                    folder.add_kept(entry.name, key, cfg.split_of(key), rgb, note)
                    n_kept += 1
                else:
                    n_rej += folder.add_rejected(entry.name, result[1]) == "rejected"
                bar.update(1)
                bar.set_postfix(kept=n_kept, rejected=n_rej, refresh=False)
        folder.flush()
    finally:
        bar.close()


def _progress(total: int, enabled: bool):
    # tqdm.auto takes 0.05 s to import, and every colorpast command line imports this module.
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="img", desc="prepare", disable=not enabled, smoothing=0.1)


class Folder:
    """A prepared folder's committed state (the manifest parts and their shards), and the
    images and rows waiting to be committed.

    Opening one removes what an interrupted run left uncommitted: a kept part counts only
    with its shard beside it (the part is written first, the shard second), a shard only
    with its part, and temporary files not at all.
    """

    def __init__(self, out, shard_size: int):
        self.out = Path(out)
        self.parts = self.out / PARTS
        self.shard_size = shard_size
        self.rows: list[dict] = []  # committed manifest records
        self.next_index: Counter = Counter()  # per split, and "rejected": the next part's number
        self._kept: dict[str, list] = {s: [] for s in shards.SPLITS}  # (file, key, rgb, note) per split
        self._rejected: list[dict] = []
        self._read_committed()
        self.kept_keys = {r["key"]: r["file"] for r in self.rows if r["status"] == "kept"}

    def files(self) -> set[str]:
        """The source files already committed."""
        return {r["file"] for r in self.rows}

    def add_kept(self, file: str, key: str, split: str, rgb, note: str) -> None:
        self.kept_keys[key] = file
        self._kept[split].append((file, key, rgb, note))
        if len(self._kept[split]) >= self.shard_size:
            self._commit_shard(split)

    def add_rejected(self, file: str, reason: str) -> str:
        """Record a file that is not kept; returns its status: skipped (not a photo) or rejected."""
        status = "skipped" if reason.startswith(sources.SKIPPED) else "rejected"
        self._rejected.append(shards.manifest_row(file, status, reason=reason))
        if len(self._rejected) >= REJECTED_PER_PART:
            self._commit_rejected()
        return status

    def flush(self) -> None:
        """Commit every image and row still waiting."""
        for split in shards.SPLITS:
            self._commit_shard(split)
        self._commit_rejected()

    def write_manifest(self) -> None:
        """``manifest.csv``: every committed row, by file name."""
        shards.write_manifest(self.out / shards.MANIFEST, sorted(self.rows, key=lambda r: r["file"]))

    def _read_committed(self) -> None:
        self.parts.mkdir(parents=True, exist_ok=True)
        fsutil.remove_partials(self.out)
        fsutil.remove_partials(self.parts)
        for p in sorted(self.parts.glob("*.csv")):
            shard = shards.split_and_index(p.stem)
            if p.stem.startswith(REJECTED):
                kind, index = "rejected", int(p.stem.removeprefix(REJECTED))
            elif shard is not None and (self.out / shards.shard_name(*shard)).exists():
                kind, index = shard
            else:
                fsutil.discard(p)  # its shard never landed: its images are decoded again
                continue
            self.rows.extend(shards.read_manifest(p))
            self.next_index[kind] = max(self.next_index[kind], index + 1)
        for split in shards.SPLITS:
            for s in shards.shard_files(self.out, split):
                if not self._part(s.stem).exists():
                    fsutil.discard(s)  # written, but its manifest part never was: redo its images

    def _part(self, stem: str) -> Path:
        return self.parts / f"{stem}.csv"

    def _commit_shard(self, split: str) -> None:
        """The waiting images of ``split`` as its next shard; then the rejected rows seen so far."""
        kept = self._kept[split]
        if not kept:
            return
        name = shards.shard_name(split, self.next_index[split])
        stem = Path(name).stem
        part = [shards.manifest_row(file, "kept", split, name, i, key, note=note)
                for i, (file, key, _, note) in enumerate(kept)]
        shards.write_manifest(self._part(stem), part)  # first the part, then the shard: see _read_committed
        _fault("kill-after-part", stem)
        shards.write_shard(self.out / name, [rgb for _, _, rgb, _ in kept])
        _fault("kill-after-shard", stem)
        self.rows.extend(part)
        self.next_index[split] += 1
        kept.clear()
        self._commit_rejected()

    def _commit_rejected(self) -> None:
        if self._rejected:
            shards.write_manifest(self._part(f"{REJECTED}{self.next_index['rejected']:05d}"), self._rejected)
            self.rows.extend(self._rejected)
            self.next_index["rejected"] += 1
            self._rejected = []


def _fault(point: str, stem: str) -> None:
    """Fault injection for the test suite: ``COLORPAST_FAULT=kill-after-part:train-00002``
    (the manifest part written, its shard not yet) or ``kill-after-shard:STEM`` (the shard
    landed, the rejected files seen so far not yet written) SIGKILLs this process there."""
    if os.environ.get("COLORPAST_FAULT") == f"{point}:{stem}":
        os.kill(os.getpid(), signal.SIGKILL)


# --------------------------------------------------------------------------- the worker pool


def decode_all(entries, cfg: Settings, workers: int | None = None, timeout: float = FILE_TIMEOUT_S):
    """Yield ``(entry, result)`` for every entry, in order, decoding in ``workers`` processes.

    ``workers=None`` uses every core this process may use; ``workers=0`` decodes in this
    process (for debugging). In order, so duplicates are resolved the same way on every
    run. A file that takes longer than ``timeout`` seconds is rejected and its pool
    replaced; if a worker dies (a decoder crash), the files in flight are retried in a
    fresh pool and a file in flight during two crashes is rejected.
    """
    if workers is None:
        workers = _usable_cores()
    if workers == 0:
        decode.configure(cfg.max_pixels)
        for e in entries:
            yield e, decode.decode_entry(e, cfg)
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
            queue.append((e, pool.submit(decode.decode_entry, e, cfg), 0))

    def restart(crashed: bool):
        nonlocal pool
        _kill_pool(pool)
        pool = _new_pool(workers, cfg)
        items = [(e, c + crashed) for e, _, c in queue]
        queue.clear()
        for e, c in items:
            queue.append((e, pool.submit(decode.decode_entry, e, cfg), c))

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


def _usable_cores() -> int:
    """The cores this process may use (a container or taskset can allow fewer than the machine has)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _new_pool(workers: int, cfg: Settings) -> ProcessPoolExecutor:
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


# --------------------------------------------------------------------------- worker side
# These run in the worker processes, which import this module, colorpast.data.decode
# (Pillow, NumPy, OpenCV) and colorpast.data.settings (to unpickle Settings), never
# TensorFlow: forking a process that has TensorFlow loaded can deadlock, and a
# TensorFlow import per worker would cost seconds and memory.


def _init_worker(max_pixels: int) -> None:
    _exit_with_parent()
    decode.configure(max_pixels)


def _exit_with_parent() -> None:
    """End this worker when the parent dies (killed, Colab runtime reset).

    A pool worker holds both ends of its task queue, so it would wait for tasks forever
    after a SIGKILL of the parent; a daemon thread checks once a second that the parent
    is still there.
    """
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def _worker_has_tensorflow() -> bool:
    """For the tests: whether TensorFlow got imported into a worker."""
    return "tensorflow" in sys.modules
