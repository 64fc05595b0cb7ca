"""Colour hints: parsing what users give, the hint map, revealing the truth, and training's simulation."""

import json

import numpy as np
import pytest
import skimage.color
from PIL import Image

from colorpast import hints
from colorpast.data.loader import STREAM_HINTS, uniforms
from colorpast.errors import UserError


@pytest.mark.parametrize("value, rgb", [
    ("#b22234", (178, 34, 52)), ("b22234", (178, 34, 52)), ("#ABC", (170, 187, 204)), ([10, 200, 30], (10, 200, 30)),
    ((0, 0, 255), (0, 0, 255)), ("red", (255, 0, 0)), ("Sky blue", (135, 206, 235)), ("dark-green", (0, 100, 0)),
    ("grey", (128, 128, 128)), (" Tan ", (210, 180, 140)),
])
def test_colours_parse(value, rgb):
    assert np.allclose(hints.parse_color(value) * 255, rgb)


@pytest.mark.parametrize("value", ["blurple", "#12345", "#gg0000", [300, 0, 0], [1, 2], [True, 0, 0], None, 7])
def test_colours_that_do_not_parse_are_one_line(value):
    with pytest.raises(UserError, match="does not parse") as e:
        hints.parse_color(value)
    assert "\n" not in str(e.value)


def test_a_colour_becomes_its_lab_ab_and_drops_its_L():
    # The paper's interface: the user's colour gives a and b; the photo keeps its own L.
    a, b = hints.color_to_ab("#b22234")
    ref = skimage.color.rgb2lab(np.array([[[178, 34, 52]]], np.float64) / 255.0)[0, 0]
    assert abs(a - ref[1]) < 1e-3 and abs(b - ref[2]) < 1e-3
    assert hints.color_to_ab("#808080") == pytest.approx((0.0, 0.0), abs=5e-3)  # gray: no colour (float32)


def test_points_validate_and_paint_a_patch_at_the_working_size():
    h = hints.points([{"x": 120, "y": 45, "color": "#b22234"}], (90, 240))
    assert len(h) == 1 and h.points[0].ab == pytest.approx(hints.color_to_ab("#b22234"))
    m = h.to_map((30, 80))  # a third of the photo's size
    on = np.argwhere(m[..., 2] > 0)
    # (x, y) = (120, 45) is (40, 15) at a third: a 3 x 3 patch centred there.
    assert on.min(0).tolist() == [14, 39] and on.max(0).tolist() == [16, 41] and len(on) == hints.POINT_SIZE ** 2
    assert np.allclose(m[15, 40, :2], hints.color_to_ab("#b22234"), atol=1e-4)
    assert np.all(m[m[..., 2] == 0][:, :2] == 0)


def test_points_near_the_edge_stay_inside_and_overlaps_average():
    h = hints.points([{"x": 0, "y": 0, "color": "#ff0000"}, {"x": 1, "y": 1, "color": "#0000ff"}], (50, 50))
    m = h.to_map((50, 50))
    assert m[0, 0, 2] == 1 and m[2, 2, 2] == 1 and m[3, 3, 2] == 0
    red, blue = np.array(hints.color_to_ab("#ff0000")), np.array(hints.color_to_ab("#0000ff"))
    assert np.allclose(m[1, 1, :2], (red + blue) / 2, atol=1e-3)  # both patches cover it


@pytest.mark.parametrize("items, message", [
    ([{"x": 240, "y": 5, "color": "#fff"}], r"point 1 \(x=240, y=5\) is outside the 240 x 90 photo"),
    ([{"x": 5, "y": -1, "color": "#fff"}], "outside"),
    ([{"x": 5, "y": 5}], "needs x, y and color"),
    ([{"x": "5", "y": 5, "color": "#fff"}], "non-numeric"),
    ([{"x": 5, "y": 5, "color": "blue-ish"}], "point 1: colour 'blue-ish' does not parse"),
    ({"x": 5}, "expected a list of points"),
])
def test_bad_points_name_the_point(items, message):
    with pytest.raises(UserError, match=message):
        hints.points(items, (90, 240))


