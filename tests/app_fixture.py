"""What the app's tests share: Gradio or a one-line skip, a free port, the page's
components as its /config describes them, connections tried to other hosts, and a model
of each kind the page serves."""

import json
import socket
import urllib.request

import pytest

import conftest


def needs_gradio():
    try:
        import gradio  # noqa: F401
    except ImportError:
        conftest.missing('gradio is not installed (pip install --no-deps -r requirements-app.txt, or "colorpast[app]")')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def props(port) -> dict:
    """The page's components by elem_id, as its /config describes them to the browser."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=30) as r:
        config = json.loads(r.read())
    return {c["props"]["elem_id"]: c["props"] for c in config["components"] if c.get("props", {}).get("elem_id")}


@pytest.fixture
def outbound(monkeypatch) -> list:
    """Connections this process tries to open to other hosts (the app's server thread
    included); conftest's guard refuses them, and this remembers them, so a test can
    check that none was tried rather than that a failure was swallowed."""
    tried, guarded = [], socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not host.startswith(("127.", "/")) and host not in ("localhost", "::1"):
            tried.append(address)
        return guarded(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return tried


@pytest.fixture
def nothing_at_hand(tmp_path, monkeypatch):
    """A machine with no published weights fetched, none shipped, and no network for them."""
    from colorpast import weights
    from colorpast.errors import UserError

    def offline(name, **_):
        raise UserError(f"could not download the {name} weights: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setattr(weights, "fetch", offline)
    monkeypatch.setattr(weights, "bundled", lambda name: None)
    return offline


def run_folder(root, model: str, built=None, name=None):
    """A trained run of ``model`` under ``root``: config.json and model.keras (``built``, or
    the model built untrained: the page needs one of the kind, not a good one)."""
    from colorpast import models
    from colorpast.config import TrainConfig

    run = root / (name or f"{model}-test")
    run.mkdir(parents=True)
    TrainConfig(model=model, data="data/prepared/test").to_json(run / "config.json")
    (built or models.build(model, (None, None, 1), **({"weights": None} if models.spec(model).encoder else {}))).save(
        run / "model.keras")
    return run


def stage_bundled(folder, monkeypatch, names=("effunet", "effunet_hints"), decodes=None):
    """The weights this project ships, staged in ``folder`` as colorpast.bundled reads them
    (COLORPAST_BUNDLED): untrained models of the kind, float16 with a record (``decodes``:
    each model's decoding by name, ``{"effunet_cls": {"temperature": 0.7}}``, as
    benchmarks/bundle.py records a 313-bin model's), and weights.bundled put back after
    ``nothing_at_hand`` hid them."""
    from colorpast import bundled, models, weights

    for name in names:
        bundled.write(models.build(name, (None, None, 1), weights=None), folder / f"{name}{bundled.SUFFIX}",
                      {"data": "untrained, for the tests", "decode": (decodes or {}).get(name, {})})
    monkeypatch.setenv(bundled.ENV, str(folder))
    monkeypatch.setattr(weights, "bundled", SHIPPED)


from colorpast import weights as _weights  # noqa: E402 - the real one, before any test hides it

SHIPPED = _weights.bundled
