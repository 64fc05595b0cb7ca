import numpy as np

from colorpast import color, metrics, models
from colorpast.colorizer import colorize, gray, working_size
from colorpast.data.sources import embedded_sample


def test_colorize_keeps_size_and_full_resolution_L():
    import keras

    rgb = embedded_sample(["coffee"])[0].rgb[:301, :457]  # odd size, not a multiple of 8
    keras.utils.set_random_seed(0)
    model = models.build("seed16")
    # Shrink the untrained head so its ab stays small and in gamut: then the output's L
    # must be the input's L exactly (up to float error), pixel for pixel.
    head = model.get_layer("ab")
    head.set_weights([w * 0.01 for w in head.get_weights()])
    out = colorize(rgb, model, size=64)
    assert out.shape == rgb.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    L_in = color.rgb_to_lab(rgb)[..., 0]
    L_out = color.rgb_to_lab(out)[..., 0]
    assert np.abs(color.rgb_to_lab(out)[..., 1:]).max() > 0.01  # it did add colour
    assert np.percentile(np.abs(L_in - L_out), 99) < 0.05


def test_colorize_accepts_gray_2d_and_sepia():
    model = models.build("seed16")
    g = (np.linspace(0, 255, 50 * 70).reshape(50, 70)).astype(np.uint8)
    assert colorize(g, model, size=32).shape == (50, 70, 3)
    sepia = np.stack([g, (g * 0.8).astype(np.uint8), (g * 0.6).astype(np.uint8)], -1)
    a = colorize(sepia, model, size=32)
    b = colorize(gray(sepia), model, size=32)  # a neutral gray with the same L
    assert a.shape == sepia.shape and np.abs(a - b).max() < 1e-3  # only L matters


def test_gray_baseline_has_no_colour():
    rgb = embedded_sample(["astronaut"])[0].rgb
    lab = color.rgb_to_lab(gray(rgb))
    assert np.abs(lab[..., 1:]).max() < 0.05
    assert metrics.colorfulness(gray(rgb)) < 0.1


def test_working_size_rule():
    assert working_size(480, 640, 224, 8) == (224, 296)
    h, w = working_size(1000, 37, 64, 8)
    assert h % 8 == 0 and w % 8 == 0 and w >= 8


def test_colorize_in_bands_equals_the_whole_photo_at_once(monkeypatch):
    """Big scans are made band by band (bands.BAND_PIXELS) from their own dtype: the
    model's L is the whole L area-averaged, the output the whole-photo computation's (L of
    the photo, ab resized by ops.image.resize, Lab -> RGB) to float rounding, the uint8
    output its rounding, and made in place (the photo becomes its colorized self) the same;
    with the L kept at full size and, above colorizer.LEAN_PIXELS, made again band by band."""
    from keras import ops

    from colorpast import bands, color, colorizer
    from colorpast.models import build

    rng = np.random.default_rng(0)
    photo = (rng.random((203, 317, 3)) * 255).astype(np.uint8)
    rgb = photo.astype(np.float32) / 255
    monkeypatch.setattr(bands, "BAND_PIXELS", 317 * 8)  # 26 bands of 8 rows, the last (3 rows) padded
    L = color.rgb_to_L(rgb)
    np.testing.assert_allclose(bands.full_res_L(photo), L, atol=1e-4)
    for size in [(64, 96), (40, 40), (101, 150)]:  # down both ways, and mixed shapes
        np.testing.assert_allclose(bands.small_L(photo, size), bands.resize_area(np.asarray(L), size), atol=2e-3)
    model = build("seed16")
    ((L_kept, ab_small),) = colorizer._predict_small([photo], model, 64)
    np.testing.assert_allclose(L_kept, L, atol=1e-4)
    monkeypatch.setattr(colorizer, "LEAN_PIXELS", 0)  # a scan too big to keep its L: made again in each band
    ((no_L, ab_lean),) = colorizer._predict_small([photo], model, 64)
    assert no_L is None
    np.testing.assert_allclose(ab_lean, ab_small, atol=1e-3)
    ab = ops.image.resize(ab_small, (203, 317), interpolation="bilinear")
    whole = ops.convert_to_numpy(color.lab_to_rgb(ops.concatenate([L, ab], axis=-1)))
    for kept in (L_kept, None):
        banded = bands._compose(photo, ab_small, L=kept)
        np.testing.assert_allclose(banded, whole, atol=1e-4)
        as_uint8 = bands._compose(photo, ab_small, np.uint8, L=kept)
        assert as_uint8.dtype == np.uint8 and np.abs(as_uint8.astype(int) - np.rint(whole * 255)).max() <= 1
        bgr = bands._compose(photo, ab_small, np.uint8, bgr=True, L=kept)
        np.testing.assert_array_equal(bgr, as_uint8[..., ::-1])
        itself = photo.copy()
        assert bands._compose(itself, ab_small, np.uint8, out=itself, L=kept) is itself
        np.testing.assert_array_equal(itself, as_uint8)


def test_colorize_paths_groups_photos_by_pixels_not_by_count(tmp_path):
    from PIL import Image

    from colorpast import photofiles

    sizes = {"a": (100, 100), "b": (100, 100), "big": (300, 200), "c": (50, 40)}
    for name, (w, h) in sizes.items():
        Image.new("RGB", (w, h)).save(tmp_path / f"{name}.png")
    (tmp_path / "bad.png").write_text("not an image")
    files = [tmp_path / f"{n}.png" for n in ("a", "b", "big", "c", "bad")]
    groups = [[f.stem for f in g] for g in photofiles._by_pixels(files, batch_size=8, batch_pixels=25_000)]
    assert groups == [["a", "b"], ["big"], ["c", "bad"]]  # the 60,000 px photo alone; an unreadable one counts 0
    assert [[f.stem for f in g] for g in photofiles._by_pixels(files, 2, 10**9)] == [["a", "b"], ["big", "c"], ["bad"]]