def test_a_scribble_is_its_strokes_weighted_by_opacity():
    rgba = np.zeros((40, 60, 4), np.uint8)
    rgba[10:20, 10:30] = (0, 128, 0, 255)  # a green stroke
    rgba[30:32, 40:60] = (255, 0, 0, 128)  # a half-transparent red one
    h = hints.scribble(rgba, (40, 60))
    m = h.to_map((20, 30))
    green = np.array(hints.color_to_ab("#008000"))
    assert np.allclose(m[7, 10, :2], green, atol=1e-3) and m[7, 10, 2] == 1
    assert m[15, 20, 2] == 1 and np.allclose(m[15, 20, :2], hints.color_to_ab("#ff0000"), atol=1e-3)
    assert m[2, 2, 2] == 0 and np.all(m[2, 2, :2] == 0)


def test_bad_scribbles_are_one_line(tmp_path):
    with pytest.raises(UserError, match="is 30 x 20 but the photo is 60 x 40"):
        hints.scribble(np.zeros((20, 30, 4), np.uint8), (40, 60))
    with pytest.raises(UserError, match="no transparency"):
        hints.scribble(np.zeros((40, 60, 3), np.uint8), (40, 60))
    Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(tmp_path / "opaque.png")
    with pytest.raises(UserError, match="no transparency"):
        hints.load(tmp_path / "opaque.png", (40, 60))
    (tmp_path / "bad.json").write_text("[{")
    with pytest.raises(UserError, match="not valid JSON"):
        hints.load(tmp_path / "bad.json", (40, 60))
    with pytest.raises(UserError, match="no such hints file"):
        hints.load(tmp_path / "missing.json", (40, 60))
    (tmp_path / "junk.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match="not a readable scribble"):
        hints.load(tmp_path / "junk.png", (40, 60))


def test_files_load_as_they_parse(tmp_path):
    (tmp_path / "h.json").write_text(json.dumps([{"x": 3, "y": 4, "color": [0, 0, 255]}]))
    assert hints.load(tmp_path / "h.json", (40, 60)).points[0].x == 3
    rgba = np.zeros((40, 60, 4), np.uint8)
    rgba[5:8, 5:8] = (0, 0, 255, 255)
    Image.fromarray(rgba).save(tmp_path / "s.png")
    m = hints.load(tmp_path / "s.png", (40, 60)).to_map((40, 60))
    assert m[..., 2].sum() == 9


def test_reveal_is_deterministic_and_reveals_the_true_mean():
    rgb = np.zeros((60, 90, 3), np.uint8)
    rgb[:, :45] = (200, 40, 40)
    rgb[:, 45:] = (40, 40, 200)
    a = hints.reveal(rgb, 10, (30, 45), seed=3)
    b = hints.reveal(rgb, 10, (30, 45), seed=3)
    assert [p.x for p in a.points] == [p.x for p in b.points] and len(a) == 10
    assert [p.x for p in hints.reveal(rgb, 10, (30, 45), seed=4).points] != [p.x for p in a.points]
    red, blue = np.array(hints.color_to_ab("#c82828")), np.array(hints.color_to_ab("#2828c8"))
    for p in a.points:
        if p.x < 40:  # its patch lies in the red half
            assert np.allclose(p.ab, red, atol=0.2)
        elif p.x > 50:
            assert np.allclose(p.ab, blue, atol=0.2)
    assert len(hints.reveal(rgb, 0, (30, 45))) == 0


def test_training_draws_and_simulation():
    u = uniforms(7, range(4000), hints.DRAWS, stream=STREAM_HINTS)
    p = hints.draw(u, 32)
    counts = p[..., 3].sum(1)
    assert p.shape == (4000, hints.MAX_POINTS, 4)
    assert abs(np.mean(counts == 0) - hints.NO_HINTS) < 0.03  # a quarter get none
    assert counts.max() == hints.MAX_POINTS and np.percentile(counts[counts > 0], 50) < 12  # log-uniform: many few
    on = p[p[..., 3] > 0]
    assert on[:, 2].min() == 1 and on[:, 2].max() == 9
    assert np.all(on[:, 0] + on[:, 2] <= 32) and np.all(on[:, 1] + on[:, 2] <= 32) and on[:, :2].min() >= 0

    rng = np.random.default_rng(0)
    ab = rng.normal(size=(2, 16, 16, 2)).astype(np.float32) * 30
    patches = np.zeros((2, hints.MAX_POINTS, 4), np.float32)
    patches[0, 0] = (2, 3, 4, 1)  # rows 2..5, columns 3..6
    patches[0, 1] = (10, 10, 1, 1)
    patches[0, 2] = (0, 0, 5, 0)  # off: reveals nothing
    m = np.asarray(hints.simulate(ab, patches))
    assert np.allclose(m[0, 2:6, 3:7, :2], ab[0, 2:6, 3:7].mean((0, 1)), atol=1e-4)
    assert np.allclose(m[0, 10, 10, :2], ab[0, 10, 10], atol=1e-4)
    assert m[0, ..., 2].sum() == 16 + 1 and m[1].sum() == 0


def test_the_train_step_reveals_each_crops_own_colour():
    """The hint map the model trains on comes from the same crop as its L: a red crop
    beside a blue one in a batch, each hinted, reveals red on the first and blue on
    the second (not the neighbour's colour, as a batch rolled by one would)."""
    from colorpast.data.loader import IDENTITY
    from colorpast.models import build
    from colorpast.train_step import Colorizer

    trainer = Colorizer(build("seed16_hints", (None, None, 1)))
    seen = []
    trainer.net = lambda x, training=False: seen.append(x) or x[1]
    rgb = np.zeros((3, 16, 16, 3), np.uint8)
    rgb[0, ..., 0] = 200  # red
    rgb[1, ..., 2] = 200  # blue
    rgb[2, ..., 1] = 200  # green
    patches = np.zeros((3, hints.MAX_POINTS, 4), np.float32)
    patches[:, 0] = (4, 5, 3, 1)
    trainer({"rgb": rgb, "transform": np.tile(IDENTITY, (3, 1)), "hints": patches})
    L, hint_map = (np.asarray(v) for v in seen[0])
    assert L.shape == (3, 16, 16, 1)
    for i, colour in enumerate([(200, 0, 0), (0, 0, 200), (0, 200, 0)]):
        want = hints.color_to_ab(colour)
        np.testing.assert_allclose(hint_map[i, 5, 6, :2], want, atol=0.5, err_msg=f"crop {i}")
        assert hint_map[i, 5, 6, 2] == 1 and hint_map[i, 0, 0, 2] == 0


def test_the_hints_are_revealed_from_the_augmented_crop_the_model_sees():
    """Training augments each crop (flips, rotations, zoom) before its L and ab are taken:
    the hints must come from that augmented crop, where the model sees the place they
    mark. A crop red on its left and blue on its right, flipped left to right: a hint on
    the left of what the model sees is blue, the truth's own colour there."""
    from colorpast.models import build
    from colorpast.train_step import Colorizer

    trainer = Colorizer(build("seed16_hints", (None, None, 1)))
    seen = []
    trainer.net = lambda x, training=False: seen.append(x) or x[1]
    rgb = np.zeros((1, 16, 16, 3), np.uint8)
    rgb[0, :, :8, 0] = 200  # red on the left
    rgb[0, :, 8:, 2] = 200  # blue on the right
    flip = np.array([[-1, 0, 15, 0, 1, 0, 0, 0]], np.float32)  # output x samples the input at 15 - x
    patches = np.zeros((1, hints.MAX_POINTS, 4), np.float32)
    patches[0, 0] = (4, 1, 3, 1)  # rows 4..6, columns 1..3: the left of what the model sees
    out = trainer({"rgb": rgb, "transform": flip, "hints": patches})
    hint_map, truth = np.asarray(seen[0][1]), np.asarray(out["ab"])
    np.testing.assert_allclose(hint_map[0, 5, 2, :2], truth[0, 4:7, 1:4].mean((0, 1)), atol=1e-3)
    np.testing.assert_allclose(hint_map[0, 5, 2, :2], hints.color_to_ab((0, 0, 200)), atol=0.5)  # blue, not red


def _map(shape, pts):
    """A hint map of ``shape`` (h, w) with ``POINT_SIZE`` patches at ``(y, x, a, b)``."""
    m = np.zeros((*shape, 3), np.float32)
    for y, x, a, b in pts:
        m[y - 1:y + 2, x - 1:x + 2] = (a, b, 1.0)
    return m


def test_honour_paints_a_lone_hint_back_on_its_object_only():
    h, w = 60, 80
    L = np.full((h, w), 30.0, np.float32)
    L[:, 40:] = 80.0  # a dark object on the left, a light one on the right
    ab = np.zeros((h, w, 2), np.float32)
    ab[..., 0] = 5.0  # the model's colour: a (5, 0) everywhere
    out = hints.honour(ab, L, _map((h, w), [(20, 20, 9.0, -4.0)]))  # a miss of (4, -4): under CARRIED
    assert np.allclose(out[19:22, 19:22], (9.0, -4.0), atol=0.3)  # the hinted spot ends at its colour
    assert np.allclose(out[50, 35], (9.0, -4.0), atol=1.0)  # a lone hint reaches across its object
    assert np.allclose(out[:, 40:], ab[:, 40:], atol=1e-3)  # the light object is not tinted
    assert out.dtype == np.float32 and out.shape == ab.shape
    # a colour the model did not expect: its miss is carried CARRIED long, in its direction
    far = hints.honour(ab, L, _map((h, w), [(20, 20, 45.0, -30.0)]))  # a miss of (40, -30): 50 long
    assert np.allclose(far[20, 20], ab[20, 20] + np.array([40.0, -30.0]) * hints.CARRIED / 50, atol=0.3)
    whole = hints.honour(ab, L, _map((h, w), [(20, 20, 45.0, -30.0)]), carried=0)  # 0: all of it
    assert np.allclose(whole[20, 20], (45.0, -30.0), atol=1.0)


def test_honour_without_hints_or_reach_is_the_model_and_never_overshoots():
    rng = np.random.default_rng(0)
    h, w = 96, 128
    L = (np.linspace(20, 90, w)[None, :] + rng.normal(0, 2, (h, w))).astype(np.float32)
    ab = rng.normal(0, 20, (h, w, 2)).astype(np.float32)  # a model's colours, pixel by pixel
    assert hints.honour(ab, L, np.zeros((h, w, 3), np.float32)) is not None
    assert np.array_equal(hints.honour(ab, L, np.zeros((h, w, 3), np.float32)), ab)
    pts = [(int(y), int(x), *rng.normal(0, 30, 2)) for y in (10, 45, 85) for x in (10, 60, 115)]  # nine hints
    m = _map((h, w), pts)
    assert np.array_equal(hints.honour(ab, L, m, reach=0), ab)
    out = hints.honour(ab, L, m, carried=0)  # every miss carried whole
    # each pixel's correction is a weighted mean of the misses and none: inside their range
    miss = (m[..., :2] - ab)[m[..., 2] > 0]
    corr = out - ab
    for c in range(2):
        assert corr[..., c].min() >= min(0.0, miss[:, c].min()) - 1e-3
        assert corr[..., c].max() <= max(0.0, miss[:, c].max()) + 1e-3
    # and each hinted patch ends, on average over it, nearer its hint than the model left it
    # (not at it: hints of one lightness 40 px apart share their misses, here unrelated ones)
    def patch_miss(x):
        return np.mean([np.abs(m[y, x_, :2] - x[y - 1:y + 2, x_ - 1:x_ + 2].reshape(-1, 2).mean(0)).mean()
                        for y, x_, _, _ in pts])

    assert patch_miss(out) < 0.8 * patch_miss(ab)


def test_honour_groups_a_large_scribble_and_colours_its_region():
    h, w = 224, 320
    L = np.full((h, w), 50.0, np.float32)
    ab = np.zeros((h, w, 2), np.float32)
    m = np.zeros((h, w, 3), np.float32)
    m[20:200, 20:300] = (6.0, 2.0, 1.0)  # most of the photo painted: far more pixels than CELLS groups
    assert (m[..., 2] > 0).sum() // hints.POINT_SIZE ** 2 > hints.CELLS
    out = hints.honour(ab, L, m)
    assert np.allclose(out[30:190, 30:290], (6.0, 2.0), atol=0.1)
