"""06's colours you know (colorpast.photo_hints): the worked example's photo fetched once, its hints in
its pixels, a model that takes them, and your own photo's colours by position."""

import http.server
import threading
from functools import partial

import numpy as np
import pytest
from app_fixture import nothing_at_hand  # noqa: F401
from PIL import Image

from colorpast import hints, models, photo_hints
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
    got = photo_hints.example_photo(tmp_path / "examples", url=f"{base}/1870sSphinx.jpg", log=lines.append)
    assert got == tmp_path / "examples/1870sSphinx.jpg" and got.read_bytes() == (root / "1870sSphinx.jpg").read_bytes()
    assert lines == [f"fetched the example photo from {base}/1870sSphinx.jpg"]
    server.shutdown()  # a second session: the file is there, nothing is fetched; the server is gone
    server.server_close()  # (closed, so a fetch is refused at once instead of waiting for its timeout)
    assert photo_hints.example_photo(tmp_path / "examples", url=f"{base}/1870sSphinx.jpg", log=lines.append) == got
    assert len(lines) == 1
    assert photo_hints.example_photo(tmp_path / "other", url=f"{base}/gone.jpg", log=lines.append) is None  # offline
    assert len(lines) == 2 and lines[1].startswith(f"could not fetch the example photo {base}/gone.jpg (")
    assert lines[1].endswith("run this cell again online to see it; your own photos below need no network")
    assert not any((tmp_path / "other").iterdir())  # no partial file left behind
    # The example's cell with that: one line, no figure, nothing raised.
    assert photo_hints.show_example(tmp_path / "other", models.build("seed16_hints"), log=lines.append) is None
    assert photo_hints.show_example(tmp_path / "other", None, log=lines.append) is None
    assert lines[-1].startswith("the worked example is skipped: there is no model that takes colour hints")


def test_smoke_uses_an_embedded_photo_in_black_and_white_offline(tmp_path):
    got = photo_hints.example_photo(tmp_path, smoke=True)
    rgb = np.asarray(Image.open(got))
    assert rgb.ndim == 2 and min(rgb.shape) >= 64  # black and white, like an old print


