"""colorpast evaluate and colorpast colorize, end to end on small inputs."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from app_fixture import nothing_at_hand  # noqa: F401
from PIL import Image

import colorpast
from colorpast import models
from colorpast.data.sources import embedded_sample
from conftest import cli
from prepared_fixture import make_prepared

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("model") / "seed16.keras"
    models.build("seed16").save(path)
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A folder: a rotated JPEG (EXIF orientation 6), a nested PNG and a broken file."""
    d = tmp_path_factory.mktemp("photos")
    rgb = embedded_sample(["coffee"])[0].rgb[::4, ::4]  # 100 x 150
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    Image.fromarray(rgb).save(d / "rotated.jpg", exif=exif)
    (d / "nested" / "deeper").mkdir(parents=True)
    Image.fromarray(rgb[:64, :80]).convert("L").save(d / "nested" / "deeper" / "bw.png")
    (d / "broken.jpg").write_text("this is not a JPEG")
    return d


_cli = cli  # the commands in this process (conftest.cli); tests/test_cli.py runs the script itself


def test_colorize_folder_keeps_sizes_structure_and_reports_bad_files(photos, model_file, tmp_path):
    out = tmp_path / "out"
    r = _cli("colorize", photos, "--model", model_file, "--out", out, "--size", "64")
    assert r.returncode == 1  # one file failed
    bad = [line for line in r.stderr.splitlines() if "skipped" in line]
    assert len(bad) == 1 and "broken.jpg" in bad[0] and "Traceback" not in r.stderr
    assert "colorized 2 photo(s)" in r.stdout
    rot = Image.open(out / "rotated.png")
    assert rot.size == (100, 150)  # EXIF orientation applied: 150 wide x 100 high becomes 100 x 150
    assert Image.open(out / "nested" / "deeper" / "bw.png").size == (80, 64)
    assert Image.open(out / "nested" / "deeper" / "bw.png").mode == "RGB"


def test_colorize_user_mistakes_are_one_line(photos, model_file, tmp_path):
    r = _cli("colorize", tmp_path / "missing.jpg", "--model", model_file, "--out", tmp_path / "o")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no such file" in r.stderr
    r = _cli("colorize", photos, "--model", tmp_path / "nope", "--out", tmp_path / "o")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no model" in r.stderr
    r = _cli("colorize", photos, "--model", "nosuchnet:official", "--out", tmp_path / "o")
    assert r.returncode == 2 and "unknown model" in r.stderr


def test_python_colorize_takes_a_path_and_a_model_reference(photos, model_file):
    out = colorpast.colorize(photos / "rotated.jpg", str(model_file), size=64)
    assert out.shape == (150, 100, 3) and out.dtype == np.float32


