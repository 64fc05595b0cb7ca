"""ImageNet accuracy of a converted EfficientNet-Lite, and what each conversion detail is worth.

    .venv/bin/python benchmarks/encoder_accuracy.py ../shared/data/imagenet1k-256 [--encoder lite0|lite2]
        [--variant NAME ...] [--short S] [--crop C] [--limit N] [--every K]

The shared sample holds one photo per ImageNet class, named ``WNID_name.jpg`` (short side
256 px, but 97 of them less, down to 160); the class index is the WNID's place in sorted
order, as in every ImageNet release. Each photo is resized (bicubic) to a shorter side of
``--short`` and its centre ``--crop`` x ``--crop`` goes through ``build_classifier()``; by
default the crop is the encoder's own size and the shorter side 32 px more, as the TPU
repository evaluates (Lite0: 256 then 224; Lite2: 292 then 260). (Until 2026-12-06 the
photos were cropped as they were, so the 97 small ones lost their edges or, below 224,
had black bands: Lite0 scored 86.4 % top-1 that way, 87.4 % this way.) The script prints
top-1, top-5, the cross-entropy on the true classes and the milliseconds a photo, of
the clock and of CPU time (``predict`` in batches of 32, after a warm-up), for the
conversion as written (``exact``) and for each variant that changes one detail the way a
PyTorch port would:

    pytorch-padding   symmetric zero padding at the stride-2 convolutions (PyTorch's
                      ``padding=k // 2``) instead of TensorFlow's "same"
    epsilon-1e-5      batch normalization epsilon 1e-5 (PyTorch's default) instead of 1e-3
    imagenet-mean-std input scaled by ImageNet's mean and standard deviation instead of
                      (x - 127) / 128
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from colorpast.models import efficientnet_lite as lite  # noqa: E402

VARIANTS = ["exact", "pytorch-padding", "epsilon-1e-5", "imagenet-mean-std"]
MEAN, STD = np.array([0.485, 0.456, 0.406]) * 255, np.array([0.229, 0.224, 0.225]) * 255


class _SymmetricPadding:
    """keras.layers, except that stride-2 "same" convolutions pad k // 2 on every side."""

    def __getattr__(self, name):
        return getattr(keras.layers, name)

    @staticmethod
    def _padded(cls, k, strides, padding, args, kwargs):
        if strides in (2, (2, 2)) and padding == "same":
            conv = cls(*args, strides=strides, padding="valid", **kwargs)
            return lambda x: conv(keras.layers.ZeroPadding2D(k // 2)(x))
        return cls(*args, strides=strides, padding=padding, **kwargs)

    def Conv2D(self, filters, k, strides=1, padding="valid", **kw):  # noqa: N802 - keras's name
        return self._padded(keras.layers.Conv2D, k, strides, padding, (filters, k), kw)

    def DepthwiseConv2D(self, k, strides=1, padding="valid", **kw):  # noqa: N802
        return self._padded(keras.layers.DepthwiseConv2D, k, strides, padding, (k,), kw)


def load(folder: Path, limit: int | None = None, short: int = 256, crop: int = 224, every: int = 1):
    """Every ``every``-th photo (sorted by name; the first ``limit`` of those), shorter side
    to ``short``, centre ``crop``: ``N x crop x crop x 3`` RGB in 0..255 and ``N`` class indices."""
    files = sorted(folder.glob("*.jpg"))
    wnids = sorted({f.name.split("_")[0] for f in files})
    if len(wnids) != 1000:
        raise SystemExit(f"encoder_accuracy: {folder} holds {len(wnids)} ImageNet classes, not the 1,000 the "
                         "class indices are counted from")
    x, y = [], []
    for f in files[::every][:limit]:
        im = Image.open(f).convert("RGB")
        if min(im.size) != short:
            s = short / min(im.size)
            im = im.resize((round(im.width * s), round(im.height * s)), Image.BICUBIC)
        left, top = (im.width - crop) // 2, (im.height - crop) // 2
        x.append(np.asarray(im.crop((left, top, left + crop, top + crop)), np.float32))
        y.append(wnids.index(f.name.split("_")[0]))
    return np.stack(x), np.array(y)


def accuracy(variant: str, x, y, encoder: str = "lite0") -> dict[str, float]:
    """``encoder``'s classifier built with ``variant``'s detail on photos ``x`` of classes ``y``:
    top-1 and top-5 (shares), cross-entropy (the mean of -log p(true class), in nats: it
    moves with every detail where the top-1 of a few hundred photos may not), and the
    seconds a photo, of the clock and of this process's CPU time (the steadier of the two
    beside other jobs)."""
    saved = lite.layers, lite.BN_EPSILON
    try:
        if variant == "pytorch-padding":
            lite.layers = _SymmetricPadding()
        elif variant == "epsilon-1e-5":
            lite.BN_EPSILON = 1e-5
        elif variant == "imagenet-mean-std":  # what the model's (x - 127) / 128 then turns into (x - mean) / std
            x = (x - MEAN) / STD * lite.INPUT_STD + lite.INPUT_MEAN
        model = lite.build_classifier(x.shape[1:], variant=encoder)
    finally:
        lite.layers, lite.BN_EPSILON = saved
    x = x.astype(np.float32)
    model.predict(x[:32], batch_size=32, verbose=0)  # the warm-up: tracing is not the photos' cost
    start, cpu = time.perf_counter(), time.process_time()
    logits = model.predict(x, batch_size=32, verbose=0).astype(np.float64)
    seconds, cpu = (time.perf_counter() - start) / len(x), (time.process_time() - cpu) / len(x)
    top5 = np.argsort(-logits, axis=1)[:, :5]
    peak = logits.max(axis=1)
    log_p = logits[np.arange(len(y)), y] - peak - np.log(np.exp(logits - peak[:, None]).sum(axis=1))
    return {"top1": float((top5[:, 0] == y).mean()), "top5": float((top5 == y[:, None]).any(axis=1).mean()),
            "xent": float(-log_p.mean()), "seconds": seconds, "cpu_seconds": cpu}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", help="the shared imagenet1k-256 folder")
    p.add_argument("--encoder", default="lite0", choices=list(lite.VARIANTS),
                   help="which EfficientNet-Lite (default: lite0)")
    p.add_argument("--variant", nargs="+", default=VARIANTS, choices=VARIANTS)
    p.add_argument("--short", type=int, help="shorter side the photos are resized to (default: the crop + 32)")
    p.add_argument("--crop", type=int,
                   help="the centre crop's side (default: the encoder's size, Lite0 224, Lite2 260)")
    p.add_argument("--limit", type=int, help="only the first N photos (the test suite's quick run)")
    p.add_argument("--every", type=int, default=1, help="only every K-th photo (a spread of classes)")
    a = p.parse_args(argv)
    crop = a.crop or lite.variant_of(a.encoder).size
    short = a.short or crop + 32
    x, y = load(Path(a.folder), a.limit, short, crop, a.every)
    print(f"{lite.variant_of(a.encoder).title}: {len(y)} photos, {len(set(y.tolist()))} classes, shorter side {short}, "
          f"centre {crop} crops")
    print("| conversion | top-1 | top-5 | cross-entropy | ms a photo | CPU ms a photo |\n|---|---|---|---|---|---|")
    for v in a.variant:
        r = accuracy(v, x, y, a.encoder)
        print(f"| {v} | {r['top1'] * 100:.1f} % | {r['top5'] * 100:.1f} % | {r['xent']:.3f} "
              f"| {r['seconds'] * 1000:.0f} | {r['cpu_seconds'] * 1000:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
