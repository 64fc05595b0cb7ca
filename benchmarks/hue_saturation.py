"""More colour where a 313-bin model agrees on the hue: saturation weighed by agreement.

    python benchmarks/hue_saturation.py effunet_cls:bundled data/prepared/photos-all --split val

A 313-bin head's annealed mean is dull in two ways: where the model is unsure whether a
thing is coloured at all (gray or red: the mean is a faint red), and where it is unsure
which colour it is (red or green: the mean is gray). More saturation helps the first and
harms the second. The distribution tells them apart: the length of its mean ab over its
mean chroma, ``R = |sum p c| / sum p |c|``, is 1 where every colour it holds has one hue
and near 0 where the hues cancel. ``ab = m (1 + beta R^k)`` saturates where the hues
agree; ``ab = s m`` (``--saturation``) everywhere. Both at each temperature, on a
prepared split (the model runs once per photo), set figures as ``colorpast.evaluate``
makes them: mean CIEDE2000, the vivid share (pixel-weighted over photos) and the truly
neutral pixels painted vivid.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import skimage.color  # noqa: E402

from colorpast import bands, metrics as M, models  # noqa: E402
from colorpast.colorizer import load_model  # noqa: E402
from colorpast.evaluate import load_photos, set_mean  # noqa: E402
from colorpast.models import bins  # noqa: E402
from colorpast.models.registry import upsample  # noqa: E402


def decode(logits, temperature, ways, factor):
    """``{way: h*factor x w*factor x 2 ab}`` for one photo's ``1 x h x w x 313`` logits."""
    z = np.asarray(logits, np.float64)[0] / temperature
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    c = np.asarray(bins.ab_bins(), np.float64)
    m = p @ c
    agree = np.linalg.norm(m, axis=-1, keepdims=True) / np.maximum(p @ np.linalg.norm(c, axis=-1), 1e-6)[..., None]
    out = {}
    for way in ways:
        kind, x, k = way
        gain = x if kind == "s" else 1.0 + x * agree ** k
        out[way] = np.asarray(upsample((m * gain)[None].astype(np.float32), factor))[0]
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", help="a 313-bin model: NAME:bundled, a run folder or .keras file")
    p.add_argument("data", help="a prepared set")
    p.add_argument("--split", default="val", choices=["train", "val", "test"])
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--temperatures", type=float, nargs="+", default=[0.7])
    p.add_argument("--saturations", type=float, nargs="+", default=[1.0, 1.1, 1.25, 1.5])
    p.add_argument("--betas", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    p.add_argument("--powers", type=float, nargs="+", default=[1.0, 2.0])
    a = p.parse_args(argv)
    model = load_model(a.model)
    ways = [("s", s, 0.0) for s in a.saturations] + [("b", b, k) for b in a.betas for k in a.powers]
    rows = {(t, w): [] for t in a.temperatures for w in ways}  # per-photo records, as evaluate keeps them
    photos = load_photos(a.data, a.split, a.limit)
    for _, rgb in photos:
        truth = np.asarray(rgb, np.float32) / 255.0
        L = bands.full_res_L(truth)
        logits = np.asarray(model.predict_on_batch(models.inputs(model, L[None])))
        if logits.shape[-1] != 313:
            sys.exit(f"{a.model} is not a 313-bin model (its output has {logits.shape[-1]} channels)")
        factor = L.shape[0] // logits.shape[1]
        lab_t = M._lab(truth)
        for t in a.temperatures:
            for w, ab in decode(logits, t, ways, factor).items():
                lab_p = M._lab(bands._compose(truth, ab, L=L))
                rows[(t, w)].append({"ciede2000": float(np.mean(skimage.color.deltaE_ciede2000(lab_t, lab_p))),
                                     **M._object_colour(lab_t, lab_p)})

    print(f"{len(photos)} photos of {a.data} ({a.split}), {a.model}")
    print("| temperature | decode | CIEDE2000 | vivid % | neutral painted % |\n|---|---|---|---|---|")
    for (t, (kind, x, k)), r in rows.items():
        name = f"saturation {x:g}" if kind == "s" else f"1 + {x:g} R^{k:g}"
        print(f"| {t:g} | {name} | {set_mean(r, 'ciede2000'):.2f} | {set_mean(r, 'vivid_pct'):.1f} "
              f"| {set_mean(r, 'neutral_painted_pct'):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
