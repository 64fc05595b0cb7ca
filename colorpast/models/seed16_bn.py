"""seed16_bn and seed16_fast: the seed paper's network with batch normalization.

The same 12 Conv2D 3x3 layers and 3 UpSampling2D as ``seed16`` (``seed16._ARCH``), with
two changes that make it train faster from scratch (benchmarks/RESULTS.md, "A better
recipe at equal compute"):

- L is scaled to [-1, 1] before the first convolution (seed16 takes it unscaled, 0..100);
- every convolution is followed by batch normalization, then ReLU (no bias: the
  normalization has its own).

``seed16_fast`` also sees the photo at a quarter of its width and height: L is
area-averaged 4 x 4 first, the network runs at that size (1/16 of seed16's compute) and
predicts ab there; decoding upsamples it bilinearly. Colour varies slowly across a
photo (CBSD68's true ab shrunk 8 times and upsampled back is 1.7 CIEDE2000 from the
truth), and at a quarter size the network's receptive field covers the whole scene.

Input: L in Lab units (0..100), ``N x H x W x 1``; H and W divisible by 8 (seed16_bn) or
32 (seed16_fast).
Output: ab / 128 in [-1, 1] (tanh): ``N x H x W x 2`` (seed16_bn) or ``N x H/4 x W/4 x
2`` (seed16_fast, whose ``target_from_ab`` averages the true ab over 4 x 4 cells).
Loss: mean squared error on ab / 128 unless training asks for L1 or Huber.
"""

from __future__ import annotations

import keras
from keras import layers

from colorpast.color import AB_SCALE_SEED, L_CENT
from colorpast.models.registry import ModelSpec, cell_mean, register, register_regression, upsample
from colorpast.models.seed16 import _ARCH

FAST_POOL = 4  # seed16_fast works at 1/4 of the input's width and height


def build(input_shape=(None, None, 1), name: str = "seed16_bn", pool: int = 1) -> keras.Model:
    """``N x H x W x 1`` L -> ``N x H/pool x W/pool x 2`` ab / 128."""
    inputs = keras.Input(shape=input_shape, name="L")
    x = layers.Rescaling(1.0 / L_CENT, offset=-1.0, name="normalize_l")(inputs)
    if pool > 1:
        x = layers.AveragePooling2D(pool, name="quarter")(x)
    conv = ups = 0
    for item in _ARCH:
        if item == "up":
            ups += 1
            x = layers.UpSampling2D((2, 2), name=f"up{ups}")(x)
            continue
        conv += 1
        filters, stride = item
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"conv{conv}")(x)
        x = layers.BatchNormalization(name=f"conv{conv}_bn")(x)
        x = layers.Activation("relu", name=f"conv{conv}_relu")(x)
    # A float32 head under mixed precision, as seed16's.
    x = layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab", dtype="float32")(x)
    outputs = layers.UpSampling2D((2, 2), name="up3", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def fast_to_ab(y):
    """``N x h x w x 2`` ab / 128 at a quarter size -> ``N x 4h x 4w x 2`` ab in Lab units,
    upsampled bilinearly (half-pixel centres)."""
    return upsample(keras.ops.convert_to_tensor(y) * AB_SCALE_SEED, FAST_POOL)


def fast_target_from_ab(ab):
    """``N x H x W x 2`` ab (Lab units) -> ``N x H/4 x W/4 x 2``: the mean of each 4 x 4 cell, / 128."""
    return cell_mean(ab, FAST_POOL) / AB_SCALE_SEED


register_regression("seed16_bn", build, "seed16 with batch normalization and L scaled to [-1, 1], MSE on ab/128")

register(
    ModelSpec(
        name="seed16_fast",
        builder=lambda input_shape=(None, None, 1), name="seed16_fast": build(input_shape, name, pool=FAST_POOL),
        to_ab=fast_to_ab,
        target_from_ab=fast_target_from_ab,
        multiple=8 * FAST_POOL,
        default_size=224,
        description="seed16_bn on the photo at a quarter of its width and height (1/16 of the compute), ab upsampled",
    )
)
