"""How far a hint's miss is carried (``colorpast.hints.honour``): chosen on validation photos.

    python benchmarks/honour_hints.py --data data/prepared/photos-all --split val --limit 60 \\
        --hints 1 10 50 --reach 0.75 1 1.25 1.5 2 --lightness 6 8 12

For each photo, N true colours are revealed as ``evaluate --hints N`` reveals them (the
photo's own seed), the hint model runs once, and its colours are scored as they come
(reach 0) and honoured with every reach and lightness asked for. Prints mean PSNR and
CIEDE2000 per setting and number of hints, and how far the network's colours are from
its hints where they were given; the model runs once a photo and count.

With ``--time``, no photos: the median wall time of ``honour`` beside that of the model
itself (one ``predict_ab`` of the hint model) at two working sizes, for 10 and 50 points
and scribbles covering a tenth and most of the photo.

    python benchmarks/honour_hints.py --time [--repeats 7]
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from colorpast import bands, colorizer, evaluate, hints, metrics
from colorpast.models import predict_ab


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="effunet_hints:bundled")
    p.add_argument("--data", default="data/prepared/photos-all")
    p.add_argument("--split", default="val")
    p.add_argument("--limit", type=int, default=60)
    p.add_argument("--hints", type=int, nargs="+", default=[1, 10, 50])
    p.add_argument("--reach", type=float, nargs="+", default=[0.75, 1.0, 1.25, 1.5, 2.0])
    p.add_argument("--lightness", type=float, nargs="+", default=[6.0, 8.0, 12.0])
    p.add_argument("--carried", type=float, nargs="+", default=[hints.CARRIED],
                   help="the most of a miss carried, ab units (0: all of it)")
    p.add_argument("--time", action="store_true", help="time honour beside the model instead of scoring")
    p.add_argument("--repeats", type=int, default=7)
    a = p.parse_args(argv)
    model = colorizer.load_model(a.model)
    if a.time:
        return timing(model, a.repeats)
    spec = colorizer.model_spec(model)
    photos = evaluate.load_photos(a.data, a.split, limit=a.limit)
    settings = [(0.0, 0.0, 0.0)] + list(itertools.product(a.reach, a.lightness, a.carried))
    t0 = time.time()
    for n in a.hints:
        scores = {s: [] for s in settings}
        misses = []  # the network's miss at its hints: mean |hint - prediction| over the hinted pixels
        for name, rgb in photos:
            truth = rgb.astype(np.float32) / 255
            ws = colorizer.working_size(*rgb.shape[:2], spec.default_size, spec.multiple)
            given = hints.reveal(rgb, n, ws, seed=evaluate.photo_seed(name))
            hmap = given.to_map(ws)
            L = bands.resize_area(bands.full_res_L(truth), ws)
            ab = predict_ab(model, L[None], hints=hmap[None])[0]
            on = hmap[..., 2] > 0
            misses.append(float(np.abs(hmap[on][:, :2] - ab[on]).mean()))
            for reach, light, carried in settings:
                out = bands._compose(truth, hints.honour(ab, L, hmap, reach=reach, lightness=light or 1.0,
                                                         carried=carried))
                scores[(reach, light, carried)].append((metrics.psnr(truth, out), metrics.ciede2000(truth, out)))
        for (reach, light, carried), v in scores.items():
            psnr, de = np.mean(v, axis=0)
            label = ("as the network gives them" if reach == 0
                     else f"reach {reach:g}, lightness {light:g}, carried {carried:g}")
            print(f"{n:>3} hints  {label:<40} PSNR {psnr:6.3f}  CIEDE2000 {de:6.3f}", flush=True)
        print(f"{n:>3} hints  the network misses its hints by {np.mean(misses):.2f} ab units (mean over hinted pixels)")
    print(f"{len(photos)} photos of {a.data} ({a.split}), {time.time() - t0:.0f} s")
    return 0


def timing(model, repeats: int) -> int:
    """Median seconds of ``honour`` and of the model, at 224 x 352 and 512 x 768."""
    rng = np.random.default_rng(0)

    def median(fn):
        fn()  # the first call compiles the model (and warms numpy)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return float(np.median(times))

    for h, w in ((224, 352), (512, 768)):  # multiples of 32, as working_size makes them
        L = np.clip(rng.normal(50, 20, (h, w, 1)), 0, 100).astype(np.float32)
        empty = hints.empty_map((h, w))
        ab = predict_ab(model, L[None], hints=empty[None])[0]
        model_s = median(lambda: predict_ab(model, L[None], hints=empty[None]))
        cases = {}
        for n in (10, 50):
            m = np.zeros((h, w, 3), np.float32)
            for y, x in zip(rng.integers(1, h - 1, n), rng.integers(1, w - 1, n)):
                m[y - 1:y + 2, x - 1:x + 2] = (20.0, -10.0, 1.0)
            cases[f"{n} points"] = m
        for share, label in ((0.1, "a scribble over a tenth"), (0.6, "a scribble over most")):
            m = np.zeros((h, w, 3), np.float32)
            side = np.sqrt(share)
            m[: int(h * side), : int(w * side)] = (20.0, -10.0, 1.0)
            cases[label] = m
        for label, m in cases.items():
            s = median(lambda m=m: hints.honour(ab, L, m))
            print(f"{h} x {w}: {label:<26} honour {s * 1000:7.1f} ms, the model {model_s * 1000:7.1f} ms "
                  f"({s / model_s:.2f} of it)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