def test_evaluate_prepared_set_and_folder(model_file, photos, tmp_path):
    prep = tmp_path / "prep"
    make_prepared(prep, {"train": 2, "test": 5}, size=32, per_shard=2)
    out = tmp_path / "report"
    r = _cli("evaluate", "--data", prep, "--models", model_file, "gray", "--out", out, "--size", "32")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [row["method"] for row in rows] == ["gray", str(model_file)]
    assert all(row["images"] == "5" for row in rows)
    per_image = list(csv.DictReader(open(out / "per_image.csv")))
    assert len(per_image) == 10
    assert {"pixel_diff_pct", "jnd_diff_pct", "auc_ab", "auc_ab_rebalanced", "psnr", "ssim", "ciede2000"} <= set(per_image[0])
    gray_rows = [p for p in per_image if p["method"] == "gray"]
    assert all(float(p["colorfulness"]) < 0.5 for p in gray_rows)
    for png in ["grid.png", "chart.png"]:
        assert Image.open(out / png).size[0] > 400
    assert "| gray |" in (out / "metrics.md").read_text()
    # A folder of photos (full resolution) works too; unreadable files stop it with one line.
    (photos / "broken.jpg").rename(tmp_path / "broken.jpg")
    try:
        r = _cli("evaluate", "--data", photos, "--models", "gray", "--out", tmp_path / "r2")
    finally:
        (tmp_path / "broken.jpg").rename(photos / "broken.jpg")
    assert r.returncode == 0, r.stderr
    assert len(list(csv.DictReader(open(tmp_path / "r2" / "per_image.csv")))) == 2
    r = _cli("evaluate", "--data", tmp_path / "nowhere", "--out", tmp_path / "r3")
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_sepia_baseline_is_the_median_colour_on_the_photos_own_L(tmp_path):
    """'sepia' paints ImageNet's median (a, b) everywhere and keeps L; it is a row only when named."""
    from colorpast import color
    from colorpast.evaluate import SEPIA_AB, sepia

    rgb = embedded_sample(["coffee"])[0].rgb[::8, ::8]
    out = sepia(rgb)
    lab_in, lab_out = color.rgb_to_lab(rgb.astype(np.float32) / 255), color.rgb_to_lab(out)
    inside = (lab_in[..., 0] > 10) & (lab_in[..., 0] < 90)  # clipping to sRGB moves the extremes
    assert np.abs(lab_out[..., 0] - lab_in[..., 0])[inside].max() < 0.5
    assert np.abs(lab_out[..., 1:][inside] - np.float32(SEPIA_AB)).max() < 0.5
    prep = tmp_path / "prep"
    make_prepared(prep, {"train": 2, "test": 3}, size=32, per_shard=2)
    r = _cli("evaluate", "--data", prep, "--models", "sepia", "--out", tmp_path / "r")
    assert r.returncode == 0, r.stderr
    rows = {row["method"]: row for row in csv.DictReader(open(tmp_path / "r" / "metrics.csv"))}
    assert list(rows) == ["gray", "sepia"]
    assert float(rows["sepia"]["colorfulness"]) > float(rows["gray"]["colorfulness"]) + 1


def _md_table(text):
    """Rows of a Markdown table as {column: cell}, the arrows stripped from the column names."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    heads = [h.strip().removesuffix(" ↑").removesuffix(" ↓") for h in lines[0].strip("|").split("|")]
    return [dict(zip(heads, (c.strip() for c in line.strip("|").split("|")))) for line in lines[2:]]


def test_report_numbers_are_each_photos_metrics_and_their_means(model_file, tmp_path):
    """On three real photos: every per-image row is metrics.compute_all of that photo and
    its colorization, every summary row the mean of its per-image rows, and the Markdown
    table shows the CSV's numbers."""
    import shutil

    from colorpast import evaluate, metrics
    from colorpast.colorizer import colorize, gray, load_model
    from colorpast.photofiles import read_image
    from conftest import shared_folder

    src = shared_folder("cbsd68")
    photos = tmp_path / "photos"
    photos.mkdir()
    for p in sorted(src.glob("*.png"))[:3]:
        shutil.copy(p, photos / p.name)
    res = evaluate.evaluate(photos, ["gray", str(model_file)], tmp_path / "report", size=64, log=lambda *a: None)
    paths = res["paths"]

    model = load_model(str(model_file))
    methods = {"gray": gray, str(model_file): lambda rgb: colorize(rgb, model, size=64)}
    per_image = list(csv.DictReader(open(paths["per_image"])))
    assert sorted((r["image"], r["method"]) for r in per_image) == sorted(
        (p.name, m) for p in photos.iterdir() for m in methods)
    columns = [*metrics.METRICS, "colorfulness", "colorfulness_truth", "vivid_truth_pct", "neutral_truth_pct"]
    for row in per_image:
        rgb = read_image(photos / row["image"])
        want = metrics.compute_all(np.asarray(rgb, np.float32) / 255.0, methods[row["method"]](rgb))
        for k in columns:
            assert float(row[k]) == pytest.approx(want[k], rel=1e-5, abs=1e-9), (row["image"], row["method"], k)

    summary = list(csv.DictReader(open(paths["csv"])))
    assert [r["method"] for r in summary] == list(methods)
    for row in summary:
        mine = [r for r in per_image if r["method"] == row["method"]]
        assert int(row["images"]) == len(mine) == 3
        for k in columns:
            values = [float(r[k]) for r in mine]
            if k in metrics.SHARE_OF:  # each photo weighs by its share of vivid (neutral) pixels
                weights = np.array([float(r[metrics.SHARE_OF[k]]) for r in mine])
                keep = ~np.isnan(values)
                want = np.sum(np.array(values)[keep] * weights[keep]) / np.sum(weights[keep])
            else:
                want = np.mean(values)
            assert float(row[k]) == pytest.approx(want, rel=1e-5, abs=1e-9), (row["method"], k)

    table = _md_table(paths["table"].read_text())
    assert [r["method"] for r in table] == [r["method"] for r in summary]
    for shown, row in zip(table, summary):
        # ΔCF: of the set, not a mean; the truth's shares are in the CSVs only
        assert set(shown) == {"method", "images", *columns, "colorfulness_delta"} - {"vivid_truth_pct", "neutral_truth_pct"}
        assert shown["images"] == row["images"]
        for k in [c for c in columns if c in shown]:
            decimals = len(shown[k].partition(".")[2])
            assert abs(float(shown[k]) - float(row[k])) <= 0.5 * 10.0**-decimals + 1e-9, (row["method"], k, shown[k], row[k])


