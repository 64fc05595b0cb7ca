"""The official-weights path: .pth reading without torch, conversion, download."""

import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from conftest import missing

try:
    import torch
except ImportError:
    missing("torch is not installed (the ECCV16 reference network needs it)", module=True)

from colorpast import models, pth, weights  # noqa: E402
from colorpast.errors import UserError  # noqa: E402

from eccv16_reference import random_reference, to_numpy_ab  # noqa: E402


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A random reference network and its state_dict saved as the official file is."""
    net = random_reference()
    path = tmp_path_factory.mktemp("pth") / "eccv16.pth"
    torch.save(net.state_dict(), path)
    return net, path


def test_read_pth_without_torch_both_formats(tmp_path):
    sd = {
        "a.weight": torch.arange(24, dtype=torch.float32).reshape(2, 3, 4),
        "a.num_batches_tracked": torch.tensor(7),
        "b": torch.arange(12, dtype=torch.float64).reshape(3, 4).t(),  # a strided view
    }
    for legacy in (False, True):
        p = tmp_path / f"x{legacy}.pth"
        torch.save(sd, p, _use_new_zipfile_serialization=not legacy)
        got = pth.read_pth(p)
        assert sorted(got) == sorted(sd)
        for k, v in sd.items():
            assert got[k].dtype == v.numpy().dtype
            np.testing.assert_array_equal(got[k], v.numpy())


def test_read_pth_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    p = tmp_path / "evil.pth"
    torch.save({"x": Evil()}, p)
    with pytest.raises(UserError, match=r"refusing to load \w+\.print"):
        pth.read_pth(p)


def test_converted_weights_reproduce_the_pytorch_release(reference, tmp_path, monkeypatch):
    net, pth = reference
    out = weights.convert_colorful(pth, tmp_path / "colorful_eccv16.weights.h5")
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path))
    model = models.build("colorful", weights="official")
    # Non-square, batch of two, L over its whole range: catches H/W swaps, padding
    # offsets, transposed-kernel layout, dilation, BatchNorm epsilon and the 2.606 scale.
    rng = np.random.default_rng(0)
    L = rng.uniform(0, 100, (2, 64, 48, 1)).astype(np.float32)
    want = to_numpy_ab(net, L)
    got = models.predict_ab(model, L)
    assert got.shape == want.shape == (2, 64, 48, 2)
    assert np.abs(want).max() > 5  # a real, coloured output, not a trivial one
    assert np.abs(got - want).max() <= 1e-4
    # The temperature means the same as for self-trained weights: the Keras logits are
    # the release's divided by 2.606, so T = 1 is the plain mean of the released softmax.
    with torch.no_grad():
        net.model8[6].weight.div_(2.606)
        net.model8[6].bias.div_(2.606)
    try:
        np.testing.assert_allclose(models.predict_ab(model, L, temperature=1.0), to_numpy_ab(net, L), atol=1e-4)
    finally:
        with torch.no_grad():
            net.model8[6].weight.mul_(2.606)
            net.model8[6].bias.mul_(2.606)
    assert out.is_file()


def test_missing_official_weights_say_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path))
    with pytest.raises(UserError, match="colorpast weights fetch colorful"):
        models.build("colorful", weights="official")


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves one file with HTTP Range support; records the Range headers it saw."""

    ranges: list = []

    def do_GET(self):
        data = self.server.payload
        rng = self.headers.get("Range")
        type(self).ranges.append(rng)
        start = int(rng.split("=")[1].rstrip("-")) if rng else 0
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(payload: bytes) -> str:
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_RangeHandler))
        srv.payload = payload
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/file.pth"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def test_download_checksum_mismatch_removes_the_file(serve, tmp_path):
    url = serve(b"not the weights" * 100)
    dest = tmp_path / "w.pth"
    with pytest.raises(UserError, match="checksum mismatch") as e:
        weights.download(url, dest, "0" * 64, progress=False)
    assert "\n" not in str(e.value)
    assert not dest.exists() and not (tmp_path / "w.pth.partial").exists()


def test_download_resumes_a_partial_file(serve, tmp_path):
    payload = np.random.default_rng(0).bytes(300_000)
    url = serve(payload)
    dest = tmp_path / "w.pth"
    (tmp_path / "w.pth.partial").write_bytes(payload[:100_000])
    _RangeHandler.ranges.clear()
    weights.download(url, dest, hashlib.sha256(payload).hexdigest(), progress=False)
    assert dest.read_bytes() == payload
    assert _RangeHandler.ranges == ["bytes=100000-"]


def test_fetch_downloads_checks_and_converts(reference, serve, tmp_path, monkeypatch):
    net, pth = reference
    payload = pth.read_bytes()
    rel = weights.RELEASES["colorful"]
    monkeypatch.setitem(
        weights.RELEASES, "colorful", weights.Release(serve(payload), hashlib.sha256(payload).hexdigest(), rel.filename, rel.converted)
    )
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path))
    from colorpast.cli import main

    assert main(["weights", "fetch", "colorful"]) == 0
    assert (tmp_path / rel.filename).is_file() and (tmp_path / rel.converted).is_file()
    L = np.random.default_rng(1).uniform(0, 100, (1, 32, 40, 1)).astype(np.float32)
    got = models.predict_ab(models.build("colorful", weights="official"), L)
    assert np.abs(got - to_numpy_ab(net, L)).max() <= 1e-4


def test_the_fetch_command_runs_the_fetch_of_the_moment(monkeypatch, capsys):
    """`colorpast weights fetch` looks weights.fetch up when it runs: a stand-in set after
    the command's module was imported (a test's offline machine, then the real one again)
    is the one called, whatever imported that module first."""
    import argparse

    from colorpast.commands import weights as command

    calls = []
    monkeypatch.setattr(weights, "fetch", lambda name, **kw: calls.append((name, kw)) or Path("w.h5"))
    assert command.run(argparse.Namespace(name="colorful", out=None, url="http://mirror", force=True)) == 0
    assert calls == [("colorful", {"out": None, "url": "http://mirror", "force": True})]
    assert "colorful: official weights ready in w.h5" in capsys.readouterr().out
