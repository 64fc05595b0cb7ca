"""06's worked example of hints: the photo fetched once, the hints in its pixels, a model that takes them."""

import http.server
import threading
from functools import partial

import numpy as np
import pytest
from PIL import Image

from colorpast import hints, models, photos
from colorpast.errors import UserError


@pytest.fixture
def served(tmp_path):
    """A folder served on 127.0.0.1 (standing in for GitHub), and the server."""
    root = tmp_path / "served"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_port}", server
    server.shutdown()


def test_the_example_photo_is_fetched_once_and_a_failed_fetch_is_one_line(tmp_path, served):
    root, base, server = served
    Image.fromarray(np.full((626, 800, 3), 128, np.uint8)).save(root / "1870sSphinx.jpg")
    lines = []
    got = photos.example_photo(tmp_path / "examples", url=f"{base}/1870sSphinx.jpg", log=lines.append)
    assert got == tmp_path / "examples/1870sSphinx.jpg" and got.read_bytes() == (root / "1870sSphinx.jpg").read_bytes()
    assert lines == [f"fetching the example photo from {base}/1870sSphinx.jpg"]
    server.shutdown()  # a second session: the file is there, nothing is fetched
    assert photos.example_photo(tmp_path / "examples", url=f"{base}/1870sSphinx.jpg", log=lines.append) == got
    assert len(lines) == 1
    with pytest.raises(UserError, match=r"^could not fetch the example photo http://127\.0\.0\.1:\d+/gone\.jpg"):
        photos.example_photo(tmp_path / "other", url=f"{base}/gone.jpg", log=lambda *_: None)
    assert not any((tmp_path / "other").iterdir())  # no partial file left behind


def test_smoke_uses_an_embedded_photo_in_black_and_white_offline(tmp_path):
    got = photos.example_photo(tmp_path, smoke=True)
    rgb = np.asarray(Image.open(got))
    assert rgb.ndim == 2 and min(rgb.shape) >= 64  # black and white, like an old print


def test_the_example_hints_are_points_inside_the_photo_that_parse(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(np.zeros((626, 800), np.uint8)).save(path)
    points = photos.example_hints(path)
    assert len(points) == len(photos.EXAMPLE_HINTS) == 12
    h = hints.points(points, (626, 800))  # what colorize(..., hints=points) does with them; raises if one is outside
    assert h is not None
    assert all(0 <= p["x"] < 800 and 0 <= p["y"] < 626 for p in points)
    sky = [hints.color_to_ab(c) for _, _, c in photos.EXAMPLE_HINTS[:6]]
    assert all(b < -10 for _, b in sky)  # blue: negative b


def test_a_model_for_hints_is_one_that_takes_them_or_none_with_a_line(tmp_path):
    assert models.spec(photos.hints_model("anything", smoke=True)).hints
    lines = []
    assert photos.hints_model(str(tmp_path / "nothing"), log=lines.append) is None
    plain = tmp_path / "plain.keras"
    models.build("seed16").save(plain)
    assert photos.hints_model(str(plain), log=lines.append) is None
    assert len(lines) == 2 and all('04_train (MODEL = "seed16_hints"' in line for line in lines)
    made = tmp_path / "hints.keras"
    models.build("seed16_hints").save(made)
    assert models.spec(photos.hints_model(str(made), log=lines.append)).hints and len(lines) == 2
