"""The models this project ships: each of weights/ loads as ``NAME:bundled`` with no training
and no download, and colours a few CBSD68 photos better than the gray and sepia baselines.

Those photos were never trained on (CBSD68 is an evaluation set only); the figures of the
whole set are in each model's record (weights/NAME.json) and benchmarks/RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from app_fixture import nothing_at_hand  # noqa: F401
from conftest import shared_folder
from PIL import Image

from colorpast import bundled, color, metrics
from colorpast.colorizer import colorize, gray, load_model, sepia

SHIPPED = ["effunet", "effunet_cls", "effunet_hints"]  # what weights/ holds: a checkout without one fails here
PHOTOS = 8  # the first eight CBSD68 photos by name
SIZE = 224


def _photos():
    folder = shared_folder("cbsd68")
    paths = sorted(folder.glob("*.png"))[:PHOTOS]
    return [np.asarray(Image.open(p).convert("RGB"), np.float32) / 255 for p in paths]


@pytest.mark.parametrize("name", SHIPPED)
def test_the_model_ships_with_its_record(name):
    f = bundled.path(name)
    assert f is not None, f"weights/{name}.weights.h5 and weights/{name}.json do not ship"
    assert f.stat().st_size <= bundled.MAX_BYTES
    record = json.loads(f.with_name(f"{name}.json").read_text())
    for key in ("data", "budget_images", "recipe", "bundled_at_commit", "figures", "figures_command"):
        assert record.get(key), (name, key)
    assert record["recipe"]["started_with"]["commit"], name  # the commit it was trained at


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_the_bundled_model_beats_gray_and_sepia_on_cbsd68_photos(name):
    photos = _photos()
    model = load_model(f"{name}:bundled")  # no hints given to the hint model: it colours alone
    errors = {"model": [], "gray": [], "sepia": []}
    for rgb in photos:
        errors["model"].append(metrics.ciede2000(rgb, colorize(rgb, model, size=SIZE)))
        errors["gray"].append(metrics.ciede2000(rgb, gray(rgb)))
        errors["sepia"].append(metrics.ciede2000(rgb, sepia(rgb)))
    mean = {k: float(np.mean(v)) for k, v in errors.items()}
    print(name, {k: round(v, 2) for k, v in mean.items()})
    assert mean["model"] < mean["gray"] and mean["model"] < mean["sepia"], mean
    # photo by photo it wins on most: a model that painted one colour everywhere would not
    wins = sum(m < min(g, s) for m, g, s in zip(errors["model"], errors["gray"], errors["sepia"]))
    assert wins >= PHOTOS // 2, (wins, errors)


@pytest.mark.slow
def test_the_shipped_hint_model_honours_ten_true_hints_better_than_the_network_alone():
    """10 true colours revealed on each photo (as evaluate --hints 10): honouring them
    after the network (colorpast.hints.honour, the default) is nearer the truth than the
    network's own colours, on the mean and on most photos, and the hinted spots themselves
    end nearer their hints."""
    from colorpast import hints as hint_tools
    from colorpast.colorizer import model_spec, working_size

    model = load_model("effunet_hints:bundled")
    spec = model_spec(model)
    gains, near = [], []
    for k, rgb in enumerate(_photos()[:4]):
        ws = working_size(*rgb.shape[:2], spec.default_size, spec.multiple)
        given = hint_tools.reveal(rgb, 10, ws, seed=k)
        honoured, raw = colorize(rgb, model, hints=given), colorize(rgb, model, hints=given, raw_hints=True)
        gains.append(metrics.psnr(rgb, honoured) - metrics.psnr(rgb, raw))
        ys, xs = [int(p.y) for p in given.points], [int(p.x) for p in given.points]
        told = np.array([p.ab for p in given.points])
        near.append(tuple(float(np.abs(color.rgb_to_lab(x)[ys, xs, 1:] - told).mean()) for x in (honoured, raw)))
    print("PSNR gains", np.round(gains, 3), "ab miss at the hints (honoured, raw)", np.round(near, 2))
    assert np.mean(gains) > 0.2 and sum(g > 0 for g in gains) >= 3, gains
    assert np.mean([a for a, _ in near]) < np.mean([b for _, b in near]), near


def test_hints_given_to_a_model_without_them_go_to_the_shipped_hint_model(tmp_path, monkeypatch):
    """colorize --hints with a model that takes none, nothing trained: the shipped
    effunet_hints:bundled follows them, said in one line (no download)."""
    from conftest import cli

    from colorpast import models

    monkeypatch.chdir(tmp_path)  # no runs/ here
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "weights"))  # no published weights fetched
    Image.fromarray(np.full((48, 64), 120, np.uint8)).save(tmp_path / "p.png")
    (tmp_path / "h.json").write_text(json.dumps([{"x": 10, "y": 10, "color": "red"}]))
    models.build("seed16_fast").save(tmp_path / "m.keras")
    r = cli("colorize", tmp_path / "p.png", "--model", tmp_path / "m.keras", "--out", tmp_path / "o",
            "--hints", tmp_path / "h.json", "--size", "64")
    assert r.returncode == 0, r.stderr
    assert "takes no colour hints: using effunet_hints:bundled" in r.stderr
    red = np.asarray(Image.open(tmp_path / "o/p.png").convert("RGB"), np.int16)[10, 10]
    assert red[0] > red[2] + 10, red  # the hint's red where it was given


def test_the_tracked_files_leave_a_device_call_room_for_wheels_and_photos():
    """A GPU machine gets the checkout's tracked files plus what a call carries, 64 MiB in
    all (/work/.library/device/README.md); effunet's wheels alone are 19 MiB. The bundled
    models once made the tracked files 39 MiB; they must stay under 24 MiB, leaving room
    for the wheels and a set of photos (imagenet1k-256: 31.5 MiB)."""
    import subprocess

    from conftest import missing

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True)
    if r.returncode != 0:
        missing("a git checkout (the tracked files are what a device call sends)")
    files = [root / p for p in r.stdout.decode().split("\0") if p]
    total = sum(f.stat().st_size for f in files if f.is_file())
    assert len(files) > 100 and total < 24 * 2**20, f"{total / 2**20:.1f} MiB tracked"


def test_colorize_with_no_model_named_uses_what_ships_for_photos_films_and_hints(tmp_path, monkeypatch):
    """``colorpast colorize PATH --out DIR``: nothing trained or measured here, so photos get
    effunet_cls:bundled, films effunet:bundled (each said in one line) and a photo with
    --hints effunet_hints:bundled; a run of the user's is taken once there is one."""
    from app_fixture import run_folder
    from conftest import cli
    from film_fixture import moving_square, write_clip

    monkeypatch.chdir(tmp_path)  # no runs/ or reports/ here
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "weights"))  # no published weights fetched
    frames, _ = moving_square(6, shape=(64, 96), side=16)
    (tmp_path / "album").mkdir()
    Image.fromarray(frames[0]).save(tmp_path / "album/p.png")
    write_clip(tmp_path / "album/reel.mp4", frames, fps=10)
    r = cli("colorize", "album", "--out", "o", "--size", "64")
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "using" in ln]
    assert len(lines) == 2, r.stderr
    assert lines[0] == ("colorpast colorize: no trained run under runs/ yet (colorpast train makes one): "
                        "using effunet_cls:bundled, the model this project ships")
    assert lines[1].startswith("colorpast colorize: films: ") and "using effunet:bundled" in lines[1]
    assert (tmp_path / "o/p.png").is_file() and (tmp_path / "o/reel.mp4").is_file()
    assert "colorized 1 photo(s)" in r.stdout and "(6 frames, 2 by the model, 0 cut(s))" in r.stdout

    (tmp_path / "h.json").write_text(json.dumps([{"x": 10, "y": 10, "color": "red"}]))
    r = cli("colorize", "album/p.png", "--out", "h", "--hints", "h.json", "--size", "64")
    assert r.returncode == 0, r.stderr
    assert "using effunet_hints:bundled, the model this project ships" in r.stderr
    red = np.asarray(Image.open(tmp_path / "h/p.png").convert("RGB"), np.int16)[10, 10]
    assert red[0] > red[2] + 10, red  # the hint's red where it was given

    run = run_folder(tmp_path / "runs", "seed16_fast")
    r = cli("colorize", "album/p.png", "--out", "mine")
    assert r.returncode == 0, r.stderr
    assert f"using {Path('runs') / run.name}, the trained run listed first" in r.stderr


def test_colorize_with_no_model_named_and_none_at_hand_is_one_line(tmp_path, monkeypatch, nothing_at_hand):
    from conftest import cli

    monkeypatch.chdir(tmp_path)
    Image.fromarray(np.full((48, 64), 120, np.uint8)).save(tmp_path / "p.png")
    r = cli("colorize", "p.png", "--out", "o")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "no model to colorize with: train one (colorpast train)" in r.stderr
    assert "could not download the colorful weights" in r.stderr and not (tmp_path / "o/p.png").exists()
