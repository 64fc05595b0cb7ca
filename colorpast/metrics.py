"""Per-image colorization metrics. Each takes ground truth and prediction as
``H x W x 3`` float RGB in [0, 1] of the same size and returns one float.

Every colorized output shares its L with the ground truth, so these metrics measure
the colour (ab) alone; the gray baseline (ab = 0) is the floor every model must beat.
All are vectorised NumPy over pixels; the Lab ones use ``colorpast.color.rgb_to_lab``
(scikit-image's Lab, computed in float32).

- ``pixel_diff_pct``, ``jnd_diff_pct``: the seed paper's share of pixels that differ,
  exactly and beyond a just-noticeable difference.
- ``auc_ab``, ``auc_ab_rebalanced``: Colorful's (Zhang et al. 2016) raw accuracy AuC.
- ``psnr``, ``ssim``: scikit-image's, on RGB.
- ``ciede2000``, ``ab_error``: mean colour differences in Lab units.
- ``colorfulness``: Hasler and Suesstrunk (2003), of one image.
- ``vivid_pct``, ``neutral_painted_pct``: what a viewer notices. Of the truly vivid
  pixels (chroma above ``VIVID_TRUTH``), the share given a vivid colour of about the
  right hue; of the truly neutral ones (chroma below ``NEUTRAL_TRUTH``: white walls,
  gray skies), the share painted vivid. Gray scores 0 on both, a wild painter high on both.

Over a set of images (not per image):

- ``colorfulness_delta``: DDColor's ΔCF, the gap between the outputs' and the truths'
  mean colourfulness.
- ``frechet_distance``: the Fréchet distance between two sets of features (FID when the
  features are the FID Inception's, ``colorpast.fid``).
"""

from __future__ import annotations

import numpy as np
import skimage.color
import skimage.metrics

from colorpast import color

# The just-noticeable difference usually quoted (Mahy et al. 1994, for CIE76 Delta E*ab),
# applied here to CIEDE2000.
JND = 2.3
AUC_MAX_THRESHOLD = 150  # Colorful sweeps L2 thresholds 0, 1, ..., 150 in ab
# Object colour (Lab units, C*ab = hypot(a, b); hue in degrees). A red coat, a yellow
# hat, a blue boat are above 30 (sRGB's pure red is 104, skin about 20 to 30); JPEG noise
# on white or gray stays under 5. A prediction counts as vivid above 15, half of the
# truth's bar, so a faithful but paler colour still counts; its hue must fall within 40
# degrees (red and orange are about 30 apart, red and blue about 100).
VIVID_TRUTH = 30.0
VIVID_PRED = 15.0
HUE_TOLERANCE = 40.0
NEUTRAL_TRUTH = 5.0


def _check(truth, pred):
    """Both as float arrays; same ``H x W x 3`` shape or ValueError."""
    t, p = np.asarray(truth), np.asarray(pred)
    if t.shape != p.shape or t.ndim != 3 or t.shape[-1] != 3:
        raise ValueError(f"truth and pred must be H x W x 3 of the same shape, got {t.shape} and {p.shape}")
    return t, p


def _lab(rgb):
    return color.rgb_to_lab(np.asarray(rgb, np.float32)).astype(np.float64)


def pixel_diff_pct(truth, pred) -> float:
    """Percent (0..100) of pixels whose 8-bit RGB colour differs from the truth's.

    The seed paper's measure: both images are quantized as ``round(clip(x, 0, 1) * 255)``
    (round half to even), and a pixel counts as different when any of its three
    channels differs. Differences below half an 8-bit step do not count. Lower is better.
    """
    t, p = _check(truth, pred)
    q_t = np.rint(np.clip(t.astype(np.float64), 0, 1) * 255.0)
    q_p = np.rint(np.clip(p.astype(np.float64), 0, 1) * 255.0)
    return float(100.0 * np.mean(np.any(q_t != q_p, axis=-1)))


def jnd_diff_pct(truth, pred, jnd: float = JND) -> float:
    """Percent (0..100) of pixels whose colour differs from the truth's by more than a
    just-noticeable difference: CIEDE2000 (``skimage.color.deltaE_ciede2000`` on Lab
    from ``colorpast.color.rgb_to_lab``) strictly greater than ``jnd`` (2.3).

    The seed paper's share of differing pixels, with a perceptual tolerance instead of
    exact 8-bit equality. Lower is better.
    """
    t, p = _check(truth, pred)
    return float(100.0 * np.mean(skimage.color.deltaE_ciede2000(_lab(t), _lab(p)) > jnd))