def test_evaluate_reports_colorfulness_delta_from_the_set_means(model_file, tmp_path):
    prep = tmp_path / "prep"
    make_prepared(prep, {"train": 2, "test": 3}, size=32, per_shard=2)
    out = tmp_path / "report"
    r = _cli("evaluate", "--data", prep, "--models", model_file, "--out", out, "--size", "32")
    assert r.returncode == 0, r.stderr
    for row in csv.DictReader(open(out / "metrics.csv")):
        delta = abs(float(row["colorfulness"]) - float(row["colorfulness_truth"]))
        assert float(row["colorfulness_delta"]) == pytest.approx(delta, rel=1e-4, abs=1e-4)
    assert "colorfulness_delta ↓" in (out / "metrics.md").read_text()


def test_fid_without_weights_is_one_line_before_any_work(model_file, tmp_path, monkeypatch):
    prep = tmp_path / "prep"
    make_prepared(prep, {"train": 2, "test": 2}, size=32, per_shard=2)
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "none"))
    for extra in (["--fid"], ["--protocol", "paper"]):
        r = _cli("evaluate", "--data", prep, "--out", tmp_path / "r", *extra)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert "colorpast weights fetch fid-inception" in r.stderr and "drop --fid" in r.stderr
        assert not (tmp_path / "r" / "metrics.md").exists()


