"""seed16: the seed paper's 16-layer Conv2D/UpSampling2D colorization network.

Exactly the network of "Coloring the Past" (after Emil Wallner's "Coloring
greyscale images", beta version): an input, 12 Conv2D 3x3 same-padding layers and
3 UpSampling2D x2 layers, 3,892,194 parameters.

Input: L in Lab units (0..100), as the seed fed it, unscaled: ``N x H x W x 1`` with
H and W divisible by 8 (three stride-2 convolutions, three x2 upsamplings).
Output: ab / 128 in [-1, 1] (tanh), ``N x H x W x 2``; ``to_ab`` multiplies by 128.
"""

from __future__ import annotations

import keras
from keras import layers

from colorpast.models.registry import register_regression

# (filters, stride) of the encoder and bottleneck, then the decoder; "up" is UpSampling2D.
_ARCH = [
    (64, 1), (64, 2), (128, 1), (128, 2), (256, 1), (256, 2),
    (512, 1), (256, 1), (128, 1),
    "up", (64, 1), "up", (32, 1),
]


def backbone(x):
    """The seed network up to its head: ``N x H x W x 1`` L -> ``N x H/2 x W/2 x 32``
    (12 convolutions conv1..conv12, two of the three upsamplings, up1 and up2)."""
    conv = ups = 0
    for item in _ARCH:
        if item == "up":
            ups += 1
            x = layers.UpSampling2D((2, 2), name=f"up{ups}")(x)
            continue
        filters, stride = item
        conv += 1
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu", name=f"conv{conv}")(x)
    return x


def build_seed16(input_shape=(None, None, 1), name: str = "seed16") -> keras.Model:
    """The seed network, ``N x H x W x 1`` L -> ``N x H x W x 2`` ab/128."""
    inputs = keras.Input(shape=input_shape, name="L")
    x = backbone(inputs)
    # The head computes in float32 under mixed precision too (Keras's advice for a
    # model's outputs): bfloat16 would round ab/128 to 1/256, half an ab unit.
    x = layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab", dtype="float32")(x)
    outputs = layers.UpSampling2D((2, 2), name="up3", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


register_regression("seed16", build_seed16,
                    "the seed paper's 16-layer Conv2D/UpSampling2D net, MSE on ab/128")
