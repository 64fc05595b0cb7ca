"""FID: the Fréchet distance, the FID Inception port, its weights and the reference cache."""

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from colorpast import fid, metrics, weights
from colorpast.errors import UserError
from conftest import missing


def test_frechet_distance_closed_form():
    # b = 2a + c: mean 2 mu + c, covariance 4 C, so FD = |mu + c|^2 + tr(C + 4C - 2 * 2C) = |mu + c|^2 + tr(C).
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))
    c = np.arange(6.0)
    mu, cov = a.mean(0), np.cov(a, rowvar=False)
    want = float(np.sum((mu + c) ** 2) + np.trace(cov))
    assert metrics.frechet_distance(a, 2 * a + c) == pytest.approx(want, rel=1e-9)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    # Two 1-D Gaussians: (m1 - m2)^2 + (s1 - s2)^2.
    assert metrics.frechet_distance_from_stats([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4 + 1)


def _scipy_reference(mu1, s1, mu2, s2):
    """pytorch-fid's calculate_frechet_distance (scipy.linalg.sqrtm)."""
    covmean = scipy.linalg.sqrtm(s1.dot(s2))
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    covmean = covmean.real
    diff = mu1 - mu2
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def test_frechet_distance_matches_the_scipy_reference_on_random_features():
    rng = np.random.default_rng(1)
    for n, d in ((300, 8), (400, 64)):
        a = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
        b = rng.normal(0.3, 1.5, size=(n + 50, d)) @ rng.normal(size=(d, d))
        want = _scipy_reference(*metrics.gaussian_stats(a), *metrics.gaussian_stats(b))
        assert metrics.frechet_distance(a, b) == pytest.approx(want, rel=1e-6)


def test_frechet_distance_rejects_bad_shapes():
    with pytest.raises(ValueError, match="N >= 2"):
        metrics.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="do not match"):
        metrics.frechet_distance(np.zeros((4, 3)), np.zeros((5, 2)))


def test_colorfulness_delta_is_the_gap_between_set_means():
    rng = np.random.default_rng(2)
    truths = [rng.uniform(size=(8, 8, 3)) for _ in range(3)]
    outs = [0.5 * t + 0.25 for t in truths]
    want = abs(np.mean([metrics.colorfulness(o) for o in outs]) - np.mean([metrics.colorfulness(t) for t in truths]))
    assert metrics.colorfulness_delta(outs, truths) == pytest.approx(want)
    assert metrics.colorfulness_delta(truths, truths) == 0.0
    # Set means, not per-image gaps: one too colourful and one too dull can cancel.
    assert metrics.colorfulness_delta([truths[0], truths[1]], [truths[1], truths[0]]) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError):
        metrics.colorfulness_delta([], truths)


# ------------------------------------------------------------------ the port, against PyTorch

@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A random pytorch-fid-structured network and its state_dict saved in the legacy
    (pre-1.6) format, as pytorch-fid's 2019 release file is."""
    try:
        import torch
    except ImportError:
        missing("torch is not installed (the pytorch-fid reference network needs it)")
    sys.path.insert(0, str(Path(__file__).parent / "models"))
    from fid_reference import randomized

    net = randomized()
    path = tmp_path_factory.mktemp("pth") / "pt_inception.pth"
    torch.save(net.state_dict(), path, _use_new_zipfile_serialization=False)
    return net, path


def _as_read(im):
    q = im if im.dtype == np.uint8 else np.rint(np.clip(im, 0, 1) * 255).astype(np.uint8)
    return q.astype(np.float32) / 255.0


def test_port_reproduces_pytorch_fid_features(reference, tmp_path):
    import torch

    net, pth = reference
    model = fid.load_inception(fid.convert(pth, tmp_path / fid.CONVERTED))
    rng = np.random.default_rng(3)
    # Non-square and of different sizes (each resized to 299 on its own), uint8 and float.
    images = [rng.integers(0, 256, (120, 90, 3), dtype=np.uint8), rng.uniform(size=(320, 300, 3)).astype(np.float32)]
    got = fid.features(images, model)
    with torch.no_grad():  # pytorch-fid reads 8-bit files, scales to [0, 1] and resizes inside the network
        want = np.concatenate([net(torch.from_numpy(_as_read(im)).permute(2, 0, 1)[None]).numpy() for im in images])
    assert got.shape == want.shape == (2, fid.FEATURES)
    assert want.std() > 1e-2  # a real signal through all 94 convolutions
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * np.abs(want).max())


def test_convert_names_a_missing_key(reference, tmp_path):
    net, _ = reference
    sd = {k: v.numpy() for k, v in net.state_dict().items() if not k.startswith("Mixed_7c.branch_pool")}
    with pytest.raises(UserError, match="lacks weights of 1 of the FID Inception's 94 convolutions, e.g. Mixed_7c.branch_pool"):
        fid.inception_from_state_dict(sd)


def test_missing_weights_fail_in_one_line_that_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path))
    with pytest.raises(UserError, match="colorpast weights fetch fid-inception") as e:
        fid.load_inception()
    assert "\n" not in str(e.value)


def test_reference_stats_are_cached_and_small_n_warns(reference, tmp_path, monkeypatch):
    _, pth = reference
    model = fid.load_inception(fid.convert(pth, tmp_path / fid.CONVERTED))
    rng = np.random.default_rng(4)
    photos = [rng.integers(0, 256, (40, 50, 3), dtype=np.uint8) for _ in range(3)]
    calls = []
    real = fid.features
    monkeypatch.setattr(fid, "features", lambda ims, m=None: calls.append(len(ims)) or real(ims, m))
    ref = fid.reference_stats(photos, model, cache_dir=tmp_path / "stats", log=lambda *a: None)
    again = fid.reference_stats(photos, model, cache_dir=tmp_path / "stats", log=lambda *a: None)
    assert calls == [3] and again[2] == 3
    np.testing.assert_array_equal(ref[1], again[1])
    photos[0] = photos[0].copy()
    photos[0][0, 0, 0] ^= 1  # one changed pixel is another set
    fid.reference_stats(photos, model, cache_dir=tmp_path / "stats", log=lambda *a: None)
    assert calls == [3, 3]
    with pytest.warns(UserWarning, match="FID over 3 images: below 1,000"):
        value = fid.fid(photos, ref, model)
    assert value > 0


def test_fetch_fid_inception_downloads_checks_and_converts(reference, tmp_path, monkeypatch):
    """`colorpast weights fetch fid-inception` through the download code path, from a local file URL."""
    _, pth = reference
    payload = pth.read_bytes()
    src = tmp_path / "mirror" / "pt_inception.pth"
    src.parent.mkdir()
    src.write_bytes(payload)
    rel = weights.RELEASES["fid-inception"]
    monkeypatch.setitem(
        weights.RELEASES, "fid-inception",
        weights.Release(src.as_uri(), hashlib.sha256(payload).hexdigest(), rel.filename, rel.converted, rel.kind),
    )
    monkeypatch.setenv("COLORPAST_WEIGHTS", str(tmp_path / "w"))
    from colorpast.cli import main

    assert main(["weights", "fetch", "fid-inception"]) == 0
    assert (tmp_path / "w" / rel.filename).is_file() and fid.weights_path().is_file()
    fid.load_inception()
    # A mirror serving another file is refused by the same sha256 check.
    monkeypatch.setitem(weights.RELEASES, "fid-inception", weights.Release(src.as_uri(), "0" * 64, rel.filename, rel.converted, rel.kind))
    assert main(["weights", "fetch", "fid-inception", "--force", "--out", str(tmp_path / "x.weights.h5")]) == 2
