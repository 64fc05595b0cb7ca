"""Big scans: read straight into one uint8 array by OpenCV, the same photo Pillow reads;
beyond ``photofiles.MAX_PIXELS`` one line, and no decompression-bomb warning below it.
(The memory of a 300 MP scan is measured in benchmarks/bench_colorize_memory.py.)"""

import warnings

import numpy as np
import pytest
from PIL import Image

from colorpast import photofiles
from colorpast.errors import UserError


def _photo(h=60, w=90):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (w + h)], -1).astype(np.uint8)


def _files(tmp_path):
    """Photo files of every kind a scan comes as, with the EXIF orientations that turn them."""
    rgb = _photo()
    out = {}
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        out[f"o{o}.jpg"] = tmp_path / f"o{o}.jpg"
        Image.fromarray(rgb).save(out[f"o{o}.jpg"], quality=95, exif=exif)
    out["rgb.png"] = tmp_path / "rgb.png"
    Image.fromarray(rgb).save(out["rgb.png"])
    out["gray.png"] = tmp_path / "gray.png"
    Image.fromarray(rgb[..., 0]).save(out["gray.png"])
    out["rgba.png"] = tmp_path / "rgba.png"
    Image.fromarray(np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], -1)).save(out["rgba.png"])
    out["gray.tif"] = tmp_path / "gray.tif"
    Image.fromarray(rgb[..., 1]).save(out["gray.tif"])
    out["rgb.webp"] = tmp_path / "rgb.webp"
    Image.fromarray(rgb).save(out["rgb.webp"], lossless=True)
    out["rgb.bmp"] = tmp_path / "rgb.bmp"
    Image.fromarray(rgb).save(out["rgb.bmp"])
    out["cmyk.jpg"] = tmp_path / "cmyk.jpg"
    Image.fromarray(rgb).convert("CMYK").save(out["cmyk.jpg"], quality=95)
    out["palette.png"] = tmp_path / "palette.png"
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(out["palette.png"])
    deep = (rgb[..., 0].astype(np.uint16) * 257 + 100).clip(0, 65535)
    for name in ("gray16.png", "gray16.tif"):  # 16-bit scans
        out[name] = tmp_path / name
        Image.fromarray(deep).save(out[name])
    return out


def test_a_big_scan_is_read_by_opencv_as_the_same_upright_photo_pillow_reads(tmp_path, monkeypatch):
    files = _files(tmp_path)
    small = {name: photofiles.read_image(f) for name, f in files.items()}  # Pillow
    assert small["o6.jpg"].shape == (90, 60, 3) and small["o1.jpg"].shape == (60, 90, 3)
    monkeypatch.setattr(photofiles, "BIG_PIXELS", 1)
    calls = []
    real = photofiles._read_big
    monkeypatch.setattr(photofiles, "_read_big", lambda *a: calls.append(a) or real(*a))
    for name, f in files.items():
        big = photofiles.read_image(f)
        assert big.dtype == np.uint8 and big.shape == small[name].shape, name
        # the same pixels: JPEG decoders and 16-to-8-bit conversions may round a level or two apart
        assert np.abs(big.astype(int) - small[name]).max() <= (2 if name.endswith(".jpg") else 1 if "16" in name else 0), name
    assert len(calls) == len(files)


def test_beyond_the_limit_one_line_and_below_it_no_bomb_warning(tmp_path, monkeypatch):
    scan = tmp_path / "scan.png"
    limit = Image.MAX_IMAGE_PIXELS  # Pillow's own (another test in this process may have set it)
    Image.new("1", (10_000, 10_000)).save(scan)  # 100 MP: past Pillow's warning (89 MP); 1 bit a pixel here
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert photofiles._pixels(scan) == 100_000_000
    monkeypatch.setattr(photofiles, "MAX_PIXELS", 99_000_000)
    with pytest.raises(UserError) as e:
        photofiles.read_image(scan)
    msg = str(e.value)
    assert "\n" not in msg and "10000 x 10000" in msg and "100 MP" in msg and "99 MP" in msg and "scale it down" in msg
    assert Image.MAX_IMAGE_PIXELS == limit  # Pillow's own limit is left as it was


def test_colorize_paths_names_a_scan_beyond_the_limit_and_colorizes_the_rest(tmp_path, monkeypatch):
    from colorpast import colorizer
    from colorpast.models import build

    photos = tmp_path / "in"
    photos.mkdir()
    Image.fromarray(_photo(40, 48)).save(photos / "small.jpg")
    Image.fromarray(_photo(80, 96)).save(photos / "huge.png")
    monkeypatch.setattr(photofiles, "MAX_PIXELS", 5000)
    monkeypatch.setattr(photofiles, "BIG_PIXELS", 1000)  # small.jpg (1,920 px) through OpenCV too
    lines, model = [], build("seed16")
    written, failed = colorizer.colorize_paths([photos], model, tmp_path / "out", size=32,
                                               progress=False, log=lines.append)
    assert [p.name for p in written] == ["small.png"]
    assert [f.name for f, _ in failed] == ["huge.png"]
    assert len(lines) == 1 and "huge.png" in lines[0] and "more than colorpast colorizes" in lines[0]
    out = np.asarray(Image.open(written[0]))
    assert out.shape == (40, 48, 3)
    # the PNG (written by OpenCV from the photo's own array) is the colorize of the photo, channels in order
    expect = colorizer.colorize(photofiles.read_image(photos / "small.jpg"), model, 32)
    assert np.abs(out.astype(int) - np.rint(expect * 255)).max() <= 1