def test_the_example_hints_are_points_inside_the_photo_that_parse(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(np.zeros((626, 800), np.uint8)).save(path)
    points = photo_hints.example_hints(path)
    assert len(points) == len(photo_hints.EXAMPLE_HINTS) == 12
    h = hints.points(points, (626, 800))  # what colorize(..., hints=points) does with them; raises if one is outside
    assert h is not None
    assert all(0 <= p["x"] < 800 and 0 <= p["y"] < 626 for p in points)
    sky = [hints.color_to_ab(c) for _, _, c in photo_hints.EXAMPLE_HINTS[:6]]
    assert all(b < -10 for _, b in sky)  # blue: negative b


def test_a_model_for_hints_is_a_trained_one_else_the_published_2017_network(tmp_path, monkeypatch, nothing_at_hand):
    """06's hints_model: a model that takes hints as named, else model_choice's list, said
    in one true line; offline with none at hand, (None, None) and one line saying what to do."""
    from colorpast import model_choice

    monkeypatch.chdir(tmp_path)
    ref, model = photo_hints.hints_model("anything", smoke=True)
    assert ref is None and models.spec(model).hints
    lines = []
    assert photo_hints.hints_model(str(tmp_path / "nothing"), log=lines.append) == (None, None)  # offline, nothing trained
    assert len(lines) == 1 and "using" not in lines[0] and "could not download the siggraph17 weights" in lines[0]
    assert "colorpast train --model effunet_hints" in lines[0]
    plain = tmp_path / "plain.keras"
    models.build("seed16").save(plain)
    lines = []
    assert photo_hints.hints_model(str(plain), log=lines.append) == (None, None)
    assert lines[0].startswith(f"{plain} takes no colour hints: no model that takes colour hints")
    made = tmp_path / "hints.keras"
    models.build("seed16_hints").save(made)
    lines = []
    ref, model = photo_hints.hints_model(str(made), log=lines.append)
    assert ref == str(made) and models.spec(model).hints and lines == []
    # A run's best epoch (HINTS_MODEL = "runs/NAME:best"), as evaluate and colorize take it.
    from colorpast import runs
    from colorpast.config import TrainConfig

    run = tmp_path / "runs" / "hints"
    run.mkdir(parents=True)
    TrainConfig(model="seed16_hints", data="data/prepared/x").to_json(run / runs.CONFIG)
    models.build("seed16_hints").save_weights(run / runs.BEST)
    ref, model = photo_hints.hints_model(f"{run}:best", log=lines.append)
    assert ref == f"{run}:best" and models.spec(model).hints and lines == []
    assert model_choice.takes_hints(f"{run}:best")  # the app's brush is on for it, as for the run itself
    assert model_choice.automatic(f"{run}:best", log=lines.append) == f"{run}:best"
    (run / runs.BEST).unlink()
    said = []
    assert model_choice.for_hints(f"{run}:best", log=said.append) is None
    assert said[-1].startswith(f"{run}:best: the run has no best weights yet: no model that takes colour hints")
    # The published weights on disk (here random ones, converted as fetch does): used without a download.
    (tmp_path / "weights").mkdir()
    models.build("siggraph17").save_weights(tmp_path / "weights/siggraph17.weights.h5")
    ref, model = photo_hints.hints_model(str(tmp_path / "nothing"), log=lines.append)
    assert ref == "siggraph17:official" and model.name == "siggraph17" and len(lines) == 1
    assert lines[0] == (f"no trained model at {str(tmp_path / 'nothing')!r}: using siggraph17:official, Zhang et al. "
                        "2017's published network")


def test_colours_by_position_on_a_grid_in_the_photos_pixels(tmp_path, monkeypatch):
    """06's own-colours cell: a grid labelled in the photo's pixels, points given as
    (x, y, colour name or hex) drawn and used, the result saved at full size where no
    other result is; a point off the photo is one line, and so is no model at all."""
    import matplotlib

    matplotlib.use("Agg")

    assert [photo_hints.grid_step(n) for n in (12, 451, 1000, 1001, 3000)] == [2, 50, 100, 200, 500]
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(np.full((60, 90, 3), 128, np.uint8)).save(folder / "b.png")
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(folder / "a.png")
    lines = []
    assert photo_hints.pick_photo(folder, log=lines.append) == folder / "a.png"
    assert lines == ["using a.png, the first of 2 photos (also: b.png); HINT_PHOTO names another by its path below "
                     f"{folder}"]
    assert photo_hints.pick_photo(folder, "b.png") == folder / "b.png"
    assert photo_hints.pick_photo(folder, "c.png", log=lines.append) is None and "its photos: a.png, b.png" in lines[-1]
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    fig = photo_hints.show_grid(folder / "b.png")
    ax = fig.axes[0]
    assert list(ax.get_xticks()) == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90] and ax.get_ylim() == (60, 0)
    model = models.build("seed16_hints")
    from colorpast import colorizer

    calls, real = [], colorizer.colorize
    monkeypatch.setattr(colorizer, "colorize", lambda *a, **k: calls.append(k.get("hints")) or real(*a, **k))
    given = [(10, 20, "sky blue"), {"x": 80, "y": 50, "color": "#b22234"}]
    out = photo_hints.colorize_with_points(folder / "b.png", model, given, tmp_path / "out", folder=folder,
                                           log=lines.append)
    assert out == tmp_path / "out/hints/b.png" and Image.open(out).size == (90, 60)
    assert calls == [None]  # on its own, at display size; the one with the points is the full-size result
    assert lines[-1] == f"2 colours given: {out}" and len(shown) == 2  # the grid, then the three panels
    again = photo_hints.colorize_with_points(folder / "b.png", model, given[:1], tmp_path / "out", folder=folder)
    assert again == tmp_path / "out/hints/b-2.png" and out.is_file()  # a second result never replaces the first
    with pytest.raises(UserError, match=r"POINTS: point 1 \(x=95, y=5\) is outside the 90 x 60 photo"):
        photo_hints.colorize_with_points(folder / "b.png", model, [(95, 5, "red")], tmp_path / "out")
    with pytest.raises(UserError, match="colour 'blurple' does not parse"):
        photo_hints.colorize_with_points(folder / "b.png", model, [(5, 5, "blurple")], tmp_path / "out")
    assert photo_hints.colorize_with_points(folder / "b.png", None, given, tmp_path / "out", log=lines.append) is None
    assert lines[-1].startswith("your colours are not used: no model that takes colour hints: ")


def test_pick_photo_says_which_it_took_when_several_match(tmp_path):
    """On Colab each session's upload has its folder: a.jpg may be in two. A name takes the
    first and one line names the others; a path below the folder takes that one; a name
    is matched whole (b.jpg is not a.jpg's match because it ends with it)."""
    folder = tmp_path / "photos"
    for rel in ("upload-1/a.jpg", "upload-2/a.jpg", "upload-2/ba.jpg"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / rel)
    lines = []
    assert photo_hints.pick_photo(folder, "a.jpg", log=lines.append) == folder / "upload-1/a.jpg"
    assert lines == ["using upload-1/a.jpg, the first of 2 photos named 'a.jpg' (also: upload-2/a.jpg); HINT_PHOTO "
                     f"names another by its path below {folder}"]
    assert photo_hints.pick_photo(folder, "upload-2/a.jpg", log=lines.append) == folder / "upload-2/a.jpg"
    assert photo_hints.pick_photo(folder, "ba.jpg", log=lines.append) == folder / "upload-2/ba.jpg" and len(lines) == 1


def test_the_hints_results_of_two_photos_of_one_name_are_two_files(tmp_path):
    """a.jpg and a.png side by side, and a.jpg in two uploads: four results, none replaced."""
    folder = tmp_path / "photos"
    for rel in ("a.jpg", "a.png", "upload-1/a.jpg"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(folder / rel)
    got = [photo_hints.hints_path(folder / rel, folder, tmp_path / "out") for rel in ("a.jpg", "a.png", "upload-1/a.jpg")]
    assert got == [tmp_path / "out/hints/a-jpg.png", tmp_path / "out/hints/a-png.png", tmp_path / "out/hints/upload-1/a.png"]
