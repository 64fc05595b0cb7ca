"""Ageing: what time does to a print, simulated so that models can be trained and measured for it.

The photos colorpast exists for are old prints, not clean modern photos turned gray.
This transform takes a colour photo to the black-and-white print it might have been a
century later. In this order, on lightness (L / 100, in [0, 1]):

1. **blur**: a Gaussian of sigma 0 to 1.5 px (old lenses, soft focus, a copy of a copy);
2. **tone curve**: a gamma of 0.75 to 1.35 (over- and under-exposure);
3. **fade**: blacks lifted to up to 0.25 and whites lowered to 0.75 (silver fading);
4. **grain**: zero-mean noise of standard deviation 0 to 0.07;
5. **scratches**: up to 3 thin bright lines across the print;
6. **dust**: up to 0.3 % of pixels as bright or dark specks;
7. **tone**: a sepia (warm brown) or cool (cyanotype-like) cast of up to 25 Lab units of
   chroma, strongest in the midtones.

Pixel sizes (blur, scratch width) are for a photo of 224 px on its shorter side (the
working size of the models); ``scale`` stretches them for other sizes.

Every step is in ``keras.ops`` and deterministic given its parameters. Noise comes from
a counter-based hash of the pixel coordinates and a per-photo seed, not from a random
generator, so the same parameters give the same print on every call (on one backend
and device; float32 sine rounds differently elsewhere). Training draws the parameters on
the host from the loader's counter-based uniforms (``draw``), so a resumed run ages
exactly the crops it would have aged; evaluation ages each photo with a fixed seed
(``age_photo``).
"""

from __future__ import annotations

import math

import numpy as np
from keras import ops

from colorpast import color

# Parameters of one print, in this order (``draw`` makes them, ``apply`` reads them).
PARAMS = ("on", "blur", "gamma", "black", "white", "grain", "seed", "scratches", "dust", "tone", "cool")
DRAWS = len(PARAMS) + 1  # uniforms an element uses: whether to age, then one per parameter
BLUR_MAX = 1.5  # px at 224
SCRATCH_SLOTS = 3
_TAPS = 4  # blur kernel radius: 9 taps cover 2.7 sigma at sigma 1.5


def draw(u: np.ndarray, probability: float) -> np.ndarray:
    """``n x len(PARAMS)`` float32 print parameters from ``n x DRAWS`` uniforms.

    A crop is aged with ``probability``; an aged one gets each damage at a random
    strength (each of blur, fade, grain, scratches, dust and tone is absent a third of
    the time, so the model sees every mix, from nearly clean to ruined).
    """
    u = np.asarray(u, np.float64).reshape(-1, DRAWS)
    on = (u[:, 0] < probability).astype(np.float64)
    v = u[:, 1:]

    def some(x, lo, hi):  # absent a third of the time, else uniform in [lo, hi]
        return np.where(x < 1 / 3, 0.0, lo + (x - 1 / 3) * 1.5 * (hi - lo))

    p = np.stack([
        on,
        some(v[:, 1], 0.0, BLUR_MAX),
        np.exp(math.log(0.75) + v[:, 2] * (math.log(1.35) - math.log(0.75))),
        some(v[:, 3], 0.0, 0.25),
        1.0 - some(v[:, 4], 0.0, 0.25),
        some(v[:, 5], 0.0, 0.07),
        v[:, 6],
        np.floor(some(v[:, 7], 1.0, SCRATCH_SLOTS + 0.999)),
        some(v[:, 8], 0.0, 0.003),
        some(v[:, 9], 0.0, 25.0),
        (v[:, 10] < 0.2).astype(np.float64),  # a cool cast on a fifth of toned prints, sepia on the rest
    ], axis=1)
    return p.astype(np.float32)


def photo_params(seed: int) -> np.ndarray:
    """The parameters ``age_photo`` uses for ``seed``: aged, with damages drawn as in training."""
    rng = np.random.default_rng([int(seed), 1900])
    u = rng.uniform(size=DRAWS)
    return draw(u[None], 1.0)[0]


def _hash(x, y, seed):
    """Uniforms in [0, 1) from pixel coordinates and a seed (the classic sine hash)."""
    v = ops.sin(x * 12.9898 + y * 78.233 + seed * 437.585) * 43758.5453
    return v - ops.floor(v)