def auc_of_errors(err, weights=None, max_threshold: int = AUC_MAX_THRESHOLD) -> float:
    """Area under the cumulative accuracy curve of per-pixel errors, in [0, 1].

    For each integer threshold ``t = 0, 1, ..., max_threshold`` (151 of them by
    default) the accuracy is the (weighted) share of pixels with ``err <= t``
    (inclusive: an error of exactly 0 counts at t = 0); the result is the mean of
    those accuracies. So all errors 0 give 1.0, all errors above ``max_threshold``
    give 0.0, and one pixel of error 10 alone gives (151 - 10) / 151.

    Computed in closed form: a pixel counts at ``max(0, max_threshold + 1 - ceil(err))``
    of the thresholds, which equals comparing against each threshold.

    Args:
        err: per-pixel non-negative errors, any shape.
        weights: optional non-negative per-pixel weights of the same shape (the
            accuracies become weighted means); None weighs pixels equally.
    """
    e = np.asarray(err, np.float64).ravel()
    hits = np.clip(max_threshold + 1 - np.ceil(e), 0, max_threshold + 1) / (max_threshold + 1)
    if weights is None:
        return float(np.mean(hits))
    w = np.asarray(weights, np.float64).ravel()
    if w.shape != e.shape or not np.all(np.isfinite(w)) or w.min() < 0 or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative, one per error, with a positive sum")
    return float(np.sum(w * hits) / np.sum(w))


def _ab_distance(t, p, lab_t=None, lab_p=None):
    """Per-pixel Euclidean distance in ab (Lab units) and the truth's ab.

    ``lab_t``/``lab_p``: the Lab of ``t``/``p`` when the caller has it already."""
    ab_t = (_lab(t) if lab_t is None else lab_t)[..., 1:]
    ab_p = (_lab(p) if lab_p is None else lab_p)[..., 1:]
    return np.linalg.norm(ab_t - ab_p, axis=-1), ab_t


def auc_ab(truth, pred) -> float:
    """Colorful's raw accuracy AuC (Zhang, Isola, Efros 2016, section 3.1), in [0, 1].

    The per-pixel Euclidean (L2) distance between predicted and true ab (Lab units);
    the share of pixels within distance ``t`` (``<= t``) for each integer threshold
    ``t = 0..150``; the area under that cumulative curve normalised by its maximum,
    i.e. the mean of the 151 shares (see ``auc_of_errors``). The paper reports it as a
    percentage over a test set; this is the per-image value. Higher is better.
    """
    t, p = _check(truth, pred)
    d, _ = _ab_distance(t, p)
    return auc_of_errors(d)


def auc_ab_rebalanced(truth, pred, prior=None) -> float:
    """Colorful's class-rebalanced raw accuracy AuC, in [0, 1]. Higher is better.

    As ``auc_ab``, but each pixel weighs ``1 / prior[q]``, where ``q`` is the bin of
    its *true* ab among the 313 Colorful bins (``colorpast.models.bins.hard_encode_np``:
    ab rounded to the 10-unit grid, then that grid point's nearest bin). The paper
    re-weights pixels inversely by the probability of their colour class, so rare
    colours count as much as common ones (its "AuC rebal").

    Args:
        prior: optional 313 non-negative numbers, the probability of each bin (scale
            does not matter; e.g. ``colorpast``'s ImageNet prior, smoothed or not).
            Every bin the truth occupies must have a positive prior, else ValueError.
            None uses the truth image's own bin histogram as the prior: each pixel
            weighs ``1 / (number of pixels of the image in its bin)``, so every
            occupied bin carries the same total weight and the result is the mean,
            over the occupied bins, of each bin's own AuC.
    """
    t, p = _check(truth, pred)
    return _rebalanced_auc(*_ab_distance(t, p), prior)


def _rebalanced_auc(d, ab_t, prior) -> float:
    """``auc_ab_rebalanced`` from the ab distances ``d`` and the truth's ab."""
    from colorpast.models import bins  # here: importing colorpast.models builds Keras

    q = bins.hard_encode_np(ab_t).ravel()
    if prior is None:
        prob = np.bincount(q, minlength=bins.Q).astype(np.float64)
    else:
        prob = np.asarray(prior, np.float64).reshape(-1)
        if prob.shape != (bins.Q,) or not np.all(np.isfinite(prob)) or prob.min() < 0:
            raise ValueError(f"a prior is {bins.Q} finite non-negative numbers, got shape {prob.shape}")
        if np.any(prob[q] <= 0):
            empty = np.unique(q[prob[q] <= 0])
            raise ValueError(f"the prior is 0 at bins {empty.tolist()} that the truth occupies")
    return auc_of_errors(d.ravel(), weights=1.0 / prob[q])


