"""The demo (``colorpast demo``): train seed16 on the embedded photos and colorize held-out ones.

The whole workflow in a few minutes on a laptop CPU, with no download: load the real
colour photos bundled with scikit-image and matplotlib, hold two out, train seed16 on
random crops with flips (checkpointed every epoch), then colorize the held-out and the
training photos at full resolution and compare with the gray baseline (ab = 0).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from colorpast import evaluate, runs, train
from colorpast.colorizer import colorize
from colorpast.config import TrainConfig, preset
from colorpast.data.loader import Loader, resize_short_side
from colorpast.data.sources import EMBEDDED_HELD_OUT, embedded_sample
from colorpast.errors import UserError
from colorpast.fsutil import discard, writable_dir, write_text_atomic

# The embedded photos are scaled so their shorter side is 2x the training crop: a crop
# then sees about a quarter of a photo, and the model runs at that scale at test time.
SCALE_PER_CROP = 2


def demo(out="runs/demo", smoke: bool = False, restart: bool = False, verbose=1, log=print) -> dict:
    """Run the demo; returns the paths written and the summary rows. Safe to re-run."""
    out = writable_dir(out)
    cfg = preset("smoke" if smoke else "demo")
    run_dir = out / "run"
    if restart and run_dir.exists():
        discard(run_dir)  # truncated first, as every run's files
    saved = run_dir / "config.json"
    if saved.exists() and TrainConfig.from_json(saved).differences(cfg):  # what it learns; not a default's later change
        raise UserError(
            f"{run_dir} holds a run with other settings ({'not ' if smoke else ''}--smoke); "
            "pass --restart to replace it or --out to use another folder"
        )

    t0 = time.time()
    photos = embedded_sample()
    held_out = [p for p in photos if p.name in EMBEDDED_HELD_OUT]
    training = [p for p in photos if p.name not in EMBEDDED_HELD_OUT]
    scale = cfg.size * SCALE_PER_CROP
    train_imgs = [resize_short_side(p.rgb, scale) for p in training]
    val_imgs = [resize_short_side(p.rgb, scale) for p in held_out]
    log(
        f"embedded sample: {len(training)} training photos ({', '.join(p.name for p in training)}), "
        f"{len(held_out)} held out ({', '.join(p.name for p in held_out)})"
    )

    if (run_dir / runs.FINAL).exists():
        log(f"reusing the trained model in {run_dir} (pass --restart to train again)")
        model = runs.load(run_dir)
    else:
        log(
            f"training {cfg.model}: {cfg.epochs} epochs x {cfg.steps_per_epoch} steps x {cfg.batch_size} crops "
            f"of {cfg.size}x{cfg.size}, {cfg.optimizer} lr {cfg.lr}; checkpoints in {run_dir}"
        )

        # Random crops with horizontal flips of the training photos; the held-out photos'
        # centre squares at the colorize scale as validation, one batch.
        train_data = Loader(train_imgs, cfg.batch_size, cfg.size, augment="flip", seed=cfg.seed)
        val_data = Loader(val_imgs, len(val_imgs), scale, train=False)
        result = train.fit(cfg, run_dir, train_data, val_data, verbose=verbose, log=log)
        model = result.model
        log(result.summary())

    # Colorize at full resolution: the model runs at the training scale, ab is upsampled
    # to each photo's own size and joined with its original L.
    comp = evaluate.compare(
        [(p.name, p.rgb) for p in held_out + training],
        {cfg.model: lambda rgb: colorize(rgb, model, size=scale)},
        group_of=lambda name: "held-out" if name in EMBEDDED_HELD_OUT else "train",
    )
    paths = evaluate.write_report(
        comp,
        out,
        groups=["held-out", "train"],
        title=f"colorpast demo: {cfg.model} trained {cfg.epochs * cfg.steps_per_epoch * cfg.batch_size} crops "
        "on the embedded photos",
    )
    held, trained = comp.summary("held-out"), comp.summary("train")
    write_text_atomic(out / "summary.json", json.dumps({"held_out": held, "train": trained}, indent=2))
    log("")
    log("held-out photos, never seen in training (gray = the ab = 0 baseline):")
    log(evaluate.markdown_table(held))
    log("training photos:")
    log(evaluate.markdown_table(trained))
    log(f"done in {time.time() - t0:.0f} s")
    for kind, p in [("grid", paths["grid"]), ("table", paths["table"]), ("csv", paths["csv"]), ("model", run_dir / runs.FINAL)]:
        log(f"  {kind:<6} {Path(p)}")
    return {"paths": paths, "held_out": held, "config": cfg}