def _blur(g, sigma):
    """Separable Gaussian blur of ``N x H x W x 1`` with per-image ``sigma`` (``N``), reflecting at edges."""
    k = ops.arange(-_TAPS, _TAPS + 1, dtype="float32")  # 2 TAPS + 1
    s = ops.maximum(sigma, 0.2)[:, None]
    w = ops.exp(-0.5 * ops.square(k[None, :] / s))
    w = w / ops.sum(w, axis=1, keepdims=True)  # N x taps
    h, wd = ops.shape(g)[1], ops.shape(g)[2]
    p = ops.pad(g, ((0, 0), (_TAPS, _TAPS), (0, 0), (0, 0)), mode="reflect")
    g = sum(p[:, i:i + h] * w[:, i, None, None, None] for i in range(2 * _TAPS + 1))
    p = ops.pad(g, ((0, 0), (0, 0), (_TAPS, _TAPS), (0, 0)), mode="reflect")
    return sum(p[:, :, i:i + wd] * w[:, i, None, None, None] for i in range(2 * _TAPS + 1))


def apply(rgb, params, scale: float = 1.0):
    """Age ``N x H x W x 3`` RGB in [0, 1] with ``N x len(PARAMS)`` parameters -> aged RGB.

    An image whose ``on`` is 0 comes back unchanged. ``scale``: the photo's shorter side
    over 224, which scales the blur and the scratch width.
    """
    rgb = ops.cast(rgb, "float32")
    P = {name: ops.cast(params[:, i], "float32") for i, name in enumerate(PARAMS)}
    n, h, w = ops.shape(rgb)[0], ops.shape(rgb)[1], ops.shape(rgb)[2]
    g = color.rgb_to_L(rgb) / 100.0  # N x H x W x 1

    def per_image(v):
        return v[:, None, None, None]

    g = _blur(g, P["blur"] * scale) if scale * BLUR_MAX >= 0.2 else g
    g = ops.power(ops.clip(g, 0.0, 1.0), per_image(P["gamma"]))
    g = per_image(P["black"]) + (per_image(P["white"]) - per_image(P["black"])) * g

    ys = ops.arange(h, dtype="float32")[None, :, None, None]
    xs = ops.arange(w, dtype="float32")[None, None, :, None]
    seed = per_image(P["seed"])
    grain = (_hash(xs, ys, seed) + _hash(xs, ys, seed + 0.31) + _hash(xs, ys, seed + 0.67) - 1.5) * 2.0  # sd 1
    g = g + per_image(P["grain"]) * grain

    for k in range(SCRATCH_SLOTS):
        on = ops.cast(per_image(P["scratches"]) > k, "float32")
        r = [_hash(float(k), 1.0 + j, P["seed"])[:, None, None, None] for j in range(4)]
        angle = (r[0] - 0.5) * math.pi  # any direction; near-vertical lines are as likely as others
        cx, cy = r[1] * ops.cast(w, "float32"), r[2] * ops.cast(h, "float32")
        width = (0.5 + 0.7 * r[3]) * scale
        d = ops.abs((xs - cx) * ops.cos(angle) + (ys - cy) * ops.sin(angle))
        line = ops.maximum(0.0, 1.0 - d / width) * on * (0.3 + 0.4 * r[0])
        g = g + line * (1.0 - g)

    speck = _hash(xs + 0.5, ys + 0.5, seed + 0.13)
    dust = ops.cast(speck < per_image(P["dust"]), "float32")
    bright = ops.cast(_hash(ys, xs, seed + 0.71) < 0.5, "float32")
    g = g * (1.0 - dust) + dust * (bright * 0.95 + (1.0 - bright) * 0.08)
    g = ops.clip(g, 0.0, 1.0)

    # Tone: sepia (hue of about 70 degrees in ab) or cool (about 250), strongest in the midtones.
    mid = 4.0 * g * (1.0 - g)
    cool = per_image(P["cool"])
    chroma = per_image(P["tone"]) * mid
    a = chroma * (cool * -0.17 + (1.0 - cool) * 0.34)
    b = chroma * (cool * -0.98 + (1.0 - cool) * 0.94)
    aged = color.lab_to_rgb(ops.concatenate([g * 100.0, a, b], axis=-1))
    on = per_image(P["on"])
    return aged * on + rgb * (1.0 - on)


def age_photo(rgb, seed: int = 0) -> np.ndarray:
    """One photo aged with the fixed parameters of ``seed`` (``photo_params``), at its full
    size: ``H x W x 3`` uint8 or float RGB -> ``H x W x 3`` uint8. What ``colorpast
    evaluate --aged`` colorizes."""
    a = np.asarray(rgb)
    x = a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)
    scale = min(a.shape[:2]) / 224.0
    out = ops.convert_to_numpy(apply(x[None], photo_params(seed)[None], scale=scale))[0]
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8)
