"""The colour heads' loss and decoding (colorful.MixedLoss, colorpast.tune) and the models
that ship (colorpast.bundled, NAME:bundled)."""

import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from colorpast import bundled, colorizer, models, runs, tune
from colorpast.errors import UserError
from colorpast.models import bins, colorful, efficientnet_lite
from tests.prepared_fixture import make_prepared


def test_mixed_loss_is_the_cross_entropy_plus_l1_on_the_decoded_colour():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (2, 3, 4, bins.Q)).astype(np.float32)
    target = rng.uniform(-60, 60, (2, 3, 4, 2)).astype(np.float32)
    ce = np.asarray(colorful.ColorfulLoss(None).call(target, logits))
    p = np.exp(logits / 0.25 - (logits / 0.25).max(-1, keepdims=True))
    decoded = (p / p.sum(-1, keepdims=True)) @ bins.ab_bins()
    want = ce + 7.0 * np.abs(decoded - target).mean(-1) / 128.0
    got = np.asarray(colorful.MixedLoss(None, l1=7.0, temperature=0.25).call(target, logits))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert isinstance(models.loss("seed16_cls", None, kind="mixed"), colorful.MixedLoss)
    assert type(models.loss("seed16_cls", None)) is colorful.ColorfulLoss
    with pytest.raises(UserError, match="'mixed' is for the 313-bin models"):
        models.loss("seed16", None, kind="mixed")
    with pytest.raises(UserError, match="--loss mixed adds L1"):
        models.loss("seed16_cls", None, kind="l1")


def test_the_temperature_chosen_is_the_most_vivid_within_the_tolerance_of_the_lowest_error():
    table = [{"temperature": 0.1, "ciede2000": 12.0, "vivid_pct": 40.0},
             {"temperature": 0.2, "ciede2000": 11.05, "vivid_pct": 30.0},
             {"temperature": 0.38, "ciede2000": 11.0, "vivid_pct": 20.0},
             {"temperature": 1.0, "ciede2000": 11.2, "vivid_pct": 5.0}]
    assert tune.choose(table) == 0.2  # 0.1 is more vivid, but 1.0 CIEDE2000 worse
    assert tune.choose(table, tolerance=0.0) == 0.38
    assert tune.choose(table, tolerance=1.5) == 0.1


