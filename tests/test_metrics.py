import numpy as np
import skimage.color
import skimage.metrics

from colorpast import metrics


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
