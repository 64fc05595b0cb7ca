"""seed16_hints: seed16 that also takes the colours a user knows (Zhang et al., SIGGRAPH 2017).

Inputs, as every hint model takes them (``colorpast.hints``):

- ``L``: ``N x H x W x 1`` in Lab units (0..100), H and W divisible by 8;
- ``hints``: ``N x H x W x 3``: a and b in Lab units where a hint is (0 elsewhere), and a
  mask (1 where a hint is). All zeros: no hints, automatic colorization.

Output: ab / 128 in [-1, 1] (tanh), ``N x H x W x 2``, as seed16's; MSE on ab / 128.

The network is seed16's 16 layers with batch normalization after every convolution
and L scaled to [-1, 1] (seed16 takes L unscaled, which trains slowly), plus a fixed
layer that spreads the sparse hints into dense colour guesses before the network sees
them. A hint covers a few pixels out of tens of thousands: fed to seed16 as it is, the
network learned to ignore it (a test run of 4,000 crops gave the same output with 0 and
50 hints). So ``HintSpread`` turns the hints into **normalized convolutions**
(Knutsson and Westin, 1993) at three scales: for each scale, a Gaussian-weighted mean
of the hinted ab around every pixel and a confidence (how much hint weight is near).
The network gets those at its input and again just before its head, so copying a
nearby hint's colour is a short path it learns in few steps, while L's edges teach it
where a colour stops.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from colorpast.color import AB_NORM, L_CENT
from colorpast.models.registry import register_regression
from colorpast.models.seed16 import _ARCH

# (pooling factor, sigma at that resolution): effective sigmas of 2, 8 and 32 px at the
# model's input (224 px on the short side: a patch, an object, a region).
SCALES = ((1, 2.0), (4, 2.0), (8, 4.0))


def _gaussian(sigma: float) -> np.ndarray:
    r = int(math.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return (k / k.max()).astype(np.float32)  # peak 1: a lone hint pixel gives weight 1 at itself


def _blur(y, k: np.ndarray):
    """Separable blur of ``N x H x W x C`` by the taps ``k``, zeros beyond the edges, as
    sums of shifted slices. Not a depthwise convolution: TensorFlow 2.16's crashes (a
    segfault) when the kernel is wider than a small photo's pooled map, whatever the
    padding; slices work on every backend and any size."""
    r = len(k) // 2
    for axis in (2, 1):
        pad = [[0, 0]] * 4
        pad[axis] = [r, r]
        yp = ops.pad(y, pad)
        out = 0.0
        for t, w in enumerate(k):
            end = t - 2 * r or None  # the window of W (or H) values starting at t
            out = out + float(w) * (yp[:, :, t:end] if axis == 2 else yp[:, t:end])
        y = out
    return y


@keras.saving.register_keras_serializable(package="colorpast")
class HintSpread(layers.Layer):
    """``N x H x W x 3`` hint map -> ``N x H x W x 3 * len(SCALES)`` dense colour guesses.

    Per scale: ``a * c / 110``, ``b * c / 110`` and ``c``, where (a, b) is the
    Gaussian-weighted mean of the hinted ab (normalized convolution) and ``c = w / (w +
    1)`` the confidence from the hint weight ``w`` nearby (0 far from any hint, towards 1
    on it). Computed at a pooled resolution and upsampled, so the wide scales cost
    little; every step works on inputs of any size (colorize gives each photo its own).
    No trainable weights.
    """

    def call(self, hint_map):
        ab, mask = hint_map[..., :2], hint_map[..., 2:3]
        x = ops.concatenate([ab * mask, mask], axis=-1)  # N x H x W x 3
        outs = []
        for pool, sigma in SCALES:
            y = ops.average_pool(x, pool, pool, "valid") * float(pool * pool) if pool > 1 else x  # sums per cell
            y = _blur(y, _gaussian(sigma))
            if pool > 1:  # back to full size: nearest, then a box of the same width (= linear interpolation)
                y = ops.repeat(ops.repeat(y, pool, axis=1), pool, axis=2)
                y = ops.average_pool(y, pool, 1, "same")
            wsum = ops.maximum(y[..., 2:3], 0.0)
            mean_ab = y[..., :2] / (wsum + 1e-6)
            conf = wsum / (wsum + 1.0)
            outs += [mean_ab * conf / AB_NORM, conf]
        return ops.concatenate(outs, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 3 * len(SCALES))


def _conv_bn(x, filters, stride, name):
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def build_seed16_hints(input_shape=(None, None, 1), name: str = "seed16_hints") -> keras.Model:
    """``[N x H x W x 1 L, N x H x W x 3 hint map]`` -> ``N x H x W x 2`` ab / 128."""
    L = keras.Input(shape=input_shape, name="L")
    hint_map = keras.Input(shape=(*input_shape[:2], 3), name="hints")
    spread = HintSpread(name="hint_spread")(hint_map)  # N x H x W x 9
    x = layers.Rescaling(1.0 / L_CENT, offset=-1.0, name="normalize_l")(L)
    x = layers.Concatenate(name="inputs")([x, spread, layers.Rescaling(1.0 / AB_NORM, name="hint_scale")(hint_map)])
    conv = ups = 0
    for item in _ARCH:
        if item == "up":
            ups += 1
            x = layers.UpSampling2D((2, 2), name=f"up{ups}")(x)
            continue
        conv += 1
        x = _conv_bn(x, item[0], item[1], f"conv{conv}")
    # The hints again at the head (half resolution), a short path from a hint to its colour.
    near = layers.AveragePooling2D(2, name="spread_half")(spread)
    x = layers.Concatenate(name="head_inputs")([x, near])
    x = layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab", dtype="float32")(x)
    outputs = layers.UpSampling2D((2, 2), name="up3", dtype="float32")(x)
    return keras.Model([L, hint_map], outputs, name=name)


register_regression("seed16_hints", build_seed16_hints,
                    "seed16 with batch norm that also takes colour hints (L + ab hint map + mask), MSE on ab/128",
                    hints=True)
