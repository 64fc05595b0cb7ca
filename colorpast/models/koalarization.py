"""koalarization: "Deep Koalarization" (Baldassarre, Morin, Rodes-Guirao 2017) in Keras.

Four parts, as in the paper:

    encoder   8 conv 3x3 ReLU: 64/2, 128, 128/2, 256, 256/2, 512, 512, 256   -> H/8
    embedding Inception-ResNet-v2 (keras.applications, with its 1000-way top) on the
              gray image: L repeated to 3 channels, resized to 299x299 inside the model
    fusion    the 1000-d embedding repeated over the H/8 x W/8 grid, concatenated with
              the encoder output, 1x1 conv 256 ReLU
    decoder   conv 128, up x2, conv 64, conv 64, up x2, conv 32, conv 2 tanh, up x2

Input: L in Lab units (0..100), ``N x H x W x 1``, any H and W divisible by 8 (the
embedding branch resizes to 299 whatever the input). The model scales L to [-1, 1]
itself (L / 50 - 1), which is also the input range Inception-ResNet-v2 expects.
Output: ab / 110 in [-1, 1] (tanh), ``N x H x W x 2``; ``to_ab`` multiplies by 110.

The embedding network is frozen, as in the paper. ``weights="imagenet"`` (the
default) makes Keras download its ImageNet weights (215 MB) into ``~/.keras`` on first
use; ``weights=None`` leaves it random (tests, benchmarks, offline use).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from colorpast.color import AB_NORM  # tanh output times this is ab in Lab units
from colorpast.errors import UserError
from colorpast.models.registry import register_regression

EMBED_SIZE = 299  # Inception-ResNet-v2's native input size

_ENCODER = [(64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 1), (256, 1)]


@keras.saving.register_keras_serializable(package="colorpast")
class RepeatOverGrid(layers.Layer):
    """``[N x D vector, N x h x w x C map]`` -> ``N x h x w x D``: the vector at every cell."""

    def call(self, inputs):
        vec, grid = inputs
        # vec broadcast against an all-zero map of grid's N x h x w: dynamic sizes on every backend.
        return vec[:, None, None, :] + ops.zeros_like(grid[..., :1], dtype=vec.dtype)

    def compute_output_shape(self, input_shapes):
        vec, grid = input_shapes
        return (grid[0], grid[1], grid[2], vec[-1])


def build_koalarization(input_shape=(None, None, 1), weights="imagenet", name: str = "koalarization") -> keras.Model:
    """Deep Koalarization, ``N x H x W x 1`` L (Lab units) -> ``N x H x W x 2`` ab / 110.

    weights: the Inception-ResNet-v2 weights, "imagenet" (downloaded by Keras on first
    use) or None (random). The colorization layers always start random.
    """
    inputs = keras.Input(shape=input_shape, name="L")
    x = layers.Rescaling(1.0 / 50.0, offset=-1.0, name="normalize_l")(inputs)  # [-1, 1]

    gray = layers.Concatenate(name="gray_rgb")([x, x, x])
    gray = layers.Resizing(EMBED_SIZE, EMBED_SIZE, interpolation="bilinear", name="resize_299")(gray)
    try:
        inception = keras.applications.InceptionResNetV2(
            include_top=True, weights=weights, input_shape=(EMBED_SIZE, EMBED_SIZE, 3)
        )
    except Exception as e:  # an offline first use: say what to do instead of a long trace

        raise UserError(
            f"could not load Inception-ResNet-v2 {weights} weights ({type(e).__name__}: {e}); "
            "connect once so Keras can cache them, or pass weights=None"
        ) from None
    inception.trainable = False
    embedding = inception(gray, training=False)  # N x 1000

    enc = x
    for i, (filters, stride) in enumerate(_ENCODER, start=1):
        enc = layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu", name=f"enc{i}")(enc)

    tiled = RepeatOverGrid(name="repeat_embedding")([embedding, enc])
    fused = layers.Concatenate(name="fuse_concat")([enc, tiled])
    fused = layers.Conv2D(256, 1, activation="relu", name="fusion")(fused)

    y = layers.Conv2D(128, 3, padding="same", activation="relu", name="dec1")(fused)
    y = layers.UpSampling2D(2, name="up1")(y)
    y = layers.Conv2D(64, 3, padding="same", activation="relu", name="dec2")(y)
    y = layers.Conv2D(64, 3, padding="same", activation="relu", name="dec3")(y)
    y = layers.UpSampling2D(2, name="up2")(y)
    y = layers.Conv2D(32, 3, padding="same", activation="relu", name="dec4")(y)
    y = layers.Conv2D(2, 3, padding="same", activation="tanh", name="ab", dtype="float32")(y)  # float32 head, as seed16
    outputs = layers.UpSampling2D(2, name="up3", dtype="float32")(y)
    return keras.Model(inputs, outputs, name=name)


register_regression("koalarization", build_koalarization,
                    "Deep Koalarization: conv encoder fused with an Inception-ResNet-v2 embedding, MSE on ab/110",
                    scale=AB_NORM)
