"""Films coloured (colorpast.video.carry, .film, .measure, .evaluate and the commands), on
small films the tests make: flicker carried away, hints held through a shot and dropped
at the cut, the sound and the size kept, a stopped film resumed, bad input in one line."""

import json
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest
from app_fixture import nothing_at_hand  # noqa: F401

from colorpast import colorizer
from colorpast.models import registry
from colorpast.video import carry, film, measure
from conftest import cli
from film_fixture import decode_all, moving_square, register_jittery, register_spreading, streams, texture, write_clip


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The suite's small untrained model, built and saved as a .keras file: (model, path)."""
    from small_model import register_small

    name = register_small("test_film_small")
    keras.utils.set_random_seed(3)
    model = registry.spec(name).builder()
    path = tmp_path_factory.mktemp("film-model") / "small.keras"
    model.save(path)
    yield model, path
    registry._REGISTRY.pop(name)


@pytest.fixture(scope="module")
def spreading():
    name = register_spreading()
    yield registry.spec(name).builder()
    registry._REGISTRY.pop(name)


@pytest.fixture(scope="module")
def jittery():
    name = register_jittery()
    yield registry.spec(name).builder()
    registry._REGISTRY.pop(name)


def flickering(n, shape=(96, 128), grain=4.0, exposure=0.03, seed=0):
    """A still shot as an old film shows it: fresh grain on every frame and the exposure
    flickering by a few percent, so every frame differs a little though nothing moves."""
    base = texture(shape, seed, blur=2.0).astype(np.float32) * 0.5 + 60
    rng = np.random.default_rng(seed)
    return [np.clip(base * (1 + rng.normal(0, exposure)) + rng.normal(0, grain, (*shape, 1)), 0, 255).astype(np.uint8)
            for _ in range(n)]


def test_frame_by_frame_is_the_photo_colorizer_on_each_frame(small):
    model, _ = small
    frames, _ = moving_square(3, shape=(48, 64), side=12)
    c = carry.FilmColorizer(model, (48, 64), size=32, carry=carry.FRAME_BY_FRAME)
    for i, f in enumerate(frames):
        photo = np.rint(colorizer.colorize(f, model, size=32) * 255)
        assert np.abs(c(i, f).astype(int) - photo).max() <= 1
    assert c.counts == {"frames": 3, "model": 3, "cuts": 0}


def test_colour_carried_along_the_flow_flickers_far_less_than_frame_by_frame(jittery):
    """A model whose guess follows the exposure flickers with it, frame by frame; colour
    carried along the flow follows what it is on instead, and the temporal measure sees
    the difference (the true video's own is the floor)."""
    frames = flickering(16)
    scores = measure.FilmScores()
    ways = {"frame by frame": carry.FRAME_BY_FRAME, "carried": carry.DEFAULT}
    colour = {k: carry.FilmColorizer(jittery, (96, 128), size=48, carry=c) for k, c in ways.items()}
    for i, f in enumerate(frames):
        scores.add(f, {k: c(i, f) for k, c in colour.items()})
    s = scores.summary()
    assert s["frame by frame"]["temporal"] > 3 * s["truth"]["temporal"]
    assert s["carried"]["temporal"] < 0.25 * s["frame by frame"]["temporal"]
    assert abs(s["carried"]["ciede2000"] - s["frame by frame"]["ciede2000"]) < 1.0
    assert colour["carried"].counts["model"] == 6 and s["truth"]["pairs"] == 15  # frames 0, 3, ... 15


def test_colour_starts_over_at_a_cut(small):
    model, _ = small
    frames, _ = moving_square(12, shape=(96, 160), side=24, cut_at=7)
    c = carry.FilmColorizer(model, (96, 160), size=96, carry=carry.Carry(every=4, keep=0.8))
    abs_ = [c.colour(i, f)[0].copy() for i, f in enumerate(frames)]
    assert c.counts["cuts"] == 1 and c.counts["model"] == 4  # frames 0, 4, 7 (the cut) and 11
    fresh = carry.FilmColorizer(model, (96, 160), size=96)
    np.testing.assert_allclose(abs_[7], fresh.colour(7, frames[7])[0], atol=1e-5)  # nothing of the shot before