def test_paper_protocol_crops_to_256_and_reports_fid_cf_delta_psnr(model_file, tmp_path, monkeypatch):
    """With FID Inception weights present (random ones here: the real file cannot be
    downloaded in tests), --protocol paper centre-crops, runs the models at 256 and puts
    FID, CF, ΔCF and PSNR first, with the small-N warning."""
    from colorpast import evaluate, fid

    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "w"))
    import keras

    keras.utils.set_random_seed(0)
    (tmp_path / "w").mkdir()
    fid.build_inception().save_weights(str(fid.weights_path()))
    rng = np.random.default_rng(0)
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, (h, w) in enumerate([(300, 400), (256, 256), (200, 220)]):  # larger, exact, smaller than 256
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    lines = []
    res = evaluate.evaluate(folder, [str(model_file)], tmp_path / "r", protocol="paper", log=lines.append)
    md = (tmp_path / "r" / "metrics.md").read_text()
    assert md.startswith("### the papers' protocol: 3 photos, 256 x 256 centre crops")
    assert "| method | images | fid ↓ | colorfulness | colorfulness_truth | colorfulness_delta ↓ | psnr ↑ |" in md
    assert "FID over 3 photos" in md and any("below 1,000" in str(x) for x in lines)
    rows = {r["method"]: r for r in res["summary"]}
    assert set(rows) == {"gray", str(model_file)} and all(r["fid"] > 0 for r in rows.values())
    per_image = list(csv.DictReader(open(tmp_path / "r" / "per_image.csv")))
    assert len(per_image) == 6
    assert evaluate.center_crop(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)).shape == (256, 256, 3)
    exact = rng.integers(0, 256, (256, 300, 3), dtype=np.uint8)
    np.testing.assert_array_equal(evaluate.center_crop(exact), exact[:, 22:278])
    # The truths' statistics were cached: a second run computes only the outputs' features.
    assert len(list((tmp_path / "w" / "fid_stats").glob("*.npz"))) == 1


