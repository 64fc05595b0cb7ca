"""ImageNet accuracy of the converted EfficientNet-Lite0, and what each conversion detail is worth.

    .venv/bin/python benchmarks/encoder_accuracy.py ../shared/data/imagenet1k-256 [--variant NAME ...] [--limit N]

The shared sample holds one photo per ImageNet class, named ``WNID_name.jpg`` (short side
256 px); the class index is the WNID's place in sorted order, as in every ImageNet
release. Each photo's centre 224 x 224 crop goes through ``build_classifier()``; the
script prints top-1 and top-5 for the conversion as written (``exact``) and for each
variant that changes one detail the way a PyTorch port would:

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


def load(folder: Path, limit: int | None = None):
    files = sorted(folder.glob("*.jpg"))
    wnids = sorted({f.name.split("_")[0] for f in files})
    if len(wnids) != 1000:
        raise SystemExit(f"encoder_accuracy: {folder} holds {len(wnids)} ImageNet classes, not the 1,000 the "
                         "class indices are counted from")
    x, y = [], []
    for f in files[:limit]:
        im = Image.open(f).convert("RGB")
        left, top = (im.width - 224) // 2, (im.height - 224) // 2
        x.append(np.asarray(im.crop((left, top, left + 224, top + 224)), np.float32))
        y.append(wnids.index(f.name.split("_")[0]))
    return np.stack(x), np.array(y)


def accuracy(variant: str, x, y) -> tuple[float, float]:
    saved = lite.layers, lite.BN_EPSILON
    try:
        if variant == "pytorch-padding":
            lite.layers = _SymmetricPadding()
        elif variant == "epsilon-1e-5":
            lite.BN_EPSILON = 1e-5
        elif variant == "imagenet-mean-std":  # what the model's (x - 127) / 128 then turns into (x - mean) / std
            x = (x - MEAN) / STD * lite.INPUT_STD + lite.INPUT_MEAN
        model = lite.build_classifier()
    finally:
        lite.layers, lite.BN_EPSILON = saved
    top5 = np.argsort(-model.predict(x.astype(np.float32), batch_size=32, verbose=0), axis=1)[:, :5]
    return float((top5[:, 0] == y).mean()), float((top5 == y[:, None]).any(axis=1).mean())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", help="the shared imagenet1k-256 folder")
    p.add_argument("--variant", nargs="+", default=VARIANTS, choices=VARIANTS)
    p.add_argument("--limit", type=int, help="only the first N photos (the test suite's quick run)")
    a = p.parse_args(argv)
    x, y = load(Path(a.folder), a.limit)
    print(f"{len(y)} photos, {len(set(y.tolist()))} classes, centre 224 crops")
    print("| conversion | top-1 | top-5 |\n|---|---|---|")
    for v in a.variant:
        top1, top5 = accuracy(v, x, y)
        print(f"| {v} | {top1 * 100:.1f} % | {top5 * 100:.1f} % |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
