"""The ageing transform: deterministic, each damage does what it says, and the loader draws it."""

import numpy as np
import pytest

from colorpast import ageing, color
from colorpast.data.loader import STREAM_AGEING, Loader, uniforms
from colorpast.data.sources import embedded_sample


@pytest.fixture(scope="module")
def photo():
    return embedded_sample(["coffee"])[0].rgb[::2, ::2]  # 200 x 300 uint8


def _params(**set_):
    """A print with every damage off except those given."""
    p = dict(on=1.0, blur=0.0, gamma=1.0, black=0.0, white=1.0, grain=0.0, seed=0.3, scratches=0.0, dust=0.0,
             tone=0.0, cool=0.0)
    p.update(set_)
    return np.array([[p[k] for k in ageing.PARAMS]], np.float32)


def _L(rgb):
    return color.rgb_to_L(np.asarray(rgb, np.float32))[..., 0]


def test_no_damage_keeps_the_lightness_and_off_keeps_the_photo(photo):
    x = photo[None].astype(np.float32) / 255.0
    clean = np.asarray(ageing.apply(x, _params()))[0]
    assert np.abs(_L(clean) - _L(x[0])).max() < 0.05  # gray print of the same lightness
    assert np.abs(clean[..., 0] - clean[..., 2]).max() < 0.01  # no tone: gray
    off = np.asarray(ageing.apply(x, _params(on=0.0, blur=1.5, grain=0.07)))[0]
    assert np.array_equal(off, x[0])


def test_each_damage_changes_what_it_should(photo):
    x = photo[None].astype(np.float32) / 255.0
    L0 = _L(np.asarray(ageing.apply(x, _params()))[0])

    def L(**p):
        return _L(np.asarray(ageing.apply(x, _params(**p)))[0])

    faded = L(black=0.2, white=0.8)
    assert faded.min() > L0.min() + 10 and faded.max() < L0.max() - 5  # contrast squeezed
    blurred = L(blur=1.5)
    assert np.abs(np.diff(blurred, axis=1)).mean() < 0.8 * np.abs(np.diff(L0, axis=1)).mean()
    grainy = L(grain=0.07)
    assert 3 < np.std(grainy - L0) < 9  # about 7 % of the range, in L units
    scratched = L(scratches=3.0)
    assert 0.002 < np.mean(scratched - L0 > 5) < 0.2  # thin bright lines
    dusty = L(dust=0.003)
    assert 0.001 < np.mean(np.abs(dusty - L0) > 20) < 0.01
    sepia = np.asarray(ageing.apply(x, _params(tone=25.0)))[0]
    ab = color.rgb_to_lab(sepia)[..., 1:]
    assert ab[..., 1].mean() > 5 and ab[..., 0].mean() > 0  # warm: yellow and a little red
    cool = color.rgb_to_lab(np.asarray(ageing.apply(x, _params(tone=25.0, cool=1.0)))[0])[..., 1:]
    assert cool[..., 1].mean() < -5


def test_age_photo_is_deterministic_per_seed(photo):
    a, b, c = ageing.age_photo(photo, 1), ageing.age_photo(photo, 1), ageing.age_photo(photo, 2)
    assert a.dtype == np.uint8 and a.shape == photo.shape
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.abs(_L(a / 255.0) - _L(photo / 255.0)).mean() > 1


def test_draws_follow_the_share_and_the_ranges():
    p = ageing.draw(uniforms(0, range(3000), ageing.DRAWS, stream=STREAM_AGEING), 0.5)
    P = {k: p[:, i] for i, k in enumerate(ageing.PARAMS)}
    assert abs(P["on"].mean() - 0.5) < 0.04
    assert P["blur"].max() <= ageing.BLUR_MAX and abs(np.mean(P["blur"] == 0) - 1 / 3) < 0.04
    assert P["gamma"].min() >= 0.75 and P["gamma"].max() <= 1.35
    assert P["black"].max() <= 0.25 and P["white"].min() >= 0.75
    assert set(np.unique(P["scratches"])) <= {0.0, 1.0, 2.0, 3.0}
    assert np.all(ageing.draw(uniforms(0, range(10), ageing.DRAWS), 0.0)[:, 0] == 0)


def test_the_loader_draws_hints_and_ageing_from_their_own_streams():
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 255, (40, 40, 3), np.uint8) for _ in range(6)]
    plain = Loader(imgs, 4, 32, seed=5)
    extra = Loader(imgs, 4, 32, seed=5, hints=True, age=0.5)
    a, b = plain.batch(3), extra.batch(3)
    assert set(a) == {"rgb", "transform"} and set(b) == {"rgb", "transform", "hints", "age"}
    assert np.array_equal(a["rgb"], b["rgb"]) and np.array_equal(a["transform"], b["transform"])
    assert b["hints"].shape == (4, 64, 4) and b["age"].shape == (4, len(ageing.PARAMS))
    again = Loader(imgs, 4, 32, seed=5, hints=True, age=0.5).batch(3)
    assert np.array_equal(again["hints"], b["hints"]) and np.array_equal(again["age"], b["age"])
    assert len(extra.element(13)) == 4
    val = Loader(imgs, 4, 32, train=False, hints=True, age=0.5)
    assert np.array_equal(val.batch(0)["hints"], val.batch(0)["hints"])
    with pytest.raises(ValueError, match="share"):
        Loader(imgs, 4, 32, age=1.5)