def test_a_hint_holds_on_a_moving_square_for_50_frames_and_not_across_the_cut(spreading):
    """A red point put on the square at frame 0: 50 frames (and 50 px) later the square is
    red there, the background far from it is not; after the cut at frame 60 the square goes
    on moving, but the hint belongs to the shot before: no red on it."""
    frames, corners = moving_square(64, shape=(192, 320), side=40, step=(1, 0), start=(30, 60), cut_at=60)
    given = [{"frame": 0, "x": 50, "y": 80, "color": "red"}]
    from colorpast.video import points

    c = carry.FilmColorizer(spreading, (192, 320), size=192, points=points.load(given, (192, 320), 64))
    out = {}
    for i, f in enumerate(frames):
        ab, _ = c.colour(i, f)
        out[i] = ab
    x, y = corners[50][0] + 20, corners[50][1] + 20
    a_red = points.load(given, (192, 320))[0].ab[0]
    assert out[50][y, x, 0] > 0.8 * a_red  # still red on the square ...
    assert abs(out[50][y, x - 45, 0]) < 2 and abs(out[50][20, 300, 0]) < 2  # ... and not where it was, nor far away
    assert c.tracker.positions() == []  # ended at the cut
    x, y = corners[63][0] + 20, corners[63][1] + 20
    assert abs(out[63][y, x, 0]) < 2


def test_film_hints_need_a_model_that_takes_them(small):
    model, _ = small
    from colorpast.errors import UserError
    from colorpast.video import points

    with pytest.raises(UserError, match="takes no colour hints"):
        carry.FilmColorizer(model, (48, 64), points=points.load([{"frame": 0, "x": 1, "y": 1, "color": "red"}], (48, 64)))


@pytest.mark.slow
@pytest.mark.parametrize("suffix, sound, kept", [(".mp4", "aac", "aac"), (".webm", "vorbis", "aac"),
                                                 (".avi", "pcm_s16le", "aac"), (".mov", None, None)])
def test_colorize_a_film_at_its_size_and_rate_with_its_sound(small, tmp_path, suffix, sound, kept):
    _, model_file = small
    frames, _ = moving_square(15, shape=(48, 64), side=12)
    clip = write_clip(tmp_path / f"old{suffix}", frames, fps=12.5 if suffix == ".avi" else 24, sound=sound)
    r = cli("colorize", clip, "--model", model_file, "--out", tmp_path / "out", "--size", "32")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out/old.mp4"
    assert f"coloured {clip} into {out} (15 frames, 5 by the model, 0 cut(s))" in r.stdout
    s = streams(out)
    assert s["video"][:4] == ("h264", 64, 48, 15) and float(s["video"][4]) == (12.5 if suffix == ".avi" else 24)
    if kept:
        assert s["audio"][0] == kept and abs(s["audio"][1] - 15 / float(s["video"][4])) < 0.15
    else:
        assert "audio" not in s
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["old.mp4"]  # the pieces are gone
    # the same film coloured through the API, frame by frame in memory: the film holds those frames
    model = colorizer.load_model(str(model_file))
    c = carry.FilmColorizer(model, (48, 64), size=32)
    expected = [c(i, f) for i, f in enumerate(decode_all(clip))]
    got = decode_all(out)

    def smooth(a):  # what H.264 keeps of a 64 px film of noise: its 5 x 5 means
        return cv2.blur(a.astype(np.float32), (5, 5))

    assert len(got) == 15 and np.mean([np.abs(smooth(a) - smooth(b)).mean() for a, b in zip(got, expected)]) < 4


