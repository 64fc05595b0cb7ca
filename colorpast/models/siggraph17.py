"""siggraph17: "Real-Time User-Guided Image Colorization with Learned Deep Priors" (Zhang,
Zhu, Isola, Geng, Lin, Yu, Efros, SIGGRAPH 2017) in Keras, with its published weights.

The network of richzhang/colorization's ``siggraph17`` release, layer for layer, so that
people who never train a model can still say "the dress was red":

    model1  2 x conv 64 on (L, a, b, mask), BatchNorm             H      -> conv1_2
    model2  2 x conv 128 on conv1_2[::2, ::2], BatchNorm           H/2    -> conv2_2
    model3  3 x conv 256 on conv2_2[::2, ::2], BatchNorm           H/4    -> conv3_3
    model4  3 x conv 512 on conv3_3[::2, ::2], BatchNorm           H/8
    model5, model6  3 x conv 512 dilated 2, BatchNorm             H/8
    model7  3 x conv 512, BatchNorm                                H/8
    model8up   transposed conv 256 (4x4, stride 2) + model3short8(conv3_3), then ReLU,
               2 x conv 256, BatchNorm                             H/4
    model9up   transposed conv 128 + model2short9(conv2_2), ReLU, conv 128, BatchNorm  H/2
    model10up  transposed conv 128 + model1short10(conv1_2), ReLU, conv 128, LeakyReLU 0.2  H
    model_out  1x1 conv to 2, tanh: ab / 110

All 3x3 convolutions pad one pixel ("same") and are followed by ReLU; downsampling
keeps every second row and column (the release's ``[:, :, ::2, ::2]``), not a strided
convolution. BatchNorm epsilon 1e-5 (PyTorch's). The release also holds ``model_class``
(a 529-way classifier on conv8, for the paper's colour suggestions): not used here.

Interface, as published: L in Lab units, and hints ``N x H x W x 3`` (a, b in Lab units
where given, 0 elsewhere; the mask, 1 where given), the same hint map as ``seed16_hints``
and ``effunet_hints`` take (``colorpast.hints``). The network normalises them itself:
(L - 50) / 100, ab / 110, the mask as it is (the PyTorch release's ``forward``, whose
default mask for "no hints" is all zeros). Output ab / 110 at the input's size.

Weights: ``colorpast weights fetch siggraph17`` downloads ``siggraph17-df00044c.pth``
(137 MB, sha256 checked), converts it once to ``weights/siggraph17.weights.h5``
(``colorpast.weights``), and ``build("siggraph17", weights="official")`` loads that.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from colorpast.color import L_CENT, L_NORM
from colorpast.models.colorful import load_weights, weights_dir  # noqa: F401 - weights_dir: also siggraph17.weights_dir
from colorpast.models.registry import register_regression

AB_NORM = 110.0  # the release's ab scale, in and out
MASK_CENT = 0.0  # the release's forward passes the mask as it is (0 = no hint)
BN_EPSILON = 1e-5
OFFICIAL_WEIGHTS = "siggraph17.weights.h5"

# Blocks before the decoder: (name, filters, convolutions, dilation); each conv at an even
# index of its nn.Sequential (a ReLU after it), the BatchNorm after the last ReLU.
ENCODER = [("model1", 64, 2, 1), ("model2", 128, 2, 1), ("model3", 256, 3, 1), ("model4", 512, 3, 1),
           ("model5", 512, 3, 2), ("model6", 512, 3, 2), ("model7", 512, 3, 1)]
# Decoder stages: (up-conv name, skip conv name, skip source, block name, filters, convolutions).
# A block opens with a ReLU, so its convs sit at odd indices, its BatchNorm after the last ReLU.
DECODER = [("model8up", "model3short8", "model3", "model8", 256, 2),
           ("model9up", "model2short9", "model2", "model9", 128, 1),
           ("model10up", "model1short10", "model1", "model10", 128, 1)]


def key_map() -> dict[str, str]:
    """Keras layer name -> key prefix of the release's state_dict (``model1.0`` ...)."""
    m = {}
    for name, _, n, _ in ENCODER:
        for i in range(n):
            m[f"{name}_{2 * i}"] = f"{name}.{2 * i}"
        m[f"{name}_{2 * n}"] = f"{name}.{2 * n}"  # BatchNorm
    for up, short, _, block, _, n in DECODER:
        m[f"{up}_0"], m[f"{short}_0"] = f"{up}.0", f"{short}.0"
        for i in range(n):
            m[f"{block}_{2 * i + 1}"] = f"{block}.{2 * i + 1}"
        if block != "model10":
            m[f"{block}_{2 * n + 1}"] = f"{block}.{2 * n + 1}"  # BatchNorm
    m["model_out_0"] = "model_out.0"
    return m


