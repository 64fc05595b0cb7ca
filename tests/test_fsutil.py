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


@pytest.fixture
def unlinked(monkeypatch):
    """(name, size at unlink) of every file deleted while the test runs."""
    real, seen = os.unlink, []

    def unlink(path, *, dir_fd=None):
        seen.append((os.path.basename(path), os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_size))
        return real(path, dir_fd=dir_fd)

    monkeypatch.setattr(os, "unlink", unlink)
    return seen


def test_discard_empties_every_file_before_deleting_it(tmp_path, unlinked):
    """On Google Drive a deleted file sits in the Trash, counting against the quota for 30
    days, unless it was emptied first."""
    (tmp_path / "run/checkpoints/step-3").mkdir(parents=True)
    (tmp_path / "run/checkpoints/step-3/model.weights.h5").write_bytes(b"w" * 1000)
    (tmp_path / "run/model.keras").write_bytes(b"m" * 1000)
    fsutil.discard(tmp_path / "run")
    fsutil.discard(tmp_path / "never-there")
    assert not (tmp_path / "run").exists()
    assert sorted(unlinked) == [("model.keras", 0), ("model.weights.h5", 0)]


def test_re_preparing_empties_the_old_shards_before_deleting_them(tmp_path, unlinked):
    from colorpast.data import shards
    from prepared_fixture import make_prepared

    make_prepared(tmp_path / "set", {"train": 6, "val": 2}, size=16, per_shard=4)
    shards.remove_set(tmp_path / "set")
    assert not list((tmp_path / "set").iterdir())
    names = [name for name, _ in unlinked]
    assert any(n.endswith(shards.SUFFIX) for n in names) and shards.SUMMARY in names
    assert all(size == 0 for _, size in unlinked), unlinked


def test_the_data_is_fsynced_before_the_rename_and_the_folder_after_it(tmp_path, monkeypatch):
    """The order that makes a write atomic across a power cut: the temporary file's data
    durable, then the rename, then the folder (which holds the rename) durable. A data
    fsync moved after the rename would let a crash leave the new name on a torn file."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        path = os.readlink(f"/proc/self/fd/{fd}")
        events.append(("fsync", "folder" if os.path.isdir(path) else os.path.basename(path)))
        return real_fsync(fd)

    def replace(src, dst, **kw):
        events.append(("rename", os.path.basename(src), os.path.basename(dst)))
        return real_replace(src, dst, **kw)

    if not os.path.exists("/proc/self/fd"):
        pytest.fail("needs /proc/self/fd to name an fd's file (Linux)")
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    fsutil.write_text_atomic(tmp_path / "config.json", "{}")
    tmp = fsutil.partial_path(tmp_path / "config.json").name
    assert events == [("fsync", tmp), ("rename", tmp, "config.json"), ("fsync", "folder")]
    events.clear()
    (tmp_path / "ckpt.tmp").mkdir()  # a checkpoint folder: every file, then the folder itself, then the rename
    (tmp_path / "ckpt.tmp/model.weights.h5").write_bytes(b"w")
    fsutil.commit(tmp_path / "ckpt.tmp", tmp_path / "step-3")
    assert events == [("fsync", "model.weights.h5"), ("fsync", "folder"), ("rename", "ckpt.tmp", "step-3"),
                      ("fsync", "folder")]