@pytest.mark.slow
def test_a_stopped_film_goes_on_where_it_stopped_and_is_never_half_written(small, tmp_path, monkeypatch):
    """Stopped at frame 23 (pieces of 10 frames): no output yet, two pieces kept; run again,
    it resumes at frame 20 and the film is the one an unbroken run makes."""
    _, model_file = small
    monkeypatch.setattr(film, "PIECE_SECONDS", 1)
    frames, _ = moving_square(34, shape=(96, 160), side=24, step=(2, 0), cut_at=25)
    clip = write_clip(tmp_path / "reel.mkv", frames, fps=10, sound="aac")
    args = ("colorize", clip, "--model", model_file, "--size", "96", "--every", "3")
    whole = cli(*args, "--out", tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    monkeypatch.setenv("COLORPAST_FAULT", "sigint-at-frame:23")
    stopped = cli(*args, "--out", tmp_path / "out")
    assert stopped.returncode == 130 and "the same command goes on from there" in stopped.stderr
    parts = tmp_path / "out/.reel.mp4.parts"
    assert not (tmp_path / "out/reel.mp4").exists()
    assert sorted(p.name for p in parts.iterdir()) == ["job.json", "piece-00000.mp4", "piece-00001.mp4",
                                                       "state-00000.npz", "state-00001.npz"]
    monkeypatch.delenv("COLORPAST_FAULT")
    again = cli(*args, "--out", tmp_path / "out")
    assert again.returncode == 0, again.stderr
    assert "resuming at frame 20 of 34 (2 piece(s) of 10 frames done)" in again.stderr
    assert "(34 frames, 12 by the model, 1 cut(s))" in again.stdout == whole.stdout.replace(str(tmp_path / "whole"),
                                                                                         str(tmp_path / "out"))
    a, b = decode_all(tmp_path / "whole/reel.mp4"), decode_all(tmp_path / "out/reel.mp4")
    # The same frames, to a level's rounding on a few pixels (two unbroken runs in one
    # process differ as much, now and then): each frame far nearer its twin than its neighbours.
    def diff(x, y):
        return float(np.abs(x.astype(int) - y).mean())

    assert len(a) == len(b) == 34
    for i in range(34):
        near = [diff(b[i], a[j]) for j in (i - 1, i + 1) if 0 <= j < 34]
        assert diff(b[i], a[i]) < 0.5 * min(near), (i, diff(b[i], a[i]), near)
    assert not parts.exists() and streams(tmp_path / "out/reel.mp4")["audio"][0] == "aac"
    # other settings: the pieces of the first are not reused
    monkeypatch.setenv("COLORPAST_FAULT", "sigint-at-frame:15")
    cli(*args, "--out", tmp_path / "other")
    monkeypatch.delenv("COLORPAST_FAULT")
    r = cli("colorize", clip, "--model", model_file, "--size", "96", "--every", "1", "--out", tmp_path / "other")
    assert r.returncode == 0 and "made from another film or with other settings: starting over" in r.stderr


@pytest.mark.slow
def test_a_damaged_frame_is_named_the_film_goes_on_and_a_preview_is_its_start(small, tmp_path):
    _, model_file = small
    frames, _ = moving_square(20, shape=(48, 64), side=12)
    frames = [np.clip(f.astype(int) + 25 * (i % 2), 0, 255).astype(np.uint8) for i, f in enumerate(frames)]  # each frame unlike the one before
    clip = tmp_path / "damaged.avi"
    write_clip(clip, frames, fps=10, sound="pcm_s16le")
    from test_video_files import _corrupt_packet

    _corrupt_packet(clip, 5)
    r = cli("colorize", clip, "--model", model_file, "--out", tmp_path / "out", "--size", "32")
    assert r.returncode == 1
    assert "damaged.avi: frame 5 did not decode (Invalid data found when processing input): the frame before is " \
           "shown in its place" in r.stderr and "Traceback" not in r.stderr
    assert "1 frame(s) did not decode" in r.stdout
    got = decode_all(tmp_path / "out/damaged.mp4")
    def diff(a, b):
        return np.abs(a.astype(int) - b).mean()

    assert len(got) == 20 and diff(got[4], got[5]) < 1 < 2 < diff(got[3], got[4])  # frame 4 again, not a frame lost
    r = cli("colorize", clip, "--model", model_file, "--out", tmp_path / "out", "--size", "32", "--preview", "0.75")
    s = streams(tmp_path / "out/damaged-preview.mp4")
    assert s["video"][3] == 8 and abs(s["audio"][1] - 0.8) < 0.1  # ceil(0.75 s x 10 fps) frames, the sound as long


@pytest.mark.slow
def test_what_is_not_a_film_and_other_mistakes_are_one_line(small, tmp_path, monkeypatch, nothing_at_hand):
    _, model_file = small
    frames, _ = moving_square(6, shape=(48, 64), side=12)
    clip = write_clip(tmp_path / "ok.mp4", frames, fps=10)
    (tmp_path / "notes.mp4").write_text("not a film")
    r = cli("colorize", tmp_path / "notes.mp4", clip, "--model", model_file, "--out", tmp_path / "out", "--size", "32")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "skipped " + str(tmp_path / "notes.mp4") + ": not a video FFmpeg can read" in r.stderr
    assert (tmp_path / "out/ok.mp4").is_file()
    hints = tmp_path / "h.json"
    hints.write_text(json.dumps([{"frame": 2, "x": 1, "y": 1, "color": "red"}]))
    monkeypatch.chdir(tmp_path)  # no hint model at hand: none shipped (nothing_at_hand), fetched or trained here
    for args, message in [
        ((clip, "--hints", hints), "takes no colour hints"),
        ((clip, clip, "--hints", hints), "--hints belong to one photo or film; 2 were given"),
        ((clip, "--preview", "0"), "--preview is the seconds of each film's start"),
        ((clip, "--every", "0"), "the model colours every N-th frame, N from 1"),
        ((clip, "--out", clip), "cannot use"),
    ]:
        extra = () if "--out" in args else ("--out", tmp_path / "o2")
        r = cli("colorize", *args, "--model", model_file, "--size", "32", *extra)
        assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = cli("colorize", clip, "--model", model_file, "--out", tmp_path, "--size", "32")  # its own folder
    assert r.returncode == 2 and "its colour would replace it: give another output folder" in r.stderr


@pytest.mark.slow
def test_a_folder_of_photos_and_films_and_film_hints_by_frame(small, tmp_path):
    """A folder with a photo and two films of one name: all coloured, each its own output,
    no film called "not a photo"; then a film's hints, by frame number, through the command."""
    _, model_file = small
    src = tmp_path / "album"
    (src / "reel").mkdir(parents=True)
    frames, _ = moving_square(6, shape=(48, 64), side=12)
    write_clip(src / "reel/a.mp4", frames, fps=10)
    write_clip(src / "reel/a.mkv", frames, fps=10)
    from PIL import Image

    Image.fromarray(frames[0]).save(src / "photo.png")
    r = cli("colorize", src, "--model", model_file, "--out", tmp_path / "out", "--size", "32")
    assert r.returncode == 0, r.stderr
    assert "colorized 1 photo(s)" in r.stdout and "not a photo" not in r.stderr
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()) == [
        "photo.png", "reel/a-mkv.mp4", "reel/a-mp4.mp4"]
    # a film's hints by frame number, through the command, to a model that takes hints
    from small_model import register_small

    name = register_small("test_film_small_hints", hints=True)
    try:
        hint_file = tmp_path / "hints.keras"
        registry.spec(name).builder().save(hint_file)
        hints = tmp_path / "h.json"
        hints.write_text(json.dumps([{"frame": 1, "x": 10, "y": 20, "color": "#ff0000"}]))
        r = cli("colorize", src / "reel/a.mp4", "--model", hint_file, "--out", tmp_path / "h", "--hints", hints,
                "--size", "32")
        assert r.returncode == 0, r.stderr
        assert "(6 frames, 3 by the model, 0 cut(s))" in r.stdout  # 0, 1 (its hint begins), 4 (every 3rd after)
        hints.write_text(json.dumps([{"frame": 6, "x": 10, "y": 20, "color": "#ff0000"}]))
        r = cli("colorize", src / "reel/a.mp4", "--model", hint_file, "--out", tmp_path / "h", "--hints", hints)
        assert r.returncode == 2 and "point 1 is on frame 6, but the film has 6 frames (0 to 5)" in r.stderr
    finally:
        registry._REGISTRY.pop(name)


