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
    server.shutdown()  # a second session: the file is there, nothing is fetched; the server is gone
    server.server_close()  # (closed, so a fetch is refused at once instead of waiting for its timeout)
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


def test_a_model_for_hints_is_a_trained_one_else_the_published_2017_network(tmp_path, monkeypatch):
    from colorpast import weights

    def offline(name, **_):
        raise UserError(f"could not download the {name} weights")

    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setattr(weights, "fetch", offline)
    assert models.spec(photos.hints_model("anything", smoke=True)).hints
    lines = []
    assert photos.hints_model(str(tmp_path / "nothing"), log=lines.append) is None  # offline, nothing trained
    assert "using siggraph17:official" in lines[0] and "could not download the siggraph17 weights" in lines[-1]
    assert 'run this cell again online, or train one with 04_train (MODEL = "seed16_hints")' in lines[-1]
    plain = tmp_path / "plain.keras"
    models.build("seed16").save(plain)
    lines = []
    assert photos.hints_model(str(plain), log=lines.append) is None and "takes hints at" in lines[0]
    made = tmp_path / "hints.keras"
    models.build("seed16_hints").save(made)
    lines = []
    assert models.spec(photos.hints_model(str(made), log=lines.append)).hints and lines == []
    # A run's best epoch (HINTS_MODEL = "runs/NAME:best"), as evaluate and colorize take it.
    from colorpast import runs
    from colorpast.config import TrainConfig

    run = tmp_path / "runs" / "hints"
    run.mkdir(parents=True)
    TrainConfig(model="seed16_hints", data="data/prepared/x").to_json(run / runs.CONFIG)
    models.build("seed16_hints").save_weights(run / runs.BEST)
    assert models.spec(photos.hints_model(f"{run}:best", log=lines.append)).hints and lines == []
    from colorpast import app

    assert app.takes_hints(f"{run}:best")  # the app's brush is on for it, as for the run itself
    assert photos.choose_model(f"{run}:best", log=lines.append, reports=tmp_path / "reports") == f"{run}:best"
    (run / runs.BEST).unlink()
    said = []
    assert photos.choose_model(f"{run}:best", fallback=photos.HINTS_OFFICIAL, log=said.append) == photos.HINTS_OFFICIAL
    assert said[-1].endswith(":best: the run has no such weights yet: using siggraph17:official, Zhang et al.'s "
                              "published weights")
    # The published weights on disk (here random ones, converted as fetch does): used without a download.
    (tmp_path / "weights").mkdir()
    models.build("siggraph17").save_weights(tmp_path / "weights/siggraph17.weights.h5")
    model = photos.hints_model(str(tmp_path / "nothing"), log=lines.append)
    assert model.name == "siggraph17" and len(lines) == 1 and "using siggraph17:official" in lines[0]


def test_colours_by_position_on_a_grid_in_the_photos_pixels(tmp_path, monkeypatch):
    """06's own-colours cell: a grid labelled in the photo's pixels, points given as
    (x, y, colour name or hex) drawn and used, the result saved at full size; a point
    off the photo is one line."""
    import matplotlib

    matplotlib.use("Agg")

    assert [photos.grid_step(n) for n in (12, 451, 1000, 1001, 3000)] == [2, 50, 100, 200, 500]
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(np.full((60, 90, 3), 128, np.uint8)).save(folder / "b.png")
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(folder / "a.png")
    lines = []
    assert photos.pick_photo(folder) == folder / "a.png"
    assert photos.pick_photo(folder, "b.png") == folder / "b.png"
    assert photos.pick_photo(folder, "c.png", log=lines.append) is None and "its photos: a.png, b.png" in lines[0]
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    fig = photos.show_grid(folder / "b.png")
    ax = fig.axes[0]
    assert list(ax.get_xticks()) == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90] and ax.get_ylim() == (60, 0)
    model = models.build("seed16_hints")
    from colorpast import colorizer

    calls, real = [], colorizer.colorize
    monkeypatch.setattr(colorizer, "colorize", lambda *a, **k: calls.append(k.get("hints")) or real(*a, **k))
    out = photos.colorize_with_points(folder / "b.png", model, [(10, 20, "sky blue"), {"x": 80, "y": 50, "color": "#b22234"}],
                                      tmp_path / "out", log=lines.append)
    assert out == tmp_path / "out/b-hints.png" and Image.open(out).size == (90, 60)
    assert len(calls) == 2 and sum(c is None for c in calls) == 1  # once on its own, once with the points: not twice
    assert lines[-1] == f"2 colours given: {out}" and len(shown) == 2  # the grid, then the three panels
    with pytest.raises(UserError, match=r"POINTS: point 1 \(x=95, y=5\) is outside the 90 x 60 photo"):
        photos.colorize_with_points(folder / "b.png", model, [(95, 5, "red")], tmp_path / "out")
    with pytest.raises(UserError, match="colour 'blurple' does not parse"):
        photos.colorize_with_points(folder / "b.png", model, [(5, 5, "blurple")], tmp_path / "out")
