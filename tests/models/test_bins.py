import hashlib

import numpy as np
import pytest
import skimage.color

from keras import ops

from colorpast.models import bins


def test_bins_are_the_official_pts_in_hull_byte_for_byte():
    c = bins.ab_bins()
    assert c.shape == (313, 2) and len(np.unique(c, axis=0)) == 313
    assert np.all(c % 10 == 0)
    assert hashlib.sha256(bins.pts_in_hull_bytes()).hexdigest() == bins.PTS_IN_HULL_SHA256


def test_hard_encode_is_the_nearest_bin():
    rgb = np.random.default_rng(0).uniform(0, 1, (2000, 1, 3))
    ab = skimage.color.rgb2lab(rgb).reshape(-1, 3)[:, 1:]
    brute = ((ab[:, None] - bins.ab_bins()[None]) ** 2).sum(-1).argmin(1)
    got = bins.hard_encode_np(ab)
    # Ties aside (a pixel exactly between two centres), the lookup is the brute-force answer.
    d = ((ab[:, None] - bins.ab_bins()[None]) ** 2).sum(-1)
    assert np.all(np.isclose(d[np.arange(len(ab)), got], d[np.arange(len(ab)), brute]))


def test_soft_encode_five_gaussian_neighbours():
    z = ops.convert_to_numpy(bins.soft_encode(np.array([[[[0.0, 0.0], [33.0, -41.0]]]], np.float32)))
    assert z.shape == (1, 1, 2, 313)
    np.testing.assert_allclose(z.sum(-1), 1.0, atol=1e-6)
    assert (z > 0).sum(-1).tolist() == [[[5, 5]]]
    # At a bin centre: itself at distance 0, four neighbours at 10: weights 1 : e^-2.
    centre = int(np.where((bins.ab_bins() == [0, 0]).all(1))[0][0])
    np.testing.assert_allclose(z[0, 0, 0, centre], 1 / (1 + 4 * np.exp(-2)), rtol=1e-5)
    # Off-centre: the heaviest bin is the nearest one, (30, -40).
    assert np.all(bins.ab_bins()[z[0, 0, 1].argmax()] == [30, -40])


def test_rebalance_weights_favour_rare_colours_with_expectation_one():
    prior = np.full(313, 1e-4)
    grey = int(np.where((bins.ab_bins() == [0, 0]).all(1))[0][0])
    prior[grey] = 1.0
    w = bins.rebalance_weights(prior)
    ps = bins.smooth_prior(prior / prior.sum())
    np.testing.assert_allclose((ps * w).sum(), 1.0, rtol=1e-5)
    assert w.argmin() == grey and w.max() > 5 * w[grey]
    # lambda = 0.5 bounds the spread: w lies in [1 / (0.5 + 0.5/Q), Q / 0.5] before scaling.
    assert w.max() / w.min() <= 313 * (0.5 + 0.5 / 313) / 0.5 + 1e-3 and np.all(w > 0)
    # Smoothing keeps mass 1 and spreads the grey peak to its neighbours.
    assert np.isclose(ps.sum(), 1.0) and ps[grey] < 1.0
    with pytest.raises(ValueError):
        bins.rebalance_weights(np.zeros(313))


def test_annealed_mean_temperature():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 3, (2, 3, 313)).astype(np.float32)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(ops.convert_to_numpy(bins.annealed_mean(logits, 1.0)), p @ bins.ab_bins(), atol=1e-3)
    mode = bins.ab_bins()[logits.argmax(-1)]
    np.testing.assert_allclose(ops.convert_to_numpy(bins.annealed_mean(logits, 1e-3)), mode, atol=1e-3)
    # p ** (1/T) renormalised is the same thing as softmax(logits / T).
    q = p ** (1 / 0.38)
    q /= q.sum(-1, keepdims=True)
    np.testing.assert_allclose(ops.convert_to_numpy(bins.annealed_mean(logits, 0.38)), q @ bins.ab_bins(), atol=1e-3)