@pytest.mark.slow
def test_evaluate_on_a_film_measures_flicker_beside_the_truth(small, tmp_path):
    _, model_file = small
    frames, _ = moving_square(12, shape=(144, 240), side=32, step=(2, 1), cut_at=8)
    clip = write_clip(tmp_path / "colour.mp4", frames, fps=10)
    r = cli("evaluate", "--data", clip, "--models", model_file, "--out", tmp_path / "report", "--size", "32")
    assert r.returncode == 0, r.stderr
    table = (tmp_path / "report/films.md").read_text()
    label = str(model_file)
    for row in ("| truth | ", " | 1.00 | - | 0.00 | ", "| gray | 0.00 | 0.00 | - | ", f"| {label} (frame by frame) | ",
                f"| {label} | "):
        assert row in table, table
    assert "colour.mp4: 12 frames, 1 cut(s)" in table
    rows = list(__import__("csv").DictReader(open(tmp_path / "report/films.csv")))
    by = {r["method"]: r for r in rows}
    assert float(by["truth"]["ciede2000"]) == 0 and float(by["truth"]["temporal"]) > 0
    assert int(by[label]["model_frames"]) < int(by[f"{label} (frame by frame)"]["model_frames"]) == 12
    from PIL import Image

    assert Image.open(tmp_path / "report/frames.png").size[0] > 400
    r = cli("evaluate", "--data", clip, "--models", model_file, "--out", tmp_path / "r2", "--aged")
    assert r.returncode == 2 and "--aged: for photos" in r.stderr
    # A black-and-white film beside it: its flicker is measured, but it has no colour to score against
    films = tmp_path / "films"
    films.mkdir()
    Path(clip).rename(films / "colour.mp4")
    gray = [np.repeat(f.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8) for f in frames]
    write_clip(films / "old.mp4", gray, fps=10)
    r = cli("evaluate", "--data", films, "--models", model_file, "--out", tmp_path / "r3", "--size", "32")
    assert r.returncode == 0, r.stderr
    table = (tmp_path / "r3/films.md").read_text()
    assert "### mean over 2 film(s) (1 in colour: the figures against the truth are theirs)" in table
    section = table.split("### old.mp4: 12 frames, 1 cut(s), black and white: no true colour to score against")[1]
    row = next(ln for ln in section.splitlines() if ln.startswith(f"| {label} | "))
    assert row.split(" | ")[2] == "-" and row.split(" | ")[4] == "-"  # × truth's and CIEDE2000: none


