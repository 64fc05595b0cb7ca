"""`colorpast prepare`: every kind of bad input, fits, splits, dedup, resume and idempotence.

The bad files are made here, with Pillow, OpenCV and a few hand-written bytes; the
shared ImageNet sample (when present) checks the black-and-white threshold on real photos.
"""

import argparse
import csv
import dataclasses
import inspect
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorpast import fsutil
from colorpast.commands import prepare as prepare_command
from colorpast.data import decode, ingest, shards, sources
from colorpast.data import prepare as prep
from colorpast.errors import UserError
from conftest import REPO, shared_folder


def photo(h, w, seed):
    """A smooth, colourful ``h x w x 3`` uint8 image (random colours, bicubic-upsampled)."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8))
    return np.asarray(small.resize((w, h), Image.Resampling.BICUBIC))


def save(path, rgb, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path, **kw)
    return path


def png_claiming(path, width, height):
    """A small PNG whose header claims ``width x height`` (a decompression bomb's header)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b""))


def manifest(out):
    with open(Path(out) / shards.MANIFEST, newline="") as f:
        return {r["file"]: r for r in csv.DictReader(f)}


def read_shards(out, split):
    """All images of a split as (key, ``H x W x 3`` uint8), read back with the shard reader."""
    if not shards.shard_files(out, split):
        return []
    images = shards.open_split(out, split)
    keys = {(r["shard"], int(r["index"])): r["key"] for r in manifest(out).values() if r["status"] == "kept"}
    return [(keys[(images.files[s].name, j)], np.array(images[i])) for i in range(len(images)) for s, j in [images.locate(i)]]


# name -> (status, reason prefix or note prefix), for every file made by bad_source below.
EXPECTED = {
    "good/a.jpg": ("kept", ""),
    "good/nested/deeper/b.png": ("kept", ""),
    "good/c.webp": ("kept", ""),
    "folder.jpg/d.jpg": ("kept", ""),  # a folder named like an image is walked, not read
    "exif_rotated.jpg": ("kept", ""),
    "cmyk.jpg": ("kept", "converted from CMYK"),
    "rgb16.png": ("kept", ""),  # 48-bit PNG: read as 8-bit RGB
    "rgba.png": ("kept", "converted from RGBA, transparency on white"),
    "palette.png": ("kept", "converted from P"),
    "photo.tif": ("kept", ""),
    "phone_mpo.jpg": ("kept", ""),  # a multi-picture JPEG, as phones write: the first frame
    "zz_duplicate_of_a.jpg": ("rejected", "duplicate"),  # of the first in name order: good/a.jpg
    "same_pixels_as_b.bmp": ("rejected", "duplicate"),
    "empty.jpg": ("rejected", "empty file"),
    "truncated.jpg": ("rejected", "truncated or corrupt"),
    "text_named.jpg": ("rejected", "not an image"),
    "notes.txt": ("rejected", "not an image"),
    "data.csv": ("rejected", "not an image"),
    "tiny_1x1.png": ("rejected", "too small"),
    "bomb_30000x30000.png": ("rejected", "too large"),
    "gray16.png": ("rejected", "black-and-white"),
    "gray_as_rgb.jpg": ("rejected", "black-and-white"),
    "gray_L.png": ("rejected", "black-and-white"),
    "animated.gif": ("rejected", "animated"),
    "loop.jpg": ("skipped", "skipped: symlink loop"),
    "good/back_to_top": ("skipped", "skipped: symlink loop"),  # a link to a folder above it
    "also_good": ("skipped", "skipped: folder already walked as good"),  # a second way into good/
    ".DS_Store": ("skipped", "skipped: hidden file"),
    ".hidden_photo.jpg": ("skipped", "skipped: hidden file"),
    "good/._a.jpg": ("skipped", "skipped: AppleDouble file"),
    "__MACOSX/good/._b.png": ("skipped", "skipped: AppleDouble file"),
    ".git/objects/pack.jpg": ("skipped", "skipped: in hidden folder .git"),
    "Thumbs.db": ("skipped", "skipped: system file"),
    "dangling.jpg": ("rejected", "broken symlink"),
    "pipe.jpg": ("rejected", "not a regular file"),
    "unreadable.jpg": ("rejected", "unreadable"),
}


@pytest.fixture(scope="module")
def bad_source(tmp_path_factory):
    """A nested folder with good photos in several formats and every kind of bad file."""
    src = tmp_path_factory.mktemp("bad") / "src"
    a = photo(240, 320, 1)
    save(src / "good/a.jpg", a, quality=95)
    b = photo(260, 230, 2)
    save(src / "good/nested/deeper/b.png", b)
    save(src / "good/c.webp", photo(300, 250, 3), quality=90)
    save(src / "folder.jpg/d.jpg", photo(250, 250, 4))
    # EXIF orientation 6 (rotate 90 degrees clockwise to display): stored 300 wide, left
    # half red and right half blue; displayed 200 wide, red on top and blue below.
    rot = np.zeros((200, 300, 3), np.uint8)
    rot[:, :150] = (220, 30, 30)
    rot[:, 150:] = (30, 30, 220)
    exif = Image.Exif()
    exif[0x0112] = 6
    save(src / "exif_rotated.jpg", rot, exif=exif.tobytes(), quality=95)
    Image.fromarray(photo(240, 240, 5)).convert("CMYK").save(src / "cmyk.jpg")
    import cv2

    cv2.imwrite(str(src / "rgb16.png"), photo(240, 250, 6)[..., ::-1].astype(np.uint16) * 257)
    rgba = np.dstack([photo(240, 240, 7), np.tile(np.linspace(0, 255, 240, dtype=np.uint8), (240, 1))])
    save(src / "rgba.png", rgba)
    Image.fromarray(photo(240, 240, 8)).quantize(64).save(src / "palette.png")
    save(src / "photo.tif", photo(250, 260, 9))
    Image.fromarray(photo(240, 240, 12)).save(src / "phone_mpo.jpg", "MPO", save_all=True, append_images=[Image.fromarray(photo(120, 120, 13))])
    shutil.copy(src / "good/a.jpg", src / "zz_duplicate_of_a.jpg")
    save(src / "same_pixels_as_b.bmp", b)  # another format, the same decoded pixels
    (src / "empty.jpg").write_bytes(b"")
    jpeg = (src / "good/a.jpg").read_bytes()
    (src / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (src / "text_named.jpg").write_text("this is not a photo\n")
    (src / "notes.txt").write_text("shot list\n")
    (src / "data.csv").write_text("a,b\n1,2\n")
    save(src / "tiny_1x1.png", np.zeros((1, 1, 3), np.uint8) + 200)
    png_claiming(src / "bomb_30000x30000.png", 30000, 30000)
    Image.fromarray((np.linspace(0, 65535, 240 * 240).reshape(240, 240)).astype(np.uint16)).save(src / "gray16.png")
    g = photo(240, 240, 10).mean(axis=2, keepdims=True).astype(np.uint8)
    save(src / "gray_as_rgb.jpg", np.repeat(g, 3, axis=2), quality=92)
    save(src / "gray_L.png", g[..., 0])
    frames = [Image.fromarray(photo(240, 240, 20 + i)) for i in range(3)]
    frames[0].save(src / "animated.gif", save_all=True, append_images=frames[1:], duration=100)
    os.symlink("loop.jpg", src / "loop.jpg")  # a link to itself: stat() fails with ELOOP
    os.symlink("does-not-exist.jpg", src / "dangling.jpg")
    os.symlink("..", src / "good/back_to_top")  # a folder loop: the walk must not recurse forever
    os.symlink("good", src / "also_good")
    # Metadata and hidden files, even ones that are photos, are listed as skipped, never decoded.
    (src / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    save(src / ".hidden_photo.jpg", photo(240, 240, 30))
    (src / "good/._a.jpg").write_bytes(b"\0\5\26\7AppleDouble")
    save(src / "__MACOSX/good/._b.png", photo(240, 240, 31))
    save(src / ".git/objects/pack.jpg", photo(240, 240, 32))
    (src / "Thumbs.db").write_bytes(b"thumbs")
    os.mkfifo(src / "pipe.jpg")  # opening a FIFO blocks until a writer comes: must not hang
    # Unreadable: root ignores chmod 000, so on Linux link to /proc/self/mem, which any
    # process (the worker included) fails to read at offset 0 with EIO.
    if Path("/proc/self/mem").exists():
        os.symlink("/proc/self/mem", src / "unreadable.jpg")
    else:
        save(src / "unreadable.jpg", photo(240, 240, 11))
        os.chmod(src / "unreadable.jpg", 0)
    return src


@pytest.fixture(scope="module")
def prepared(bad_source, tmp_path_factory):
    """The bad source prepared once with two worker processes (spawn), with the log kept."""
    out = tmp_path_factory.mktemp("prep") / "out"
    lines = []
    t0 = time.time()
    summary = prep.prepare(bad_source, out, workers=2, shard_size=3, progress=False, log=lines.append)
    return out, summary, lines, time.time() - t0


def test_walk_lists_every_file_once_and_survives_loops(bad_source):
    names = [e.name for e in sources.walk_folder(bad_source)]
    assert sorted(names) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_input_is_kept_or_rejected_with_its_reason(prepared, name):
    out, _, _, _ = prepared
    row = manifest(out)[name]
    status, prefix = EXPECTED[name]
    assert row["status"] == status, row
    if status != "kept":
        assert row["reason"].startswith(prefix), row
        assert row["split"] == row["shard"] == ""
    else:
        assert row["note"].startswith(prefix), row
        assert row["split"] in shards.SPLITS and row["shard"].startswith(row["split"] + "-")
        assert len(row["key"]) == 64


def test_summary_counts_and_shards_agree_with_the_manifest(prepared):
    out, summary, lines, _ = prepared
    rows = manifest(out).values()
    kept = [r for r in rows if r["status"] == "kept"]
    assert len(kept) == sum(1 for s, _ in EXPECTED.values() if s == "kept")
    on_disk = json.loads((out / shards.SUMMARY).read_text())
    assert on_disk == summary and summary["complete"] is True
    assert summary["size"] == 224 and summary["fit"] == "crop" and summary["version"] == shards.FORMAT_VERSION
    skipped = [r for r in rows if r["status"] == "skipped"]
    assert summary["skipped"] == len(skipped) == sum(1 for s, _ in EXPECTED.values() if s == "skipped")
    assert summary["rejected"] == len(rows) - len(kept) - len(skipped) == len(EXPECTED) - len(kept) - len(skipped)
    assert summary["skipped_by_reason"] == {"AppleDouble file": 2, "folder already walked as good": 1, "hidden file": 2,
                                            "in hidden folder .git": 1, "symlink loop": 2, "system file": 1}
    for split in shards.SPLITS:
        images = read_shards(out, split)
        assert summary["counts"][split] == len(images)
        assert sorted(k for k, _ in images) == sorted(r["key"] for r in kept if r["split"] == split)
        assert all(img.shape == (224, 224, 3) and img.dtype == np.uint8 for _, img in images)
    # The summary line names the totals and every reason.
    (last,) = [line for line in lines if line.startswith("prepared ")]
    assert f"prepared {len(kept)} of {len(EXPECTED)} files" in last
    for reason in ("black-and-white", "duplicate", "too large", "not an image", "unreadable", "skipped 9 (",
                   "hidden file", "symlink loop", "AppleDouble"):
        assert reason in last


def test_finishes_quickly_despite_the_fifo_and_the_bomb(prepared):
    assert prepared[3] < 60  # the FIFO was never opened, the bomb never decoded


def test_exif_orientation_is_applied(prepared):
    out, _, _, _ = prepared
    row = manifest(out)["exif_rotated.jpg"]
    (img,) = [img for k, img in read_shards(out, row["split"]) if k == row["key"]]
    top, bottom = img[:100].reshape(-1, 3).mean(0), img[124:].reshape(-1, 3).mean(0)
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0], (top, bottom)


def test_conversions_keep_the_colours(prepared, bad_source):
    out, _, _, _ = prepared
    rows = manifest(out)
    by_key = {k: img for s in shards.SPLITS for k, img in read_shards(out, s)}
    expected = Image.fromarray(photo(240, 250, 6)).resize((224, 224), Image.Resampling.LANCZOS, box=(5, 0, 245, 240))
    got = by_key[rows["rgb16.png"]["key"]].astype(int)
    assert np.abs(got - np.asarray(expected, int)).mean() < 1.0  # 16 bits -> 8 bits, not garbage
    rgba = by_key[rows["rgba.png"]["key"]].astype(int)
    assert rgba[:, :2].min() >= 245  # alpha about 0 on the left edge: composited on white


def test_prepare_workers_never_import_tensorflow(tmp_path):
    # A user script with TensorFlow imported at its top and no __main__ guard: 'spawn'
    # would re-run it in every worker (importing TensorFlow, and starting pools from
    # the workers, which multiprocessing refuses) unless prepare hides it. pytest's own
    # main module would not show this, hence the script.
    script = tmp_path / "user_script.py"
    script.write_text(
        "import tensorflow\n"
        "from colorpast.data import ingest, prepare as prep\n"
        "pool = ingest._new_pool(2, prep.Settings())\n"
        "print([pool.submit(ingest._worker_has_tensorflow).result(timeout=60) for _ in range(4)])\n"
        "pool.shutdown()\n"
    )
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[False, False, False, False]"


def test_a_file_that_hangs_times_out_and_the_run_goes_on(tmp_path):
    fifo = tmp_path / "hang.jpg"
    os.mkfifo(fifo)
    good = save(tmp_path / "good.png", photo(240, 240, 1))
    entries = [sources.Entry("hang.jpg", str(fifo)), sources.Entry("good.png", str(good))]  # walk's FIFO check bypassed
    results = dict((e.name, r) for e, r in ingest.decode_all(entries, prep.Settings(), workers=1, timeout=3))
    assert results["hang.jpg"][0] == "rejected" and results["hang.jpg"][1].startswith("timed out")
    assert results["good.png"][0] == "kept"


def test_a_file_that_kills_its_worker_is_rejected_and_the_run_goes_on(tmp_path):
    from crashing_entry import CrashingEntry  # importable by the spawned workers too

    good = [save(tmp_path / f"{i}.png", photo(240, 240, i)) for i in range(3)]
    entries = [sources.Entry("0.png", str(good[0])), CrashingEntry("crash.jpg", str(good[0]))]
    entries += [sources.Entry(f"{i}.png", str(good[i])) for i in (1, 2)]
    results = {e.name: r for e, r in ingest.decode_all(entries, prep.Settings(), workers=1)}
    assert results["crash.jpg"] == ("rejected", "decoder crashed: the worker process died twice on this file")
    assert [results[f"{i}.png"][0] for i in range(3)] == ["kept"] * 3


@pytest.mark.parametrize("fit", decode.FITS)
def test_fits(tmp_path, fit):
    src = tmp_path / "src"
    wide = np.zeros((150, 300, 3), np.uint8) + np.array([40, 160, 60], np.uint8)  # green
    wide[:, :10] = (255, 0, 0)  # red left edge: only crop cuts it away
    save(src / "wide.png", wide)
    out = tmp_path / fit
    prep.prepare(src, out, fit=fit, size=64, min_side=32, workers=0, progress=False, log=lambda *_: None)
    ((_, img),) = [x for s in shards.SPLITS for x in read_shards(out, s)]
    assert img.shape == (64, 64, 3)
    red_left = (img[24:40, 0, 0] > 200) & (img[24:40, 0, 1] < 60)
    if fit == "pad":
        assert img[:8].max() == 0 and img[-8:].max() == 0  # black bands above and below
        assert red_left.all()
    elif fit == "squash":
        assert red_left.all() and img[:8].max() > 0
    else:
        assert not red_left.any()


def test_split_is_by_content_so_adding_files_moves_nothing(tmp_path):
    src = tmp_path / "src"
    for i in range(40):
        save(src / f"{i:02d}.png", photo(120, 130, i))
    quiet = dict(size=32, min_side=32, workers=0, progress=False, log=lambda *_: None)
    prep.prepare(src, tmp_path / "before", **quiet)
    for i in range(40, 60):
        save(src / "more" / f"{i:02d}.png", photo(120, 130, i))
    prep.prepare(src, tmp_path / "after", **quiet)
    before, after = manifest(tmp_path / "before"), manifest(tmp_path / "after")
    assert {n: (r["key"], r["split"]) for n, r in before.items()} == {n: (after[n]["key"], after[n]["split"]) for n in before}
    def same(rows):  # shard names differ: the 20 new files go into new shards
        return {n: (r["status"], r["split"], r["key"], r["reason"]) for n, r in rows.items()}

    splits = [r["split"] for r in after.values()]
    assert splits.count("train") > splits.count("val") + splits.count("test")
    # The rule itself: first 8 hex digits mod 100, 90 / 5 / 5.
    cfg = prep.Settings()
    assert cfg.split_of(f"{89:08x}") == "train" and cfg.split_of(f"{90:08x}") == "val" and cfg.split_of(f"{99:08x}") == "test"
    # Re-running into the first folder only decodes the 20 new files.
    lines = []
    prep.prepare(src, tmp_path / "before", **{**quiet, "log": lines.append})
    assert any("resuming: 40 of 60 files already prepared, 20 to go" in line for line in lines)
    assert same(manifest(tmp_path / "before")) == same(after)


def test_zip_and_embedded_sources(tmp_path, bad_source):
    import zipfile

    src = tmp_path / "photos.zip"
    with zipfile.ZipFile(src, "w") as zf:
        zf.write(bad_source / "good/a.jpg", "trip/day1/a.jpg")
        zf.write(bad_source / "good/nested/deeper/b.png", "trip/b.png")
        zf.writestr("trip/readme.txt", "hello")
        zf.writestr("__MACOSX/trip/._a.jpg", "resource fork")
        zf.writestr("trip/.DS_Store", "finder")
    rows = manifest(_quiet_prepare(src, tmp_path / "z"))
    assert {n: r["status"] for n, r in rows.items()} == {
        "trip/day1/a.jpg": "kept", "trip/b.png": "kept", "trip/readme.txt": "rejected",
        "__MACOSX/trip/._a.jpg": "skipped", "trip/.DS_Store": "skipped"}
    assert rows["__MACOSX/trip/._a.jpg"]["reason"] == "skipped: AppleDouble file (macOS metadata)"
    assert rows["trip/.DS_Store"]["reason"] == "skipped: hidden file"
    summary = json.loads((_quiet_prepare("embedded", tmp_path / "e", size=64) / shards.SUMMARY).read_text())
    assert sum(summary["counts"].values()) == len(sources.embedded_sample()) >= 5
    assert summary["source"] == "embedded"


def test_a_finished_set_is_found_before_its_source_is_looked_for(tmp_path):
    """A new Colab session: the set on Drive is complete, the zip on the runtime's disk gone."""
    import zipfile

    src = tmp_path / "photos.zip"
    with zipfile.ZipFile(src, "w") as zf:
        for i in range(4):
            buf = __import__("io").BytesIO()
            Image.fromarray(photo(120, 120, 40 + i)).save(buf, "PNG")
            zf.writestr(f"p{i}.png", buf.getvalue())
    out = _quiet_prepare(src, tmp_path / "out", size=32, min_side=32)
    src.unlink()
    lines = []
    summary = prep.prepare(src, out, size=32, min_side=32, workers=0, progress=False, log=lines.append)
    assert summary["complete"] and summary["files"] == 4
    assert lines == [f"{out}: already prepared from {src.resolve()} (4 files); the source is gone, which is fine"]
    with pytest.raises(UserError, match="does not exist"):  # other settings: the source is needed, and missing
        prep.prepare(src, out, size=48, min_side=32, workers=0, progress=False)


def _quiet_prepare(src, out, **kw):
    prep.prepare(src, out, workers=0, progress=False, log=lambda *_: None, **kw)
    return out


def test_empty_missing_and_wrong_sources_are_one_line_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.txt").write_text("x")
    for src, words in [("empty", "contains no files"), ("missing", "does not exist"), ("file.txt", "neither a folder nor a zip")]:
        with pytest.raises(UserError, match=words) as e:
            prep.prepare(tmp_path / src, tmp_path / "out", workers=0, progress=False)
        assert "\n" not in str(e.value)


def test_other_settings_need_restart_and_rerun_is_idempotent(tmp_path, bad_source):
    src = tmp_path / "src"
    for i in range(6):
        save(src / f"{i}.png", photo(120, 120, i))
    out = _quiet_prepare(src, tmp_path / "out", size=32, min_side=32)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    lines = []
    prep.prepare(src, out, size=32, min_side=32, workers=0, progress=False, log=lines.append)
    assert lines == [f"{out}: all 6 files already prepared; nothing to do (pass --restart to redo)"]
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()} == before
    with pytest.raises(UserError, match=r"other settings \(size=32.*--restart"):
        _quiet_prepare(src, out, size=48, min_side=32)
    _quiet_prepare(src, out, size=48, min_side=32, restart=True)
    assert json.loads((out / shards.SUMMARY).read_text())["size"] == 48
    with pytest.raises(UserError, match="not empty"):
        _quiet_prepare(src, src)


def test_notebooks_are_told_their_parameters_not_the_command_lines_options(tmp_path, monkeypatch):
    from colorpast import errors

    src = tmp_path / "src"
    for i in range(3):
        save(src / f"{i}.png", photo(60, 60, i))
    out = _quiet_prepare(src, tmp_path / "out", size=32, min_side=16)
    monkeypatch.setattr(errors, "AUDIENCE", "notebook")
    lines = []
    prep.prepare(src, out, size=32, min_side=16, workers=0, progress=False, log=lines.append)
    assert lines == [f"{out}: all 3 files already prepared; nothing to do (set RESTART = True to redo)"]
    with pytest.raises(UserError, match=r"other settings \(size=32\); set RESTART = True to replace it, or choose another NAME$"):
        _quiet_prepare(src, out, size=48, min_side=16)
    with pytest.raises(UserError, match="^SIZE 4 is too small"):
        _quiet_prepare(src, tmp_path / "o2", size=4)


def test_a_disk_too_full_is_one_line_before_anything_is_written(tmp_path, monkeypatch):
    """Each kept photo takes SIZE x SIZE x 3 bytes: 2,000 photos at 224 px are about 0.4 GB,
    refused on a disk with 0.2 GB free, before a file is written; a set that fits goes on."""
    src = tmp_path / "src"
    for i in range(4):
        save(src / f"{i}.png", photo(60, 60, i))
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(prep.shutil, "disk_usage", lambda p: usage._replace(free=200_000_000))
    monkeypatch.setattr(prep.sources, "source_entries", lambda s, _real=prep.sources.source_entries: _real(s) * 500)
    out = tmp_path / "out"
    with pytest.raises(UserError) as e:
        _quiet_prepare(src, out, size=224)
    assert str(e.value) == (f"{out}: preparing 2000 photos at 224 px needs about 0.4 GB and its disk has 0.2 GB free; "
                            "free some space (on Colab: Google Drive's storage), or pass a smaller --size or another --out")
    assert [p.name for p in out.rglob("*")] == [ingest.PARTS]  # its empty folder of parts: nothing else
    monkeypatch.undo()
    monkeypatch.setattr(prep.shutil, "disk_usage", lambda p: usage._replace(free=200_000_000))
    assert json.loads((_quiet_prepare(src, out, size=224, min_side=16) / shards.SUMMARY).read_text())["files"] == 4


def test_the_cli_and_prepare_take_their_defaults_from_settings(monkeypatch):
    p = argparse.ArgumentParser()
    prepare_command.add_arguments(p)
    calls = []
    monkeypatch.setattr(prepare_command, "prepare", lambda *a, **kw: calls.append((a, kw)))
    assert prepare_command.run(p.parse_args(["photos", "--out", "prepared"])) == 0
    ((args, kw),) = calls
    assert args == ("photos", "prepared")
    fields = [f.name for f in dataclasses.fields(prep.Settings)]
    assert prep.Settings(**{f: kw[f] for f in fields}) == prep.Settings()
    signature = inspect.signature(prep.prepare).parameters
    assert {f: signature[f].default for f in fields} == {f: kw[f] for f in fields}
    assert kw["shard_size"] == signature["shard_size"].default == prep.SHARD_SIZE
    assert kw["workers"] is signature["workers"].default is None  # one per usable core
    assert (kw["restart"], kw["progress"]) == (False, True)
    # Help texts quote the defaults they apply.
    helps = {a.dest: a.help for a in p._actions}
    assert f"default: {prep.Settings.size})" in helps["size"] and f"default: {prep.SHARD_SIZE})" in helps["shard_size"]
    assert f"default: {prep.Settings.gray_chroma})" in helps["gray_chroma"]


def test_settings_derive_min_side_and_refuse_what_prepare_cannot_use():
    assert prep.Settings().min_side == 112 and prep.Settings(size=64).min_side == 32
    assert prep.Settings(size=64, min_side=40).min_side == 40
    for bad, words in [({"fit": "stretch"}, "unknown --fit"), ({"size": 4}, "too small"),
                       ({"val_percent": 60, "test_percent": 40}, "leave some training data")]:
        with pytest.raises(UserError, match=words):
            prep.Settings(**bad)


def test_the_names_prepare_offered_before_the_split_are_still_there():
    moved = {decode: ["FITS", "GRAY_CHROMA", "MAX_BYTES", "MAX_PIXELS", "content_key", "decode_entry", "mean_chroma"],
             ingest: ["FILE_TIMEOUT_S", "PARTS", "decode_all"], shards: ["MANIFEST_FIELDS"]}
    for module, names in moved.items():
        for name in names:
            assert getattr(prep, name) is getattr(module, name), name
    assert set(prep.__all__) == {n for names in moved.values() for n in names} | {"Settings", "prepare", "SHARD_SIZE"}


def test_the_prepare_command_line_loads_no_image_or_deep_learning_library():
    code = ("import sys, colorpast.commands.prepare\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'PIL', 'cv2', 'tqdm', 'matplotlib', 'skimage', 'tensorflow', 'keras'}))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_shard_names_are_parsed_by_the_shard_format_alone():
    assert shards.split_and_index("train-00002") == ("train", 2)
    assert shards.split_and_index("test-00000") == ("test", 0)
    for other in ("rejected-00000", "train-2", "train-00002.npy", f"{fsutil.PARTIAL}12-train-00002", "extra-00001"):
        assert shards.split_and_index(other) is None


_KILLED_WRITE = """
import os, signal, sys
from colorpast.data import shards

def rows():
    yield shards.manifest_row("new.jpg", "rejected", reason="written by the killed run")
    os.kill(os.getpid(), signal.SIGKILL)  # mid-write: the temporary file open, the target untouched

shards.write_manifest(sys.argv[1], rows())
"""


def test_a_manifest_write_killed_midway_keeps_the_old_file_and_a_rerun_clears_its_temporary(tmp_path):
    src = tmp_path / "src"
    for i in range(4):
        save(src / f"{i}.png", photo(120, 120, 50 + i))
    out = _quiet_prepare(src, tmp_path / "out", size=32, min_side=32, shard_size=2)
    targets = [out / shards.MANIFEST, out / ingest.PARTS / "train-00000.csv"]
    before = {t: t.read_bytes() for t in targets}
    for target in targets:
        r = subprocess.run([sys.executable, "-c", _KILLED_WRITE, str(target)], capture_output=True, text=True,
                           timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert r.returncode == -signal.SIGKILL, r.stderr
        assert target.read_bytes() == before[target]
        assert [p for p in target.parent.iterdir() if p.name.startswith(fsutil.PARTIAL)], "no temporary left behind"
    lines = []
    prep.prepare(src, out, size=32, min_side=32, shard_size=2, workers=0, progress=False, log=lines.append)
    assert lines == [f"{out}: all 4 files already prepared; nothing to do (pass --restart to redo)"]
    for folder in (out, out / ingest.PARTS):
        assert not [p for p in folder.iterdir() if p.name.startswith(fsutil.PARTIAL)]
    assert {t: t.read_bytes() for t in targets} == before


def test_a_temporary_is_not_taken_for_content_by_a_fresh_prepare(tmp_path):
    """A run killed while writing its first prepared.json leaves only a temporary file."""
    src = tmp_path / "src"
    save(src / "a.png", photo(120, 120, 60))
    out = tmp_path / "out"
    out.mkdir()
    (out / f"{fsutil.PARTIAL}123-{shards.SUMMARY}").write_text('{"version": 2')
    summary = prep.prepare(src, out, size=32, min_side=32, workers=0, progress=False, log=lambda *_: None)
    assert summary["complete"] and sum(summary["counts"].values()) == 1
    assert not [p for p in out.iterdir() if p.name.startswith(fsutil.PARTIAL)]


def _children(pid):
    """Process ids whose parent is ``pid`` (Linux /proc; empty elsewhere)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _cli(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "colorpast", "prepare", *map(str, args)], env=env, **kw)


@pytest.mark.slow
def test_killed_run_resumes_without_losing_or_repeating_images(tmp_path):
    src = tmp_path / "src"
    for i in range(300):
        save(src / f"{i // 100}" / f"{i:03d}.jpg", photo(240, 260, 1000 + i), quality=90)
    out = tmp_path / "out"
    args = (src, "--out", out, "--workers", "1", "--shard-size", "4", "--no-progress")
    proc = _cli(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not list(out.glob("train-0000[3-9].npy")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    workers = _children(proc.pid)
    assert workers, "no worker process found"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not json.loads((out / shards.SUMMARY).read_text())["complete"], "the run finished before it was killed"
    committed = len(list((out / ingest.PARTS).glob("train-*.csv")))
    assert committed >= 1
    # The orphaned worker processes notice and exit (within about a second).
    deadline = time.time() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "worker processes outlived their parent"
    r = _cli(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = r.communicate(timeout=300)
    assert r.returncode == 0, stderr
    assert "resuming:" in stdout and "to go" in stdout
    resumed = manifest(out)
    clean = manifest(_quiet_prepare(src, tmp_path / "clean", shard_size=4))
    strip = lambda rows: {n: (r["status"], r["split"], r["key"], r["reason"]) for n, r in rows.items()}  # noqa: E731
    assert strip(resumed) == strip(clean)
    keys = [k for s in shards.SPLITS for k, _ in read_shards(out, s)]
    assert len(keys) == len(set(keys)) == sum(1 for r in resumed.values() if r["status"] == "kept")
    # Idempotent: a third run decodes nothing and writes nothing.
    again = _cli(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, _ = again.communicate(timeout=120)
    assert again.returncode == 0 and "nothing to do" in stdout


@pytest.mark.slow
def test_killed_at_its_worst_moments_resumes_with_every_file_once(tmp_path):
    """SIGKILL (by fault injection) after a manifest part is written and before its
    shard lands, then after a shard lands and before the rejected files seen so far are
    written; duplicates and rejected files lie on both sides of each kill."""
    src = tmp_path / "src"
    for i in range(24):
        save(src / f"p{i:02d}.jpg", photo(240, 260, 2000 + i), quality=90)
    # Names sort before, among and after the photos, so some of each kind are decoded
    # before each kill and some after.
    shutil.copy(src / "p01.jpg", src / "p01_dup_early.jpg")
    shutil.copy(src / "p03.jpg", src / "p20_dup_of_p03.jpg")
    shutil.copy(src / "p22.jpg", src / "z_dup_of_p22.jpg")
    (src / "a_notes.txt").write_text("shot list\n")
    (src / "p05_empty.jpg").write_bytes(b"")
    save(src / "p12_tiny.png", np.zeros((8, 8, 3), np.uint8) + 200)
    (src / "p18_text.jpg").write_text("not a photo\n")
    (src / "zz_notes.txt").write_text("end\n")
    files = sorted(str(p.relative_to(src)) for p in src.rglob("*") if p.is_file())
    out = tmp_path / "out"
    args = (src, "--out", out, "--workers", "1", "--shard-size", "3", "--no-progress", "--size", "64")

    def run(fault=None):
        env = {**os.environ, "PYTHONPATH": str(REPO), **({"COLORPAST_FAULT": fault} if fault else {})}
        return subprocess.run([sys.executable, "-m", "colorpast", "prepare", *map(str, args)], env=env,
                              capture_output=True, text=True, timeout=300)

    r = run("kill-after-part:train-00002")
    assert r.returncode == -signal.SIGKILL, r.stderr[-2000:]
    assert (out / ingest.PARTS / "train-00002.csv").exists() and not (out / "train-00002.npy").exists()
    r = run("kill-after-shard:train-00004")
    assert r.returncode == -signal.SIGKILL, r.stderr[-2000:]
    assert "resuming:" in r.stdout
    assert (out / "train-00004.npy").exists() and not (out / "train-00005.npy").exists()
    # What is committed: the rejected parts, and each kept part whose shard landed. Only the rest is decoded again.
    parts = (out / ingest.PARTS).glob("*.csv")
    committed = [p for p in parts if p.stem.startswith("rejected-") or (out / f"{p.stem}.npy").exists()]
    assert any(p.stem.startswith("rejected-") for p in committed)
    done = sum(len(list(csv.DictReader(open(p, newline="")))) for p in committed)
    r = run()
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"resuming: {done} of {len(files)} files already prepared, {len(files) - done} to go" in r.stdout

    with open(out / shards.MANIFEST, newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["file"] for r in rows) == files  # every file, exactly once
    clean = manifest(_quiet_prepare(src, tmp_path / "clean", shard_size=3, size=64))
    strip = lambda rows: {n: (r["status"], r["split"], r["key"], r["reason"]) for n, r in rows.items()}  # noqa: E731
    assert strip(manifest(out)) == strip(clean)  # duplicates dropped, rejections with their reasons
    reasons = {n: r["reason"].split(":")[0] for n, r in manifest(out).items() if r["status"] == "rejected"}
    assert reasons == {"p01_dup_early.jpg": "duplicate", "p20_dup_of_p03.jpg": "duplicate", "z_dup_of_p22.jpg": "duplicate",
                       "a_notes.txt": "not an image", "p05_empty.jpg": "empty file", "p12_tiny.png": "too small",
                       "p18_text.jpg": "not an image", "zz_notes.txt": "not an image"}
    # Read back with colorpast's own reader: each kept image in exactly one shard.
    from colorpast.evaluate import load_photos

    names = [n for split in shards.SPLITS if shards.shard_files(out, split) for n, _ in load_photos(out, split)]
    kept = sorted(n for n, r in manifest(out).items() if r["status"] == "kept")
    assert sorted(names) == kept and len(kept) == 24


@pytest.mark.slow
def test_black_and_white_threshold_on_the_shared_imagenet_sample():
    folder = shared_folder("imagenet1k-256")
    cfg = prep.Settings()
    entries = sources.walk_folder(folder)
    exact_gray = set()
    for e in entries:
        rgb = np.asarray(Image.open(e.path).convert("RGB"))
        if (rgb.max(axis=2) == rgb.min(axis=2)).all():
            exact_gray.add(e.name)
    # ../shared/data/README.md says 23; decoded with Pillow, 24 are exactly R=G=B.
    assert len(exact_gray) >= 23
    bw = {e.name for e, r in ingest.decode_all(entries, cfg, workers=2) if r[0] == "rejected" and r[1].startswith("black-and-white")}
    # Also caught: a near-gray photo (channel spread at most 2, on 96 pixels) and a gray street scene whose
    # only colour is a small watermark that the centre crop cuts away.
    assert bw == exact_gray | {"n03532672_hook.jpg", "n03141823_crutch.jpg"}


def test_black_and_white_threshold_on_legacy_photos():
    folder = shared_folder("legacy-bw")
    results = {e.name: r for e, r in ingest.decode_all(sources.walk_folder(folder), prep.Settings(), workers=0)}
    gray = {n for n, r in results.items() if r[0] == "rejected" and r[1].startswith("black-and-white")}
    # Pure gray scans are caught; the two sepia-toned prints are not (documented at GRAY_CHROMA).
    assert gray == set(results) - {"1870sSphinx.jpg", "1880sBrooklynBridge.jpg"}


def test_several_sources_make_one_set_each_photo_named_by_its_source(tmp_path):
    """`colorpast prepare A B --out ...`: A's and B's photos in one set, named A/... and
    B/..., each in the split its pixels give it alone (content hash), so a set's test
    photos stay its test photos when another set joins it."""
    a, b = tmp_path / "imagenet1k-256", tmp_path / "extra.zip"
    for i in range(6):
        save(a / f"sub/{i}.jpg", photo(80, 96, i))
    inner = tmp_path / "zipped"
    for i in range(4):
        save(inner / f"{i}.png", photo(90, 90, 100 + i))
    shutil.make_archive(str(tmp_path / "extra"), "zip", inner)
    r = subprocess.run([sys.executable, "-m", "colorpast", "prepare", str(a), str(b), "--out", str(tmp_path / "both"),
                        "--size", "64", "--workers", "0", "--no-progress", "--val", "20", "--test", "30"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    both = manifest(tmp_path / "both")
    assert sorted(both) == sorted([f"imagenet1k-256/sub/{i}.jpg" for i in range(6)] + [f"extra/{i}.png" for i in range(4)])
    alone = prep.prepare(a, tmp_path / "alone", size=64, workers=0, progress=False, val_percent=20, test_percent=30,
                         log=lambda *_: None)
    assert alone["counts"]["train"] + alone["counts"]["val"] + alone["counts"]["test"] == 6
    for row in manifest(tmp_path / "alone").values():
        assert both[f"imagenet1k-256/{row['file']}"]["split"] == row["split"]
    summary = json.loads((tmp_path / "both" / shards.SUMMARY).read_text())
    assert summary["source"] == f"{a.resolve()}{sources.SEPARATOR}{b.resolve()}" and sum(summary["counts"].values()) == 10
    # Two sources of one name would give two photos one name: refused in one line.
    (tmp_path / "x" / "imagenet1k-256").mkdir(parents=True)
    save(tmp_path / "x" / "imagenet1k-256" / "0.jpg", photo(80, 96, 50))
    r = subprocess.run([sys.executable, "-m", "colorpast", "prepare", str(a), str(tmp_path / "x" / "imagenet1k-256"),
                        "--out", str(tmp_path / "clash")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "two sources are named imagenet1k-256" in r.stderr and "Traceback" not in r.stderr