def psnr(truth, pred) -> float:
    """Peak signal-to-noise ratio in dB on RGB in [0, 1] (``skimage.metrics.peak_signal_noise_ratio``). Higher is better."""
    t, p = _check(truth, pred)
    return float(skimage.metrics.peak_signal_noise_ratio(t, p, data_range=1.0))


def ssim(truth, pred) -> float:
    """Structural similarity on RGB in [0, 1], channels averaged (``skimage.metrics.structural_similarity``). Higher is better."""
    t, p = _check(truth, pred)
    return float(skimage.metrics.structural_similarity(t, p, data_range=1.0, channel_axis=-1))


def ciede2000(truth, pred) -> float:
    """Mean CIEDE2000 colour difference over pixels (``skimage.color.deltaE_ciede2000``).

    About 2.3 is a just-noticeable difference. Lower is better.
    """
    t, p = _check(truth, pred)
    return float(np.mean(skimage.color.deltaE_ciede2000(_lab(t), _lab(p))))


def ab_error(truth, pred) -> float:
    """Mean per-pixel Euclidean distance in the ab plane, in Lab units. Lower is better."""
    t, p = _check(truth, pred)
    return float(np.mean(_ab_distance(t, p)[0]))


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


def _chroma_hue(lab):
    """``... x 3`` Lab -> C*ab and hue angle in degrees (0..360)."""
    a, b = lab[..., 1], lab[..., 2]
    return np.hypot(a, b), np.degrees(np.arctan2(b, a)) % 360.0


def _object_colour(lab_t, lab_p) -> dict[str, float]:
    """``vivid_pct``, ``neutral_painted_pct`` and the truth's shares of vivid and neutral
    pixels (``vivid_truth_pct``, ``neutral_truth_pct``), from both images' Lab. A share
    of no pixels (a photo with nothing vivid) is NaN: it is not a 0 the set's mean
    should count (``colorpast.evaluate`` weighs each photo by its own share)."""
    c_t, h_t = _chroma_hue(lab_t)
    c_p, h_p = _chroma_hue(lab_p)
    off = np.abs(h_t - h_p)
    right_hue = np.minimum(off, 360.0 - off) <= HUE_TOLERANCE
    vivid, neutral = c_t > VIVID_TRUTH, c_t < NEUTRAL_TRUTH
    painted = c_p > VIVID_PRED

    def share(hit, of):
        n = int(of.sum())
        return float(100.0 * np.sum(hit & of) / n) if n else float("nan")

    return {"vivid_pct": share(painted & right_hue, vivid), "neutral_painted_pct": share(painted, neutral),
            "vivid_truth_pct": float(100.0 * vivid.mean()), "neutral_truth_pct": float(100.0 * neutral.mean())}


def vivid_pct(truth, pred) -> float:
    """Percent of the truly vivid pixels (true C*ab > 30) that the prediction gives a vivid
    colour (C*ab > 15) of about the right hue (within 40 degrees): red paint kept red, a
    yellow hat yellow. NaN when the truth has no vivid pixel. Higher is better; gray
    scores 0, and an L1 head that averages an object's possible colours into brown
    scores low."""
    t, p = _check(truth, pred)
    return _object_colour(_lab(t), _lab(p))["vivid_pct"]


def neutral_painted_pct(truth, pred) -> float:
    """Percent of the truly neutral pixels (true C*ab < 5: white walls, gray skies, black
    coats) that the prediction paints vivid (C*ab > 15): colour where none belongs.
    NaN when the truth has no neutral pixel. Lower is better; gray scores 0, so read it
    beside ``vivid_pct``."""
    t, p = _check(truth, pred)
    return _object_colour(_lab(t), _lab(p))["neutral_painted_pct"]


def colorfulness_ratio(truth, pred) -> float:
    """``colorfulness(pred) / colorfulness(truth)``: 1 is as colourful as the photo,
    below 1 washed out (the gray baseline gives about 0), above 1 more saturated.

    A gray truth (colourfulness 0) gives ``inf``, or 1.0 when the prediction is gray
    too. Not in ``METRICS``: per-image ratios explode on near-gray photos, so the
    table shows both colourfulness columns and their means are compared instead.
    """
    t, p = _check(truth, pred)
    c_t, c_p = colorfulness(t), colorfulness(p)
    if c_t == 0:
        return 1.0 if c_p == 0 else float("inf")
    return c_p / c_t