@pytest.mark.slow
def test_the_film_benchmarks_run_and_the_gpu_script_runs_on_jax_without_tensorflow(tmp_path):
    """benchmarks/bench_film.py's quality, cuts and figure on a made-up film, and
    gpu_film.sh's speed run as on the GPU machines: JAX, TensorFlow blocked (the figures
    are recorded in benchmarks/RESULTS.md, not tested)."""
    import subprocess
    import sys

    from colorpast import models
    from conftest import REPO
    from test_backends import BLOCK_TENSORFLOW

    frames, _ = moving_square(14, shape=(144, 240), side=32, step=(2, 1), cut_at=9)
    clip = write_clip(tmp_path / "clip.mp4", frames, fps=10, sound="aac")
    model = tmp_path / "fast.keras"
    models.build("seed16_fast", (None, None, 1)).save(model)
    bench = [sys.executable, "benchmarks/bench_film.py"]
    r = subprocess.run([*bench, "quality", "--model", model, "--clips", clip, "--ways", "2:0.6:full"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "clip.mp4: 14 frames, 1 cut(s)" in r.stdout and "| **mean of 1** (1 in colour) | frame by frame |" in r.stdout
    assert "every 2, keep 0.6, flow full: mean × truth's" in r.stdout
    r = subprocess.run([*bench, "cuts", "--clips", clip], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "clip.mp4: cuts at 0.90 s" in r.stdout, r.stdout + r.stderr[-2000:]
    r = subprocess.run([*bench, "figure", "--model", model, "--clip", clip, "--frames", "0", "10", "--out",
                        tmp_path / "f.jpg"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and (tmp_path / "f.jpg").stat().st_size > 1000, r.stderr[-2000:]
    # Frames past the clip's end, or a model that is not there: one line, no figure, no traceback.
    r = subprocess.run([*bench, "figure", "--model", model, "--clip", clip, "--frames", "0", "40", "--out",
                        tmp_path / "g.jpg"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1] == (
        "bench_film: clip.mp4 has no frame 40 (its last is 13); give frames within it"), r.stderr[-2000:]
    assert not (tmp_path / "g.jpg").exists()
    r = subprocess.run([*bench, "figure", "--model", "seed16:bundled", "--clip", clip, "--out", tmp_path / "h.jpg"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.strip().splitlines()[-1].startswith(
        "bench_film: no bundled weights for seed16"), r.stderr[-2000:]
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_TENSORFLOW)
    env = {**__import__("os").environ, "KERAS_BACKEND": "jax", "PYTHON": sys.executable, "PYTHONPATH": str(site),
           "OUT": str(tmp_path)}
    r = subprocess.run(["bash", "benchmarks/gpu_film.sh", clip, model, "--frames", "4"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert "clip.mp4: 240 x 144, 4 frames" in r.stdout and "frames/s" in r.stdout and "on jax" in r.stdout
