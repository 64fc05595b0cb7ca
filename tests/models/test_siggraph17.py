"""Zhang et al. 2017's published hint network: the Keras model against a PyTorch
reference with random weights, the converter's strictness, and its fetch."""

import hashlib

import numpy as np
import pytest

from conftest import missing

try:
    import torch
except ImportError:
    missing("torch is not installed (the SIGGRAPH17 reference network needs it)", module=True)

from colorpast import hints, models, weights  # noqa: E402
from colorpast.errors import UserError  # noqa: E402
from colorpast.pth import read_pth  # noqa: E402

from siggraph17_reference import random_reference, to_numpy_ab  # noqa: E402
from test_weights import serve  # noqa: E402,F401 - the local server fixture


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A random reference network and its state_dict saved as the release's file is."""
    net = random_reference()
    path = tmp_path_factory.mktemp("pth") / "siggraph17.pth"
    torch.save(net.state_dict(), path)
    return net, path


def _hint_map(n, h, w, seed=0):
    """Points of colour at random places, as colorpast.hints paints them: a, b where given, a mask."""
    rng = np.random.default_rng(seed)
    m = np.zeros((n, h, w, 3), np.float32)
    for i in range(n):
        for _ in range(6):
            y, x = rng.integers(0, h - 3), rng.integers(0, w - 3)
            m[i, y:y + 3, x:x + 3] = (*rng.uniform(-60, 60, 2), 1.0)
    return m


def test_the_release_converted_reproduces_the_reference_with_and_without_hints(reference, tmp_path, monkeypatch):
    net, pth = reference
    out = weights.siggraph17_from_state_dict(read_pth(pth))
    out.save_weights(tmp_path / "siggraph17.weights.h5")
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path))
    model = models.build("siggraph17", weights="official")
    # Non-square, a batch of two, L over its whole range, hints in each photo: catches H/W
    # swaps, the subsampling's phase, transposed kernels, dilation, the skips, BatchNorm
    # epsilon, the input scaling and the mask.
    rng = np.random.default_rng(0)
    L = rng.uniform(0, 100, (2, 64, 48, 1)).astype(np.float32)
    given = _hint_map(2, 64, 48)
    for hint_map in (np.zeros_like(given), given):
        want = to_numpy_ab(net, L, hint_map)
        got = models.predict_ab(model, L, hints=hint_map)
        assert got.shape == want.shape == (2, 64, 48, 2)
        assert np.abs(want).max() > 5  # a real, coloured output
        assert np.abs(got - want).max() <= 2e-3, np.abs(got - want).max()
    assert np.abs(to_numpy_ab(net, L, given) - to_numpy_ab(net, L, 0 * given)).max() > 1  # the hints matter
    spec = models.spec("siggraph17")
    assert spec.hints and spec.multiple == 8 and spec.default_size == 256


def test_a_file_of_another_layout_is_refused_in_one_line(reference):
    _, pth = reference
    sd = read_pth(pth)
    with pytest.raises(UserError, match="lacks 1 of the release's keys, e.g. model8up.0.bias"):
        weights.siggraph17_from_state_dict({k: v for k, v in sd.items() if k != "model8up.0.bias"})
    with pytest.raises(UserError, match="keys this network does not have, e.g. model11.0.weight"):
        weights.siggraph17_from_state_dict({**sd, "model11.0.weight": np.zeros(3, np.float32)})
    with pytest.raises(UserError, match="model1.0: shapes"):
        weights.siggraph17_from_state_dict({**sd, "model1.0.weight": np.zeros((64, 3, 3, 3), np.float32)})


def test_fetch_downloads_checks_converts_and_colorizes_with_hints(reference, serve, tmp_path, monkeypatch):  # noqa: F811
    from colorpast.cli import main
    from colorpast.colorizer import colorize, load_model

    net, pth = reference
    payload = pth.read_bytes()
    rel = weights.RELEASES["siggraph17"]
    monkeypatch.setitem(weights.RELEASES, "siggraph17", weights.Release(
        serve(payload), hashlib.sha256(payload).hexdigest(), rel.filename, rel.converted, kind="siggraph17"))
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path))
    with pytest.raises(UserError, match="colorpast weights fetch siggraph17"):
        load_model("siggraph17:official")
    assert main(["weights", "fetch", "siggraph17"]) == 0
    assert (tmp_path / rel.filename).is_file() and (tmp_path / rel.converted).is_file()
    model = load_model("siggraph17:official")
    L = np.random.default_rng(1).uniform(0, 100, (1, 32, 40, 1)).astype(np.float32)
    hint_map = _hint_map(1, 32, 40, seed=1)
    assert np.abs(models.predict_ab(model, L, hints=hint_map) - to_numpy_ab(net, L, hint_map)).max() <= 2e-3
    # A photo with points given in its own pixels: the result follows them.
    rgb = np.full((40, 60, 3), 120, np.uint8)
    plain = colorize(rgb, model, size=32)
    red = colorize(rgb, model, size=32, hints=hints.points([{"x": 30, "y": 20, "color": "#b22234"}], (40, 60)))
    assert plain.shape == red.shape == (40, 60, 3) and np.abs(plain - red).max() > 0.01
    # Scored by the 2017 paper's protocol beside gray: true colours revealed at N random points.
    import csv

    from prepared_fixture import make_prepared

    prep = tmp_path / "prep"
    make_prepared(prep, {"train": 2, "test": 2}, size=32, per_shard=2)
    assert main(["evaluate", "--data", str(prep), "--models", "siggraph17:official", "--out", str(tmp_path / "r"),
                 "--size", "32", "--hints", "0", "5"]) == 0
    rows = {r["method"]: r for r in csv.DictReader(open(tmp_path / "r/metrics.csv"))}
    assert set(rows) == {"gray", "siggraph17:official (0 hints)", "siggraph17:official (5 hints)"}