def colorfulness_delta(outputs, truths) -> float:
    """ΔCF: ``|CF(outputs) - CF(truths)|``, where CF of a set is the mean ``colorfulness``
    of its images (0..255 scale). Lower is better; 0 is as colourful as the photos.

    The convention of DDColor (Kang et al., ICCV 2023, "ΔCF"): the absolute difference
    of the two set means, not the mean of per-image differences, so a model that is too
    colourful on some photos and too dull on others can reach 0. ``outputs`` and
    ``truths`` are sequences of ``H x W x 3`` RGB in [0, 1] (the sets may differ in size).
    """
    outs, truths = list(outputs), list(truths)
    if not outs or not truths:
        raise ValueError(f"colorfulness_delta needs two non-empty sets, got {len(outs)} and {len(truths)} images")
    return abs(float(np.mean([colorfulness(o) for o in outs])) - float(np.mean([colorfulness(t) for t in truths])))


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (``D``) and covariance (``D x D``, unbiased, N - 1) of ``N x D`` features, float64."""
    f = np.asarray(features, np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must be N x D with N >= 2, got shape {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance_from_stats(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2):
    ``|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))``.

    The trace of the matrix square root is computed as the sum of the square roots of the
    eigenvalues of ``sqrt(sigma1) sigma2 sqrt(sigma1)``, a symmetric positive
    semi-definite matrix with the same eigenvalues as ``sigma1 sigma2``: no complex
    round-off and no ``eps`` added to the diagonals, which pytorch-fid's ``scipy.linalg.sqrtm``
    route needs when a covariance is singular (fewer images than 2,048 features);
    where both are well defined they agree (tests/test_fid.py).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shapes do not match: {mu1.shape}, {s1.shape}, {mu2.shape}, {s2.shape}")
    w, v = np.linalg.eigh((s1 + s1.T) / 2)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = root1 @ s2 @ root1
    trace_sqrt = float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None))))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt)


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between two sets of features, ``N_a x D`` and ``N_b x D``, each
    summarised by its mean and covariance (``gaussian_stats``). Lower is better.

    With the FID Inception's 2,048 pool features (``colorpast.fid``) this is FID. It is
    biased upwards for small N (Chong and Forsyth 2020): compare FIDs only at equal N.
    """
    return frechet_distance_from_stats(*gaussian_stats(features_a), *gaussian_stats(features_b))


# name -> (function, higher_is_better, format). The table and CSV columns follow this order.
METRICS = {
    "pixel_diff_pct": (pixel_diff_pct, False, "{:.1f}"),
    "jnd_diff_pct": (jnd_diff_pct, False, "{:.1f}"),
    "auc_ab": (auc_ab, True, "{:.3f}"),
    "auc_ab_rebalanced": (auc_ab_rebalanced, True, "{:.3f}"),
    "psnr": (psnr, True, "{:.2f}"),
    "ssim": (ssim, True, "{:.4f}"),
    "ciede2000": (ciede2000, False, "{:.2f}"),
    "ab_error": (ab_error, False, "{:.2f}"),
    "vivid_pct": (vivid_pct, True, "{:.1f}"),
    "neutral_painted_pct": (neutral_painted_pct, False, "{:.1f}"),
}
# Per-image shares of the truth that weigh each photo's object-colour share in a set's
# figure (``colorpast.evaluate``): metric -> the truth's share of the pixels it is about.
SHARE_OF = {"vivid_pct": "vivid_truth_pct", "neutral_painted_pct": "neutral_truth_pct"}


def compute_all(truth, pred) -> dict[str, float]:
    """Every metric in ``METRICS``, the prediction's and the truth's colourfulness, and
    the truth's shares of vivid and neutral pixels (``SHARE_OF``).

    ``auc_ab_rebalanced`` here uses each photo's own bin histogram as the prior (no
    dataset prior), so it is a per-image value.
    """
    # The same values as the functions of METRICS, with each photo's Lab and CIEDE2000
    # computed once instead of once per metric: 0.09 s instead of 0.28 s for a
    # 481 x 321 CBSD68 photo on the 2-core CPU.
    t, p = _check(truth, pred)
    lab_t, lab_p = _lab(t), _lab(p)
    de = skimage.color.deltaE_ciede2000(lab_t, lab_p)
    d, ab_t = _ab_distance(t, p, lab_t, lab_p)
    shared = {
        "jnd_diff_pct": float(100.0 * np.mean(de > JND)),
        "auc_ab": auc_of_errors(d),
        "auc_ab_rebalanced": _rebalanced_auc(d, ab_t, None),
        "ciede2000": float(np.mean(de)),
        "ab_error": float(np.mean(d)),
        **_object_colour(lab_t, lab_p),
    }
    out = {name: shared[name] if name in shared else fn(t, p) for name, (fn, _, _) in METRICS.items()}
    out["colorfulness"] = colorfulness(pred)
    out["colorfulness_truth"] = colorfulness(truth)
    out.update({k: shared[k] for k in SHARE_OF.values()})
    return out
