"""The one atomic write and the one sha256 of the package (colorpast.fsutil)."""

import hashlib
import os

import pytest

from colorpast import fsutil


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "manifest.csv"
    target.write_text("old\n")
    with fsutil.atomic_write(target, newline="") as f:
        f.write("new\n")
        assert target.read_text() == "old\n"  # nothing visible until the block ends
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(fsutil.PARTIAL)]
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.csv"]


def test_atomic_write_error_keeps_the_old_file_and_leaves_no_partial(tmp_path):
    target = tmp_path / "config.json"
    target.write_text("{}")
    with pytest.raises(RuntimeError):
        with fsutil.atomic_write(target) as f:
            f.write("torn")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


def test_atomic_path_keeps_the_suffix_writers_check(tmp_path):
    with fsutil.atomic_path(tmp_path / "best.weights.h5") as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".weights.h5")
        tmp.write_bytes(b"w")
    assert (tmp_path / "best.weights.h5").read_bytes() == b"w"


def test_commit_fsyncs_file_then_folder(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def spy(fd):
        synced.append(os.path.isdir(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else None)
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    fsutil.write_text_atomic(tmp_path / "a.txt", "x")
    assert synced[-2:] == [False, True]  # the data, then the rename


def test_remove_partials_clears_files_only(tmp_path):
    (tmp_path / f"{fsutil.PARTIAL}123-history.csv").write_text("torn")
    (tmp_path / f"{fsutil.PARTIAL}000000042-123").mkdir()  # a checkpoint folder in progress
    (tmp_path / "history.csv").write_text("ok")
    fsutil.remove_partials(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{fsutil.PARTIAL}000000042-123", "history.csv"]


def test_sha256_file_matches_hashlib_across_chunks(tmp_path):
    data = os.urandom(3 * 1024 + 17)
    (tmp_path / "f").write_bytes(data)
    assert fsutil.sha256_file(tmp_path / "f", chunk=1024) == hashlib.sha256(data).hexdigest()