@pytest.fixture(scope="module")
def hint_model_file(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("hint_model") / "seed16_hints.keras"
    models.build("seed16_hints").save(path)
    return path


def test_colorize_with_hints_from_json_and_scribble_and_its_mistakes(photos, hint_model_file, model_file, tmp_path,
                                                                     monkeypatch, nothing_at_hand):
    import json

    photo = photos / "rotated.jpg"  # 100 wide x 150 high once its EXIF orientation is applied
    (tmp_path / "h.json").write_text(json.dumps([{"x": 50, "y": 40, "color": "#b22234"}]))
    plain = _cli("colorize", photo, "--model", hint_model_file, "--out", tmp_path / "plain", "--size", "64")
    hinted = _cli("colorize", photo, "--model", hint_model_file, "--out", tmp_path / "json", "--size", "64",
                  "--hints", tmp_path / "h.json")
    assert plain.returncode == 0 and hinted.returncode == 0, hinted.stderr
    a = np.asarray(Image.open(tmp_path / "plain" / "rotated.png"))
    b = np.asarray(Image.open(tmp_path / "json" / "rotated.png"))
    assert a.shape == b.shape == (150, 100, 3) and not np.array_equal(a, b)
    rgba = np.zeros((150, 100, 4), np.uint8)
    rgba[30:50, 20:80] = (0, 90, 200, 255)
    Image.fromarray(rgba).save(tmp_path / "s.png")
    r = _cli("colorize", photo, "--model", hint_model_file, "--out", tmp_path / "scr", "--size", "64",
             "--hints", tmp_path / "s.png")
    assert r.returncode == 0, r.stderr

    def one_line_error(*args):
        r = _cli("colorize", *args)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
        return r.stderr

    (tmp_path / "out.json").write_text(json.dumps([{"x": 100, "y": 40, "color": "#b22234"}]))
    assert "outside the 100 x 150 photo" in one_line_error(photo, "--model", hint_model_file, "--out", tmp_path / "o",
                                                          "--hints", tmp_path / "out.json")
    (tmp_path / "bad.json").write_text(json.dumps([{"x": 5, "y": 5, "color": "#zzzzzz"}]))
    assert "does not parse" in one_line_error(photo, "--model", hint_model_file, "--out", tmp_path / "o",
                                              "--hints", tmp_path / "bad.json")
    Image.fromarray(np.zeros((10, 10, 4), np.uint8)).save(tmp_path / "small.png")
    assert "but the photo is 100 x 150" in one_line_error(photo, "--model", hint_model_file, "--out", tmp_path / "o",
                                                          "--hints", tmp_path / "small.png")
    monkeypatch.chdir(tmp_path)  # no hint model at hand: none shipped (nothing_at_hand), fetched or trained here
    assert "takes no colour hints" in one_line_error(photo, "--model", model_file, "--out", tmp_path / "o",
                                                     "--hints", tmp_path / "h.json")
    assert "belong to one photo" in one_line_error(photos, "--model", hint_model_file, "--out", tmp_path / "o",
                                                   "--hints", tmp_path / "h.json")


def test_evaluate_with_hints_aged_and_normalized(hint_model_file, model_file, tmp_path):
    prep = tmp_path / "prep"
    make_prepared(prep, {"train": 2, "test": 3}, size=32, per_shard=2)
    out = tmp_path / "report"
    r = _cli("evaluate", "--data", prep, "--models", hint_model_file, model_file, "--out", out, "--size", "32",
             "--hints", "0", "5", "--aged", "--normalize")
    assert r.returncode == 0, r.stderr
    rows = {row["method"]: row for row in csv.DictReader(open(out / "metrics.csv"))}
    assert set(rows) == {"gray", f"{hint_model_file} (0 hints)", f"{hint_model_file} (5 hints)", str(model_file)}
    assert rows[f"{hint_model_file} (0 hints)"]["ciede2000"] != rows[f"{hint_model_file} (5 hints)"]["ciede2000"]
    assert Image.open(out / "hints.png").size[0] > 400
    assert "colorized from an aged copy" in (out / "metrics.md").read_text()
    # Aged: the gray baseline carries the print's damage in L, so it is worse than on the clean photos.
    clean = tmp_path / "clean"
    assert _cli("evaluate", "--data", prep, "--out", clean, "--size", "32").returncode == 0
    gray_clean = next(r for r in csv.DictReader(open(clean / "metrics.csv")) if r["method"] == "gray")
    assert float(rows["gray"]["ciede2000"]) > float(gray_clean["ciede2000"])
    # --raw-hints: the network's colours, the hints not honoured after it; with none nothing changes
    r = _cli("evaluate", "--data", prep, "--models", hint_model_file, "--out", tmp_path / "raw", "--size", "32",
             "--hints", "0", "5", "--aged", "--normalize", "--raw-hints")
    assert r.returncode == 0, r.stderr
    raw = {row["method"]: row for row in csv.DictReader(open(tmp_path / "raw" / "metrics.csv"))}
    assert raw[f"{hint_model_file} (0 hints)"]["ciede2000"] == rows[f"{hint_model_file} (0 hints)"]["ciede2000"]
    assert raw[f"{hint_model_file} (5 hints)"]["ciede2000"] != rows[f"{hint_model_file} (5 hints)"]["ciede2000"]
    r = _cli("evaluate", "--data", prep, "--models", model_file, "--out", tmp_path / "r2", "--hints", "5")
    assert r.returncode == 2 and "needs a model that takes colour hints" in r.stderr
    r = _cli("evaluate", "--data", prep, "--models", hint_model_file, "--out", tmp_path / "r3", "--hints", "-1")
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_normalize_stretches_a_faded_L_and_leaves_a_full_range_one():
    from colorpast.colorizer import MODERN_L, normalize_L

    full = np.tile(np.linspace(0, 100, 60, dtype=np.float32), (40, 1))[..., None]  # a smooth ramp
    faded = 30 + 0.4 * full
    out = normalize_L(faded)
    lo, hi = np.percentile(out, [1, 99])
    assert abs(lo - MODERN_L[0]) < 2 and abs(hi - MODERN_L[1]) < 2
    kept = normalize_L(full)
    assert np.percentile(kept, 99) - np.percentile(kept, 1) > 90  # never squeezed
    speck = np.full((20, 20, 1), 50, np.float32)
    speck[10, 10] = 100
    flat = normalize_L(speck)
    assert flat[10, 10, 0] == flat[5, 5, 0] and np.ptp(flat) == 0  # the speck is gone, the flat photo not blown up


def test_saturation_scales_the_predicted_colours(photos, model_file, tmp_path):
    from colorpast import color

    ramp = np.linspace(100, 150, 96).astype(np.uint8)  # mid-tones: far from the gamut's edges
    photo = np.repeat(np.tile(ramp, (64, 1))[..., None], 3, axis=-1)
    base = colorpast.colorize(photo, str(model_file), size=64)
    bold = colorpast.colorize(photo, str(model_file), size=64, saturation=2.0)
    gray = colorpast.colorize(photo, str(model_file), size=64, saturation=0.0)
    ab0, ab2 = color.rgb_to_lab(base)[..., 1:], color.rgb_to_lab(bold)[..., 1:]
    inside = np.hypot(ab0[..., 0], ab0[..., 1]) < 12  # doubled, still inside the gamut at these mid-tones
    assert inside.sum() > 100
    np.testing.assert_allclose(ab2[inside], 2 * ab0[inside], atol=0.5)
    assert np.abs(color.rgb_to_lab(gray)[..., 1:]).max() < 0.5
    r = _cli("colorize", photos / "rotated.jpg", "--model", model_file, "--out", tmp_path / "o", "--saturation", "9")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "from 0 (gray) to 4" in r.stderr


def test_a_second_session_colorizes_only_new_photos_and_reads_heic(model_file, tmp_path, monkeypatch):
    """06 on the second day: the first day's outputs are left as they are, unless asked;
    a HEIC photo is read with pillow-heif (requirements-dev.txt), and without it skipped
    with that reason."""
    import pillow_heif

    from colorpast import colorizer, photofiles

    model = colorizer.load_model(str(model_file))
    rgb = embedded_sample(["coffee"])[0].rgb[::8, ::8]  # 50 x 75
    (tmp_path / "photos/day1").mkdir(parents=True)
    Image.fromarray(rgb).save(tmp_path / "photos/day1/a.png")
    out = tmp_path / "colorized"
    written, failed = colorizer.colorize_paths([tmp_path / "photos"], model, out, size=32, progress=False)
    assert written == [out / "day1/a.png"] and failed == []
    (tmp_path / "photos/day2").mkdir()
    heic = tmp_path / "photos/day2/phone.HEIC"
    pillow_heif.register_heif_opener()
    Image.fromarray(rgb).save(heic, format="HEIF")
    lines = []
    written, failed = colorizer.colorize_paths([tmp_path / "photos"], model, out, size=32, progress=False,
                                               log=lines.append, skip_done=True)
    assert "1 of 2 photos already colorized" in lines[0]
    assert written == [out / "day2/phone.png"] and Image.open(written[0]).size == (75, 50)
    written, _ = colorizer.colorize_paths([tmp_path / "photos"], model, out, size=32, progress=False)
    assert len(written) == 2  # REDO: all of them again
    # Without pillow-heif: skipped, and the reason names the format and the extra.
    monkeypatch.setattr(photofiles, "_HEIF", [False])  # what heif_readable reads
    written, failed = colorizer.colorize_paths([heic], model, tmp_path / "o", size=32, progress=False)
    assert written == [] and len(failed) == 1 and "HEIC" in failed[0][1] and "pillow-heif" in failed[0][1]


def test_uploads_never_vanish_twins_keep_their_own_output_heic_too_and_other_files_are_named(model_file, tmp_path):
    """a.jpg beside a.png, IMG_1.HEIC beside IMG_1.JPG: each photo its own output, neither
    overwritten; a .jfif is a JPEG and read; a PDF, a zip and a text file are named with
    why they were skipped; hidden system files are not."""
    import pillow_heif

    from colorpast import colorizer, photos, photofiles
    from colorpast.notebook import Environment

    pillow_heif.register_heif_opener()
    rgb = embedded_sample(["coffee"])[0].rgb[::8, ::8]  # 50 x 75
    src = tmp_path / "photos"
    src.mkdir()
    Image.fromarray(rgb).save(src / "a.jpg")
    Image.fromarray(rgb[:40]).save(src / "a.png")  # another photo, another size
    Image.fromarray(rgb).save(src / "IMG_1.HEIC", format="HEIF")
    Image.fromarray(rgb[:, :60]).save(src / "IMG_1.JPG")
    Image.fromarray(rgb).save(src / "scan.jfif", format="JPEG")
    Image.fromarray(rgb).save(src / "alone.png")
    (src / "letter.pdf").write_bytes(b"%PDF-1.4")
    (src / "more.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    (src / "notes.txt").write_text("grandma, 1931")
    (src / ".DS_Store").write_bytes(b"\0")
    model = colorizer.load_model(str(model_file))
    lines = []
    out = tmp_path / "colorized"
    written, failed = colorizer.colorize_paths([src], model, out, size=32, progress=False, log=lines.append)
    assert failed == []
    assert sorted(p.name for p in written) == ["IMG_1-HEIC.png", "IMG_1-JPG.png", "a-jpg.png", "a-png.png",
                                                "alone.png", "scan.png"]
    assert Image.open(out / "a-png.png").size == (75, 40) and Image.open(out / "a-jpg.png").size == (75, 50)
    assert Image.open(out / "IMG_1-JPG.png").size == (60, 50)
    skipped = [ln for ln in lines if ln.startswith("skipped")]
    assert len(skipped) == 3 and ".DS_Store" not in "".join(skipped)
    assert any("letter.pdf: a PDF: save its pages" in ln for ln in skipped)
    assert any("more.zip: a zip archive: unpack it" in ln for ln in skipped)
    assert any("notes.txt: not a photo format colorpast reads" in ln for ln in skipped)
    for f in photofiles.find_images([src]):  # 06's before/after: each photo finds its own output, of its size
        assert Image.open(photofiles.output_path(f, [src], out)).size == Image.open(f).size
    # One run lists each folder once for the twins, not once a photo (a 2,000-photo upload)
    listed, real = [], Path.iterdir
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Path, "iterdir", lambda self: listed.append(self) or real(self))
        colorizer.colorize_paths([src], model, tmp_path / "again", size=32, progress=False)
    assert listed == [src]
    # A folder with nothing readable says what it holds and why, not "pick some".
    (tmp_path / "only").mkdir()
    (tmp_path / "only/album.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    said = []
    photos.photos_folder(tmp_path / "only", Environment(False, tmp_path), upload=False, log=said.append)
    assert said == [f"{(tmp_path / 'only').resolve()} has no photos colorpast reads ({photofiles.READABLE}); "
                    "album.zip: a zip archive: unpack it and add the photos inside"]


def test_hints_with_a_model_that_takes_none_use_the_published_2017_model_when_fetched(model_file, tmp_path,
                                                                                    monkeypatch, capsys):
    """`colorize --hints` with nothing trained that takes hints: Zhang et al. 2017's published
    model once its weights are on disk (random ones here), said in one line; without
    them, one line naming the fetch."""
    from colorpast import cli, models, weights

    photo = tmp_path / "p.png"
    Image.fromarray(embedded_sample(["coffee"])[0].rgb[::8, ::8]).save(photo)  # 50 x 75
    (tmp_path / "h.json").write_text(json.dumps([{"x": 10, "y": 10, "color": "#b22234"}]))
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.chdir(tmp_path)  # no runs/ of a model that takes hints here
    monkeypatch.setattr(weights, "bundled", lambda name: None)  # nor one shipped
    args = ["colorize", str(photo), "--model", str(model_file), "--out", str(tmp_path / "o"), "--size", "32",
            "--hints", str(tmp_path / "h.json")]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "colorpast weights fetch siggraph17" in err
    (tmp_path / "weights").mkdir()
    models.build("siggraph17").save_weights(tmp_path / "weights/siggraph17.weights.h5")
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert f"{model_file} takes no colour hints: using siggraph17:official" in err
    assert Image.open(tmp_path / "o/p.png").size == (75, 50)