@pytest.mark.slow
def test_a_313_bin_run_decodes_at_the_temperature_chosen_on_its_validation_photos(tmp_path):
    make_prepared(tmp_path / "p", {"train": 8, "val": 4, "test": 2}, size=32, per_shard=4)
    run = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "colorpast", "train", "--data", str(tmp_path / "p"), "--run", str(run),
                        "--model", "seed16_cls", "--loss", "mixed", "--size", "32", "--batch-size", "4", "--epochs", "1",
                        "--steps-per-epoch", "3", "--val-batches", "0"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    chosen = json.loads((run / runs.DECODE).read_text())
    assert chosen["temperature"] in tune.TEMPERATURES and "decoding temperature" in r.stdout
    assert [row["temperature"] for row in chosen["table"]] == list(tune.TEMPERATURES)
    assert chosen["temperature"] == tune.choose(chosen["table"])
    model = colorizer.load_model(str(run))
    assert dict(model.colorpast_decode) == {"temperature": chosen["temperature"]}
    photo = np.random.default_rng(1).random((32, 48, 3)).astype(np.float32)
    own = colorizer.colorize(photo, model)
    np.testing.assert_array_equal(own, colorizer.colorize(photo, model, temperature=chosen["temperature"]))
    other = 1.0 if chosen["temperature"] != 1.0 else 0.1
    assert not np.array_equal(own, colorizer.colorize(photo, model, temperature=other))  # a caller's choice wins
    # Finished, the run is not tuned again; the loss is refused for a model that regresses ab, in one line.
    stamp = (run / runs.DECODE).stat().st_mtime_ns
    again = subprocess.run([sys.executable, "-m", "colorpast", "train", "--run", str(run)], capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0 and (run / runs.DECODE).stat().st_mtime_ns == stamp
    bad = subprocess.run([sys.executable, "-m", "colorpast", "train", "--data", str(tmp_path / "p"), "--run",
                          str(tmp_path / "r2"), "--model", "seed16", "--loss", "mixed"], capture_output=True, text=True,
                         timeout=600)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("colorpast train: error: loss 'mixed' is for")


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A weights/ folder of this test's own, as bundled.folder() finds it."""
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setattr(bundled, "folder", lambda: folder)
    return folder


def test_a_bundled_model_loads_as_name_colon_bundled_in_float16_with_its_record(shipped):
    model = models.build("seed16_cls", (None, None, 1))
    record = {"model": "seed16_cls", "data": "a test", "decode": {"temperature": 0.2}}
    out = bundled.write(model, shipped / "seed16_cls.weights.h5", record)
    with h5py.File(out) as f:
        kinds = set()
        f.visititems(lambda name, obj: kinds.add(obj.dtype) if isinstance(obj, h5py.Dataset) else None)
    assert kinds == {np.dtype("float16")}
    assert bundled.names() == ["seed16_cls"] and bundled.record("seed16_cls") == record
    (shipped / "colorful_eccv16.weights.h5").write_bytes(b"converted official weights, no record")
    assert bundled.names() == ["seed16_cls"] and bundled.path("colorful_eccv16") is None

    loaded = colorizer.load_model("seed16_cls:bundled")
    assert dict(loaded.colorpast_decode) == {"temperature": 0.2}
    L = np.random.default_rng(0).uniform(0, 100, (1, 32, 32, 1)).astype(np.float32)
    a, b = model.predict(L, verbose=0), loaded.predict(L, verbose=0)
    assert np.abs(a - b).max() < 0.05 * np.abs(a).max()  # float16 weights: close, not equal
    with pytest.raises(UserError, match=r"no bundled weights for seed16 \(bundled: seed16_cls:bundled\)"):
        colorizer.load_model("seed16:bundled")


def test_a_bundled_model_over_the_size_limit_is_refused_and_nothing_is_left(shipped, monkeypatch):
    monkeypatch.setattr(bundled, "MAX_BYTES", 1000)
    with pytest.raises(UserError, match="over the 0 MB a bundled model may take"):
        bundled.write(models.build("seed16_cls", (None, None, 1)), shipped / "seed16_cls.weights.h5", {})
    assert list(shipped.iterdir()) == []


def test_a_frozen_encoder_is_left_out_of_the_file_and_checked_when_loaded(shipped, monkeypatch):
    """effunet with its ImageNet encoder as the package builds it: the file holds the
    decoder alone (a quarter of the weights); load takes the encoder from the package and
    refuses one that is not the same. An encoder that trained goes into the file whole."""
    model = models.build("effunet", (None, None, 1))
    decoder = [v for v in model.weights if not efficientnet_lite.is_encoder(v)]
    rng = np.random.default_rng(0)
    for v in decoder:  # "trained": the decoder is no longer its initialization
        v.assign(np.asarray(v) + rng.normal(0, 0.01, v.shape).astype(np.float32))
    assert not bundled.holds_encoder(model)
    out = bundled.write(model, shipped / "effunet.weights.h5", {"model": "effunet"}, half=False)
    with h5py.File(out) as f:
        assert f.attrs["format"] == bundled.FORMAT and len(f["variables"]) == len(decoder) and f.attrs["left_out"]
    assert out.stat().st_size < 6 * 2**20  # the whole model is 18.2 MB in float32
    loaded = bundled.load("effunet")
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(model.weights, loaded.weights))

    build = models.build

    def another_encoder(name, *args, **kwargs):
        m = build(name, *args, **kwargs)
        enc = next(v for v in m.weights if efficientnet_lite.is_encoder(v))
        enc.assign(np.asarray(enc) + 1e-3)
        return m

    monkeypatch.setattr(models, "build", another_encoder)
    with pytest.raises(UserError, match="trained on another EfficientNet encoder than the installed one"):
        bundled.load("effunet")
    monkeypatch.setattr(models, "build", build)

    enc = next(v for v in model.weights if efficientnet_lite.is_encoder(v))
    enc.assign(np.asarray(enc) * 1.01)  # the encoder trained too: the file holds every variable
    assert bundled.holds_encoder(model)
    out = bundled.write(model, shipped / "effunet.weights.h5", {"model": "effunet"}, half=False)
    with h5py.File(out) as f:
        assert len(f["variables"]) == len(model.weights) and f.attrs["left_out"] == ""
    whole = out.stat().st_size
    loaded = bundled.load("effunet")
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(model.weights, loaded.weights))

    # In float16 a trained encoder goes as its difference from the package's weights, which
    # float16 rounds finely: loaded, it is the trained encoder to float32's precision, not
    # float16's. half="encoder": the decoder stays float32, exact.
    encoder = {v.path for v in model.weights if efficientnet_lite.is_encoder(v)}
    for half, decoder_kind, size in ((True, "float16", (0.45, 0.55)), ("encoder", "float32", (0.55, 0.75))):
        out = bundled.write(model, shipped / "effunet.weights.h5", {"model": "effunet"}, half=half)
        with h5py.File(out) as f:
            kinds = {f["variables"][k].attrs["path"]: (f["variables"][k].dtype, f["variables"][k].attrs.get(
                "of_package", False)) for k in f["variables"]}
            assert f.attrs["package_encoder"] and f.attrs["left_out"] == ""
        assert {kinds[p] for p in encoder} == {(np.dtype("float16"), True)}
        assert {kinds[p] for p in kinds if p not in encoder} == {(np.dtype(decoder_kind), False)}
        assert size[0] * whole < out.stat().st_size < size[1] * whole, (half, out.stat().st_size / whole)
        loaded = bundled.load("effunet")
        for a, b in zip(model.weights, loaded.weights):
            if efficientnet_lite.is_encoder(a):
                np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=2e-5, atol=1e-6, err_msg=a.path)
            elif half == "encoder":
                assert np.array_equal(np.asarray(a), np.asarray(b)), a.path
    rounded = np.asarray(enc).astype(np.float16).astype(np.float32)  # what plain float16 would have kept
    assert not np.allclose(rounded, np.asarray(enc), rtol=2e-5, atol=1e-6)
    monkeypatch.setattr(models, "build", another_encoder)
    with pytest.raises(UserError, match="trained on another EfficientNet encoder than the installed one"):
        bundled.load("effunet")  # the change is added to the package's encoder: it must be the same one
    monkeypatch.setattr(models, "build", build)
    with pytest.raises(ValueError, match="half is True, False or 'encoder'"):
        bundled.write(model, shipped / "effunet.weights.h5", {}, half="decoder")


def test_a_file_of_another_layout_is_one_line(shipped):
    m = models.build("seed16_cls", (None, None, 1))
    m.save_weights(str(shipped / "seed16_cls.weights.h5"))  # Keras's own layout
    (shipped / "seed16_cls.json").write_text("{}")
    with pytest.raises(UserError, match="is not a bundled model of this colorpast"):
        bundled.load("seed16_cls")