def test_where_opencv_cannot_open_a_path_pillow_reads_and_writes_it(tmp_path, monkeypatch):
    """OpenCV on Windows opens no path with non-ASCII letters (a family's "Fotos da avó"):
    a big scan is then read by Pillow, and the result written by Pillow, the same photo."""
    import cv2

    from colorpast import colorizer
    from colorpast.models import build

    folder = tmp_path / "Fotos da avó"
    folder.mkdir()
    Image.fromarray(_photo(40, 48)).save(folder / "retrato.png")
    model = build("seed16")
    monkeypatch.setattr(photofiles, "BIG_PIXELS", 1)
    expect = colorizer.colorize(photofiles.read_image(folder / "retrato.png"), model, 32)
    monkeypatch.setattr(cv2, "imread", lambda *a, **k: None)
    monkeypatch.setattr(cv2, "imwrite", lambda *a, **k: False)
    np.testing.assert_array_equal(photofiles.read_image(folder / "retrato.png"), _photo(40, 48))
    written, failed = colorizer.colorize_paths([folder], model, tmp_path / "out", size=32, progress=False)
    assert failed == [] and [p.name for p in written] == ["retrato.png"]
    out = np.asarray(Image.open(written[0]))
    assert out.shape == (40, 48, 3) and np.abs(out.astype(int) - np.rint(expect * 255)).max() <= 1


def test_a_scan_of_several_bands_is_read_whole_every_row_in_rgb(tmp_path, monkeypatch):
    """OpenCV's BGR becomes RGB band by band (4 MB at a time): a 1.5 MP scan is several
    bands, and every row of every band, the last included, is the photo Pillow reads."""
    rgb = np.random.default_rng(0).integers(0, 256, (1100, 1400, 3), dtype=np.uint8)
    path = tmp_path / "scan.png"
    Image.fromarray(rgb).save(path, compress_level=1)
    monkeypatch.setattr(photofiles, "BIG_PIXELS", 1)
    rows = (1 << 22) // (3 * 1400)
    assert rows < 1100  # two bands at least; their seam is a row a band-by-band slip would miss
    np.testing.assert_array_equal(photofiles.read_image(path), rgb)


def test_exactly_the_limit_is_read_and_one_pixel_more_is_not(tmp_path, monkeypatch):
    """MAX_PIXELS is the largest photo colorized, itself included (300 MP: 21213 x 14142 is
    under it; here the limit is lowered to a small photo's size)."""
    Image.fromarray(_photo(60, 90)).save(tmp_path / "at.png")
    Image.fromarray(_photo(61, 90)).save(tmp_path / "over.png")
    monkeypatch.setattr(photofiles, "MAX_PIXELS", 60 * 90)
    assert photofiles.read_image(tmp_path / "at.png").shape == (60, 90, 3)
    with pytest.raises(UserError, match="90 x 61 pixels"):
        photofiles.read_image(tmp_path / "over.png")


@pytest.mark.parametrize("height", [25, 24, 1])
def test_colorize_is_the_same_whatever_the_bands_and_their_last_row(height, monkeypatch):
    """The full-resolution steps run in bands of rows; a photo whose last band is one row
    (25 = 3 x 8 + 1), or exactly whole bands, or a single row, comes out the same as in one
    band: float and uint8 in place, with its L kept (under LEAN_PIXELS) and made again band
    by band (above it)."""
    from colorpast import bands, colorizer
    from colorpast.models import build

    model = build("seed16")
    rgb = np.random.default_rng(height).integers(0, 256, (height, 32, 3), dtype=np.uint8)
    whole = colorizer.colorize(rgb, model, size=32)  # one band: 1 MP a band by default
    monkeypatch.setattr(bands, "BAND_PIXELS", 32 * 8)  # 8 rows a band
    assert [b[:2] for b in bands._bands(height, 32)][-1][1] == height
    np.testing.assert_allclose(colorizer.colorize(rgb, model, size=32), whole, atol=1e-5)
    in_place = colorizer.colorize_into(rgb.copy(), model, size=32)
    assert np.abs(in_place.astype(int) - np.rint(whole * 255)).max() <= 1
    monkeypatch.setattr(colorizer, "LEAN_PIXELS", 0)  # the photo's L made band by band, as above 50 MP
    np.testing.assert_allclose(colorizer.colorize(rgb, model, size=32), whole, atol=2e-3)
