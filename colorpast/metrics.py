"""Per-image colorization metrics. Each takes ground truth and prediction as
``H x W x 3`` float RGB in [0, 1] of the same size and returns one float.

Every colorized output shares its L with the ground truth, so these metrics measure
the colour (ab) alone; the gray baseline (ab = 0) is the floor every model must beat.
"""

from __future__ import annotations

import numpy as np
import skimage.color
import skimage.metrics

from colorpast import color


def psnr(truth, pred) -> float:
    """Peak signal-to-noise ratio in dB on RGB in [0, 1] (``skimage.metrics.peak_signal_noise_ratio``). Higher is better."""
    return float(skimage.metrics.peak_signal_noise_ratio(truth, pred, data_range=1.0))


def ssim(truth, pred) -> float:
    """Structural similarity on RGB in [0, 1], channels averaged (``skimage.metrics.structural_similarity``). Higher is better."""
    return float(skimage.metrics.structural_similarity(truth, pred, data_range=1.0, channel_axis=-1))


def ciede2000(truth, pred) -> float:
    """Mean CIEDE2000 colour difference over pixels (``skimage.color.deltaE_ciede2000``).

    About 2.3 is a just-noticeable difference. Lower is better.
    """
    lab_t = color.rgb_to_lab(np.asarray(truth, np.float32))
    lab_p = color.rgb_to_lab(np.asarray(pred, np.float32))
    return float(np.mean(skimage.color.deltaE_ciede2000(lab_t, lab_p)))


def ab_error(truth, pred) -> float:
    """Mean per-pixel Euclidean distance in the ab plane, in Lab units. Lower is better."""
    ab_t = color.rgb_to_lab(np.asarray(truth, np.float32))[..., 1:]
    ab_p = color.rgb_to_lab(np.asarray(pred, np.float32))[..., 1:]
    return float(np.mean(np.linalg.norm(ab_t - ab_p, axis=-1)))


def colorfulness(rgb) -> float:
    """Hasler and Suesstrunk (2003) colourfulness of one RGB image, on the 0..255 scale.

    ``sigma_rgyb + 0.3 * mu_rgyb`` over the opponent channels rg = R - G and
    yb = (R + G) / 2 - B. 0 is gray; about 33 "moderately", 59 "quite", 82 "highly"
    colourful in the paper's scale.
    """
    a = np.asarray(rgb, np.float64) * 255.0
    rg = a[..., 0] - a[..., 1]
    yb = 0.5 * (a[..., 0] + a[..., 1]) - a[..., 2]
    sigma = np.hypot(rg.std(), yb.std())
    mu = np.hypot(rg.mean(), yb.mean())
    return float(sigma + 0.3 * mu)


# name -> (function, higher_is_better, format). The table and CSV columns follow this order.
METRICS = {
    "psnr": (psnr, True, "{:.2f}"),
    "ssim": (ssim, True, "{:.4f}"),
    "ciede2000": (ciede2000, False, "{:.2f}"),
    "ab_error": (ab_error, False, "{:.2f}"),
}


def compute_all(truth, pred) -> dict[str, float]:
    """Every metric in ``METRICS`` plus the prediction's and the truth's colourfulness."""
    out = {name: fn(truth, pred) for name, (fn, _, _) in METRICS.items()}
    out["colorfulness"] = colorfulness(pred)
    out["colorfulness_truth"] = colorfulness(truth)
    return out
