"""A 313-bin run's decoding temperature, chosen on its own validation photos.

A model with Colorful's head (``effunet_cls``, ``seed16_cls``, ``colorful``) predicts a
distribution over 313 colours and shows its annealed mean: at temperature 1 the mean
(safe and dull: a red dress that might be blue comes out gray), towards 0 the mode
(vivid, and wrong where the model is unsure). The paper's 0.38 was chosen for its own
network; a model trained here on other photos, another loss or another rebalancing may
want another. ``tune_temperature`` decodes the run's validation photos once per
temperature of ``TEMPERATURES`` (the model runs once per photo) and keeps, among the
temperatures whose CIEDE2000 is within ``TOLERANCE`` of the lowest, the one that keeps the
most vivid colours right (``metrics.vivid_pct``). The choice goes to ``decode.json`` in the
run folder (``colorpast.runs.DECODE``), which every tool that loads the run then uses
unless told another (``--temperature``). ``choose_temperature`` does this when a 313-bin
run finishes: ``colorpast train`` and 04_train call it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import skimage.color

from colorpast import bands, metrics as M, models, runs
from colorpast.data import shards
from colorpast.fsutil import write_text_atomic
from colorpast.models import spec

TEMPERATURES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.38, 0.5, 0.7, 1.0)
# CIEDE2000 a more vivid temperature may cost on the validation photos: a quarter of the
# 0.4 that separated the recipes of one budget (benchmarks/RESULTS.md), well under what
# a viewer sees as a colour difference (2.3).
TOLERANCE = 0.1
MAX_PHOTOS = 400  # 334 in the photos-all validation split; 400 at 224 px decode in about a minute


def scores(model, photos, temperatures=TEMPERATURES) -> list[dict]:
    """``[{temperature, ciede2000, vivid_pct}]`` of ``model`` on ``photos`` (``H x W x 3``
    uint8, all of one size, the model's working size: a prepared split), set figures as
    ``colorpast.evaluate`` makes them. The model runs once per photo."""
    s = spec(model)
    rows = {t: {"temperature": t, "ciede2000": [], "vivid_pct": [], "vivid_truth_pct": []} for t in temperatures}
    for rgb in photos:
        truth = np.asarray(rgb, np.float32) / 255.0
        L = bands.full_res_L(truth)  # H x W x 1
        # A hint model is tuned as it colours alone: with no hints (empty hint maps).
        logits = model.predict(models.inputs(model, L[None]), verbose=0)
        lab_t = M._lab(truth)
        for t in temperatures:
            ab = np.asarray(s.to_ab(logits, temperature=t), np.float32)[0]
            pred = bands._compose(truth, ab, L=L)
            lab_p = M._lab(pred)
            shares = M._object_colour(lab_t, lab_p)
            rows[t]["ciede2000"].append(float(np.mean(skimage.color.deltaE_ciede2000(lab_t, lab_p))))
            rows[t]["vivid_pct"].append(shares["vivid_pct"])
            rows[t]["vivid_truth_pct"].append(shares["vivid_truth_pct"])
    out = []
    for t, r in rows.items():
        v, w = np.array(r["vivid_pct"]), np.array(r["vivid_truth_pct"])
        keep = np.isfinite(v) & (w > 0)
        out.append({"temperature": t, "ciede2000": float(np.mean(r["ciede2000"])),
                    "vivid_pct": float(np.sum(v[keep] * w[keep]) / np.sum(w[keep])) if keep.any() else 0.0})
    return out


def choose(table: list[dict], tolerance: float = TOLERANCE) -> float:
    """The temperature with the highest vivid share among those within ``tolerance``
    CIEDE2000 of the lowest (on a tie, the one nearer the lowest error)."""
    best = min(r["ciede2000"] for r in table)
    near = [r for r in table if r["ciede2000"] <= best + tolerance]
    return max(near, key=lambda r: (r["vivid_pct"], -r["ciede2000"]))["temperature"]


def tune_temperature(run, weights: str = "final", max_photos: int = MAX_PHOTOS, log=print) -> float | None:
    """Choose the run's decoding temperature on its validation split and write it to the
    run's ``decode.json``; returns it. None (nothing written) for a model that regresses
    ab, which has no temperature, or a run whose prepared set has no validation photos."""
    model = runs.load(run, weights)
    if spec(model).make_loss is None:
        return None
    cfg = runs.saved_config(run)
    split = shards.open_split(cfg.data, "val") if cfg and cfg.data else None
    if split is None or not len(split):
        log(f"{run}: no validation photos to choose a decoding temperature on; it decodes at the default")
        return None
    n = min(len(split), max_photos)
    table = scores(model, (np.asarray(split[i]) for i in range(n)))
    t = choose(table)
    write_text_atomic(Path(run) / runs.DECODE, json.dumps({"temperature": t, "chosen_on": f"{cfg.data} val, {n} photos", "tolerance": TOLERANCE,
                            "table": table}, indent=1) + "\n")
    shown = ", ".join(f"{r['temperature']:g}: {r['ciede2000']:.2f} / {r['vivid_pct']:.1f} %" for r in table)
    log(f"{run}: decoding temperature {t:g}, chosen on {n} validation photos (CIEDE2000 / vivid kept: {shown})")
    return t


def choose_temperature(run, log=print) -> float | None:
    """The temperature a finished run decodes at, chosen on its validation photos
    (``tune_temperature``) when it has none yet or its final model is newer than the
    choice; None for a model that regresses ab, an unfinished run or one with no
    validation photos (they decode at the default)."""
    run = Path(run)
    cfg, final, chosen = runs.saved_config(run), run / runs.FINAL, run / runs.DECODE
    if cfg is None or spec(cfg.model).make_loss is None or not final.is_file():
        return None
    if chosen.is_file() and chosen.stat().st_mtime >= final.stat().st_mtime:
        return float(json.loads(chosen.read_text())["temperature"])
    return tune_temperature(run, log=log)