def batchnorm_layers() -> set[str]:
    """The Keras names of the BatchNorm layers (their weights are gamma, beta, mean, variance)."""
    return {f"{name}_{2 * n}" for name, _, n, _ in ENCODER} | {
        f"{block}_{2 * n + 1}" for _, _, _, block, _, n in DECODER if block != "model10"}


@keras.saving.register_keras_serializable(package="colorpast")
class Subsample2(layers.Layer):
    """Every second row and column, from the first: the release's ``x[:, :, ::2, ::2]``."""

    def call(self, x):
        return x[:, ::2, ::2, :]

    def compute_output_shape(self, s):
        return (s[0], None if s[1] is None else (s[1] + 1) // 2, None if s[2] is None else (s[2] + 1) // 2, s[3])


@keras.saving.register_keras_serializable(package="colorpast")
class SiggraphInput(layers.Layer):
    """(L, hint map) in Lab units -> the release's 4 input channels: (L - 50) / 100, ab / 110, mask."""

    def call(self, inputs):
        L, hint_map = inputs
        L = ops.cast(L, self.compute_dtype)
        hint_map = ops.cast(hint_map, self.compute_dtype)
        return ops.concatenate([(L - L_CENT) / L_NORM, hint_map[..., :2] / AB_NORM, hint_map[..., 2:3] - MASK_CENT],
                               axis=-1)

    def compute_output_shape(self, shapes):
        return (*shapes[0][:-1], 4)


def build_siggraph17(input_shape=(None, None, 1), weights=None, name: str = "siggraph17") -> keras.Model:
    """The SIGGRAPH 2017 network: ``[L, hint map]`` -> ab / 110 (tanh) at the input's size.

    weights: None (random init), "official" (``weights/siggraph17.weights.h5``, made by
    ``colorpast weights fetch siggraph17``) or the path of a ``.weights.h5`` file.
    """
    L = keras.Input(shape=input_shape, name="L")
    hint_map = keras.Input(shape=(*input_shape[:-1], 3), name="hints")
    x = SiggraphInput(name="normalize")([L, hint_map])
    out = {}
    for b, (block, filters, n, dil) in enumerate(ENCODER):
        if b in (1, 2, 3):
            x = Subsample2(name=f"{block}_subsample")(x)
        for i in range(n):
            x = layers.Conv2D(filters, 3, padding="same", dilation_rate=dil, activation="relu",
                              name=f"{block}_{2 * i}")(x)
        x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{block}_{2 * n}")(x)
        out[block] = x
    for up, short, source, block, filters, n in DECODER:
        x = layers.Add(name=f"{block}_sum")([
            layers.Conv2DTranspose(filters, 4, strides=2, padding="same", name=f"{up}_0")(x),
            layers.Conv2D(filters, 3, padding="same", name=f"{short}_0")(out[source]),
        ])
        x = layers.ReLU(name=f"{block}_relu")(x)
        for i in range(n):
            last = block == "model10" and i == n - 1
            x = layers.Conv2D(filters, 3, padding="same", name=f"{block}_{2 * i + 1}")(x)
            x = layers.LeakyReLU(0.2, name=f"{block}_leaky")(x) if last else layers.ReLU(name=f"{block}_{2 * i + 2}")(x)
        if block != "model10":
            x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{block}_{2 * n + 1}")(x)
    ab = layers.Conv2D(2, 1, activation="tanh", name="model_out_0", dtype="float32")(x)
    return load_weights(keras.Model([L, hint_map], ab, name=name), weights, OFFICIAL_WEIGHTS, "siggraph17")


register_regression(
    "siggraph17", build_siggraph17, scale=AB_NORM, default_size=256, hints=True,
    description="Zhang et al. 2017's user-guided network: L and colour hints -> ab; its published weights "
                "(colorpast weights fetch siggraph17) follow hints with nothing trained",
)
