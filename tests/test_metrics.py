import numpy as np
import pytest
import skimage.color
import skimage.metrics

from colorpast import color, metrics
from colorpast.models import bins


def _pair(h=32, w=40, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.random((h, w, 3)).astype(np.float32)
    pred = np.clip(truth + rng.normal(0, noise, truth.shape), 0, 1).astype(np.float32)
    return truth, pred


def test_metrics_equal_skimage_and_bounds():
    truth, pred = _pair()
    assert abs(metrics.psnr(truth, pred) - skimage.metrics.peak_signal_noise_ratio(truth, pred, data_range=1)) < 1e-6
    ref = skimage.metrics.structural_similarity(truth, pred, data_range=1, channel_axis=-1)
    assert abs(metrics.ssim(truth, pred) - ref) < 1e-4
    de = skimage.color.deltaE_ciede2000(skimage.color.rgb2lab(truth), skimage.color.rgb2lab(pred)).mean()
    assert abs(metrics.ciede2000(truth, pred) - de) < 1e-3
    assert metrics.ciede2000(truth, truth) == 0 and metrics.ab_error(truth, truth) < 1e-4
    red = np.zeros((8, 8, 3), np.float32)
    red[..., 0] = 1.0
    # Uniform pure red: sigma = 0, mu = |(255, 127.5)|, colourfulness = 0.3 * mu.
    assert abs(metrics.colorfulness(red) - 0.3 * np.hypot(255, 127.5)) < 1e-6


def test_colorfulness_of_a_non_uniform_image_by_hand():
    """Hasler and Suesstrunk (2003): M = sigma_rgyb + 0.3 mu_rgyb, with rg = R - G,
    yb = (R + G) / 2 - B, sigma_rgyb = sqrt(sigma_rg^2 + sigma_yb^2) and mu_rgyb =
    sqrt(mu_rg^2 + mu_yb^2), standard deviations over the pixels (population, 1/N)."""
    # Red, red, blue, yellow on the 0..255 scale:
    #   rg = 255, 255, 0, 0             mean 127.5, deviations +-127.5             -> sigma 127.5
    #   yb = 127.5, 127.5, -255, 255    mean 63.75, deviations 63.75, 63.75, -318.75, 191.25
    #                                   -> variance (2 * 63.75^2 + 318.75^2 + 191.25^2) / 4 = 36576.5625 -> sigma 191.25
    #   sigma_rgyb = sqrt(127.5^2 + 191.25^2) = 63.75 sqrt(13);  mu_rgyb = sqrt(127.5^2 + 63.75^2) = 63.75 sqrt(5)
    #   M = 63.75 (sqrt(13) + 0.3 sqrt(5)) = 272.6187
    img = np.array([[[255, 0, 0], [255, 0, 0]], [[0, 0, 255], [255, 255, 0]]], np.float64) / 255.0
    assert metrics.colorfulness(img) == pytest.approx(63.75 * (np.sqrt(13) + 0.3 * np.sqrt(5)), rel=1e-12)
    assert metrics.colorfulness(img) == pytest.approx(272.6187, abs=1e-4)
    # The pixels' order and the image's shape do not matter; only their values do.
    assert metrics.colorfulness(img.reshape(4, 1, 3)[::-1]) == pytest.approx(metrics.colorfulness(img), rel=1e-12)


# --- the seed paper's share of differing pixels --------------------------------------


def _two_by_two():
    return (np.array([[[10, 20, 30], [200, 100, 50]], [[0, 0, 0], [255, 255, 255]]], np.float32) / 255.0)


def test_pixel_diff_pct_one_of_four_pixels_differs():
    truth = _two_by_two()
    pred = truth.copy()
    pred[0, 1, 2] += 1 / 255  # one 8-bit step in one channel of one pixel
    assert metrics.pixel_diff_pct(truth, pred) == 25.0
    pred[1, 0] += 1 / 255  # all three channels of a second pixel: still one pixel
    assert metrics.pixel_diff_pct(truth, pred) == 50.0
    assert metrics.pixel_diff_pct(truth, truth) == 0.0


def test_pixel_diff_pct_compares_rounded_8bit():
    truth = _two_by_two()[:1]  # no 0 or 255 channel, so shifts are not clipped away
    assert metrics.pixel_diff_pct(truth, truth + 0.4 / 255) == 0.0  # rounds back to the same byte
    assert metrics.pixel_diff_pct(truth, truth + 0.6 / 255) == 100.0
    # Values outside [0, 1] are clipped before quantizing.
    white = np.ones((1, 1, 3), np.float32)
    assert metrics.pixel_diff_pct(white, white + 0.3) == 0.0


def test_jnd_diff_pct_ignores_differences_below_a_jnd():
    truth = _two_by_two()
    pred = truth.copy()
    pred[..., 1] = np.clip(pred[..., 1] + 1 / 255, 0, 1)  # every pixel one green step off
    pred[1, 1] = [0.0, 0.0, 1.0]  # white -> blue: far beyond a JND
    assert metrics.pixel_diff_pct(truth, pred) == 100.0
    assert metrics.jnd_diff_pct(truth, pred) == 25.0
    assert metrics.jnd_diff_pct(truth, truth) == 0.0


def test_jnd_diff_pct_is_strictly_greater_and_matches_skimage():
    truth, pred = _pair(noise=0.02)
    de = skimage.color.deltaE_ciede2000(
        color.rgb_to_lab(truth).astype(np.float64), color.rgb_to_lab(pred).astype(np.float64)
    )
    n = de.size
    assert metrics.jnd_diff_pct(truth, pred, jnd=de.max()) == 0.0  # equal to the tolerance: not counted
    assert metrics.jnd_diff_pct(truth, pred, jnd=np.sort(de.ravel())[-2]) == pytest.approx(100.0 / n)
    assert metrics.jnd_diff_pct(truth, pred) == pytest.approx(100.0 * np.mean(de > 2.3))
    # Against scikit-image's own float64 Lab: at most one pixel may sit on the other side of 2.3.
    ref = skimage.color.deltaE_ciede2000(skimage.color.rgb2lab(truth), skimage.color.rgb2lab(pred))
    assert 5 < np.mean(ref > 2.3) * 100 < 95  # the noise puts the tolerance inside the spread
    assert abs(metrics.jnd_diff_pct(truth, pred) - 100.0 * np.mean(ref > 2.3)) <= 100.0 / n


# --- Colorful's raw accuracy AuC -------------------------------------------------------


def test_auc_of_errors_hand_values():
    assert metrics.auc_of_errors(np.zeros((4, 4))) == 1.0
    assert metrics.auc_of_errors(np.full((4, 4), 200.0)) == 0.0
    # Thresholds 10..150 include an error of exactly 10 (err <= t): 141 of 151.
    assert metrics.auc_of_errors([10.0]) == pytest.approx(141 / 151, abs=1e-15)
    assert metrics.auc_of_errors([10.0 + 1e-9]) == pytest.approx(140 / 151, abs=1e-15)
    assert metrics.auc_of_errors([150.0]) == pytest.approx(1 / 151, abs=1e-15)
    assert metrics.auc_of_errors([150.5]) == 0.0
    assert metrics.auc_of_errors([0.0, 200.0]) == 0.5
    assert metrics.auc_of_errors([0.0, 200.0], weights=[3.0, 1.0]) == 0.75
    assert metrics.auc_of_errors([0.0, 10.0, 200.0, 200.0]) == pytest.approx((151 + 141) / (4 * 151), abs=1e-15)


def test_auc_of_errors_equals_the_threshold_sweep():
    rng = np.random.default_rng(1)
    err = np.concatenate([rng.uniform(0, 180, 500), np.arange(0.0, 160.0)])  # integers: on thresholds
    w = rng.uniform(0.1, 5, err.size)
    t = np.arange(151)
    hits = err[:, None] <= t[None, :]  # pixels x thresholds
    assert metrics.auc_of_errors(err) == pytest.approx(hits.mean(), abs=1e-12)
    ref = np.mean([(w * hits[:, k]).sum() / w.sum() for k in t])
    assert metrics.auc_of_errors(err, weights=w) == pytest.approx(ref, abs=1e-12)
    with pytest.raises(ValueError):
        metrics.auc_of_errors(err, weights=-w)


def test_auc_ab_matches_skimage_lab_and_extremes():
    truth, pred = _pair(noise=0.15)
    d = np.linalg.norm(skimage.color.rgb2lab(truth)[..., 1:] - skimage.color.rgb2lab(pred)[..., 1:], axis=-1)
    ref = np.mean(d[..., None] <= np.arange(151))
    assert 0.5 < ref < 0.99
    assert abs(metrics.auc_ab(truth, pred) - ref) < 1e-4
    assert metrics.auc_ab(truth, truth) == 1.0 and metrics.auc_ab_rebalanced(truth, truth) == 1.0
    # Pure red vs pure blue: about 175 apart in ab, beyond the last threshold.
    red, blue = np.zeros((2, 2, 3), np.float32), np.zeros((2, 2, 3), np.float32)
    red[..., 0], blue[..., 2] = 1.0, 1.0
    assert metrics.auc_ab(red, blue) == 0.0 and metrics.auc_ab_rebalanced(red, blue) == 0.0


def _rare_red():
    """10 x 10 photo: 90 pixels of a common blue-gray, 10 pure red; the prediction gets
    the common colour exactly and paints the red pixels gray (same L)."""
    truth = np.empty((10, 10, 3), np.float32)
    truth[...] = [0.35, 0.45, 0.6]
    truth[:1] = [1.0, 0.0, 0.0]
    lab = color.rgb_to_lab(truth)
    lab[:1, :, 1:] = 0.0
    pred = truth.copy()
    pred[:1] = color.lab_to_rgb(lab[:1])
    return truth, pred


def test_rebalancing_weighs_a_rare_wrong_colour_up():
    truth, pred = _rare_red()
    d = np.linalg.norm(color.rgb_to_lab(truth)[..., 1:] - color.rgb_to_lab(pred)[..., 1:], axis=-1)
    assert np.all(d[1:] == 0) and np.all((104 < d[:1]) & (d[:1] < 105))  # red's chroma is 104.6
    red_auc = (151 - 105) / 151  # counted at thresholds 105..150
    assert metrics.auc_ab(truth, pred) == pytest.approx(0.9 + 0.1 * red_auc, abs=1e-12)
    # Own histogram: two occupied bins, each half the weight.
    assert metrics.auc_ab_rebalanced(truth, pred) == pytest.approx(0.5 + 0.5 * red_auc, abs=1e-12)
    # The same, from an explicit prior: the truth's own bin counts (any scale).
    q = bins.hard_encode_np(color.rgb_to_lab(truth)[..., 1:])
    own = np.bincount(q.ravel(), minlength=bins.Q).astype(float)
    own[own == 0] = 1e-3  # unoccupied bins do not matter
    assert metrics.auc_ab_rebalanced(truth, pred, prior=7 * own) == pytest.approx(0.5 + 0.5 * red_auc, abs=1e-12)
    # A uniform prior weighs every pixel alike: the plain AuC.
    assert metrics.auc_ab_rebalanced(truth, pred, prior=np.ones(bins.Q)) == pytest.approx(
        metrics.auc_ab(truth, pred), abs=1e-12
    )
    # The rare colour right and the common one gray instead: rebalancing raises the score.
    lab = color.rgb_to_lab(truth)
    lab[1:, :, 1:] = 0.0
    pred2 = truth.copy()
    pred2[1:] = color.lab_to_rgb(lab[1:])
    c = metrics.auc_of_errors([np.hypot(*color.rgb_to_lab(truth[5, 5])[1:])])
    assert 0.5 < c < 1
    assert metrics.auc_ab(truth, pred2) == pytest.approx(0.1 + 0.9 * c, abs=1e-5)
    assert metrics.auc_ab_rebalanced(truth, pred2) == pytest.approx(0.5 + 0.5 * c, abs=1e-5)


def test_rebalanced_prior_is_checked():
    truth, pred = _rare_red()
    with pytest.raises(ValueError, match="313"):
        metrics.auc_ab_rebalanced(truth, pred, prior=np.ones(312))
    prior = np.ones(bins.Q)
    prior[bins.hard_encode_np(color.rgb_to_lab(truth[:1, :1])[..., 1:]).ravel()] = 0.0
    with pytest.raises(ValueError, match="prior is 0"):
        metrics.auc_ab_rebalanced(truth, pred, prior=prior)


# --- invariances, the METRICS table, compute_all ----------------------------------------

POINTWISE = ["pixel_diff_pct", "jnd_diff_pct", "auc_ab", "auc_ab_rebalanced", "ciede2000", "ab_error", "vivid_pct",
             "neutral_painted_pct"]


def test_pointwise_metrics_ignore_pixel_order_and_symmetric_ones_order_of_arguments():
    truth, pred = _pair(h=16, w=20, noise=0.1)
    truth[:4, :4] = pred[:4, :4] = 0.5  # some neutral pixels, so every share is defined
    perm = np.random.default_rng(2).permutation(16 * 20)
    t2, p2 = (x.reshape(-1, 3)[perm].reshape(16, 20, 3) for x in (truth, pred))
    for name in POINTWISE:
        fn = metrics.METRICS[name][0]
        assert fn(t2, p2) == pytest.approx(fn(truth, pred), rel=1e-9, abs=1e-12), name
    for name in ["pixel_diff_pct", "auc_ab", "ab_error"]:
        fn = metrics.METRICS[name][0]
        assert fn(pred, truth) == pytest.approx(fn(truth, pred), rel=1e-9, abs=1e-12), name


def test_every_metric_refuses_mismatched_shapes():
    truth, pred = _pair(h=8, w=8)
    for name, (fn, _, _) in metrics.METRICS.items():
        with pytest.raises(ValueError):
            fn(truth, pred[:, :7])


def test_metrics_table_and_compute_all():
    truth, pred = _pair(h=16, w=20, noise=0.1)
    truth[:4, :4] = pred[:4, :4] = 0.5  # some neutral pixels, so every share is defined
    assert list(metrics.METRICS) == [
        "pixel_diff_pct", "jnd_diff_pct", "auc_ab", "auc_ab_rebalanced", "psnr", "ssim", "ciede2000", "ab_error",
        "vivid_pct", "neutral_painted_pct",
    ]
    better = {k: v[1] for k, v in metrics.METRICS.items()}
    assert [k for k, v in better.items() if v] == ["auc_ab", "auc_ab_rebalanced", "psnr", "ssim", "vivid_pct"]
    out = metrics.compute_all(truth, pred)
    assert list(out) == [*metrics.METRICS, "colorfulness", "colorfulness_truth", "vivid_truth_pct", "neutral_truth_pct"]
    for name, (fn, _, fmt) in metrics.METRICS.items():
        assert out[name] == fn(truth, pred) and np.isfinite(out[name]), name
        fmt.format(out[name])
    assert out["colorfulness"] == metrics.colorfulness(pred)
    assert out["colorfulness_truth"] == metrics.colorfulness(truth)


def test_colorfulness_ratio():
    truth, _ = _pair(h=16, w=20)
    # rg and yb are linear in RGB and vanish on gray, so halving towards gray halves both.
    assert metrics.colorfulness_ratio(truth, 0.5 * truth + 0.25) == pytest.approx(0.5, rel=1e-9)
    assert metrics.colorfulness_ratio(truth, truth) == 1.0
    gray = np.full((4, 4, 3), 0.5)
    assert metrics.colorfulness_ratio(gray, gray) == 1.0
    assert metrics.colorfulness_ratio(gray, _pair(h=4, w=4)[0]) == np.inf


# --- object colour: vivid_pct and neutral_painted_pct -------------------------------------

def _lab_image(patches, h=4):
    """Columns of uniform Lab colours, one ``h x h`` patch each -> RGB float32 in [0, 1]."""
    lab = np.concatenate([np.broadcast_to(np.asarray(c, np.float64), (h, h, 3)) for c in patches], axis=1)
    return skimage.color.lab2rgb(lab).astype(np.float32)


RED, ORANGE, BLUE = (50, 60, 40), (60, 30, 60), (40, 20, -60)  # chroma 72, 67, 63; hues 34, 63, 288 degrees
PALE_RED, GRAY = (50, 8, 5), (50, 0, 0)


def test_vivid_pct_counts_vivid_truth_given_a_vivid_colour_of_the_right_hue():
    truth = _lab_image([RED, RED, RED, RED, GRAY])  # four vivid patches, one neutral
    # kept red | orange (29 degrees off: right) | blue (106 off) | pale red (chroma 9: not vivid) | gray
    pred = _lab_image([RED, ORANGE, BLUE, PALE_RED, GRAY])
    assert metrics.vivid_pct(truth, pred) == pytest.approx(50.0)
    assert metrics.vivid_pct(truth, truth) == 100.0
    assert metrics.vivid_pct(truth, _lab_image([GRAY] * 5)) == 0.0
    # Hue wraps at 360: a red at 350 degrees is 20 from one at 10 degrees.
    near = [(50, 40 * np.cos(np.radians(d)), 40 * np.sin(np.radians(d))) for d in (10, 350, 100)]
    assert metrics.vivid_pct(_lab_image([near[0]] * 3), _lab_image(near)) == pytest.approx(200 / 3)


def test_neutral_painted_pct_counts_neutral_truth_painted_vivid():
    truth = _lab_image([GRAY, GRAY, GRAY, GRAY, RED])
    pred = _lab_image([BLUE, PALE_RED, GRAY, ORANGE, GRAY])  # two of the four neutral patches painted vivid
    assert metrics.neutral_painted_pct(truth, pred) == pytest.approx(50.0)
    assert metrics.neutral_painted_pct(truth, truth) == 0.0
    # Nothing vivid in the truth: the share is undefined, not 0.
    assert np.isnan(metrics.vivid_pct(_lab_image([GRAY]), _lab_image([RED])))
    assert np.isnan(metrics.neutral_painted_pct(_lab_image([RED]), _lab_image([RED])))
    out = metrics.compute_all(*(_lab_image(x, h=8) for x in ([GRAY] * 4 + [RED], [BLUE] * 5)))  # SSIM needs 7 px
    assert out["neutral_painted_pct"] == 100.0 and out["vivid_pct"] == 0.0
    assert out["vivid_truth_pct"] == pytest.approx(20.0) and out["neutral_truth_pct"] == pytest.approx(80.0)
