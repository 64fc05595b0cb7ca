"""effunet: colorizers that recognise what they see, a U-Net on ImageNet-trained EfficientNet-Lite.

Every model of this family is a U-Net (as DeOldify's, on a smaller encoder): the gray
photo goes through EfficientNet-Lite0 or -Lite2 (``colorpast.models.efficientnet_lite``) with its
ImageNet weights, and a decoder climbs back from its stride-32 head to stride 4, taking
the encoder's features at strides 16, 8 and 4 on the way (skip connections). The
encoder knows sky, grass, skin and fur from 1.3 million labelled photos; the decoder
learns which colours they have.

- ``effunet``: a regression head, ab / 128 (tanh) at a quarter of the input's size;
  trained with L1 on ab (``recommended``'s loss) by the recipes, MSE unless told.
- ``effunet_cls``: Zhang et al. 2016's 313-bin classification head at a quarter size, trained
  and decoded as ``colorful`` and ``seed16_cls`` are (rebalanced cross-entropy from
  ``colorpast prior``, annealed mean at 0.38).
- ``effunet_hints``: ``effunet`` that also takes colour hints (``colorpast.hints``, as
  ``seed16_hints``): the hint map and its spread (``seed16_hints.HintSpread``) are added to
  the encoder's stem through a 1x1 convolution that starts at zero (so the pretrained
  features are unchanged until training finds a use for the hints) and join the decoder
  at stride 4, a short path from a hint to its colour.
- ``effunet_lite2``, ``effunet_lite2_cls``, ``effunet_lite2_hints``: the same three on
  EfficientNet-Lite2 (1.1 times as wide, 1.2 times as deep, 6.2 M parameters against
  4.7 M; 88.3 % top-1 on the shared ImageNet sample against Lite0's 87.4 %), the same
  decoder. Its skips are the stages' outputs at strides 16, 8 and 4 as Lite0's: 120, 48
  and 24 channels (Lite0: 112, 40, 24).

Input: L in Lab units (0..100), ``N x H x W x 1``, H and W divisible by 32 (the encoder
halves the size five times); trained and run at 224 px (``WORKING_SIZE``; colorize runs
it at a shorter side of 224 and puts the ab on the photo's own full-resolution L). 224
is Lite0's own size. Lite2 was trained at 260, no multiple of 32; its family works at 224
too: the prepared sets are 224 px photos, so a 224 crop is the whole photo, and colorize
at 224 shows a photo's objects at the scale training saw them. Lite2 loses little there
(the shared ImageNet sample, whole photos at 224 px: 87.3 % top-1, against 88.3 % by its
own 260 px protocol and Lite0's 86.5 % at 224; benchmarks/RESULTS.md, "EfficientNet-Lite2"),
and 256 (89.1 %) would need sets prepared at 256 and 1.3 times the pixels a crop.
The model turns L into what the encoder was trained on: the gray photo's sRGB (the colour
of L with a = b = 0, in all three channels), as ``(x - 127) / 128`` on 0..255.
Output: ``N x H/4 x W/4 x 2`` ab / 128 (``effunet``, ``effunet_hints`` and their Lite2
twins) or ``N x H/4 x W/4 x 313`` logits (``effunet_cls``, ``effunet_lite2_cls``);
``to_ab`` upsamples to the input's size (bilinear), and the target is the true ab's mean
over each 4 x 4 cell.

The encoder's training mode (``encoder=``, ``ENCODER_MODES``): ``frozen`` (none of it
trains; the default), ``frozen_bn`` (its weights train, its batch normalization keeps
ImageNet's statistics and scales, as DeOldify does at first), ``train`` (all of it,
batch statistics included). ``colorpast train --encoder`` chooses, and ``--encoder-lr`` scales its learning
rate (``colorpast.train``); which wins is measured in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import keras
from keras import layers

# Named as modules, not `from colorpast.models import ...`: the package imports this module.
import colorpast.models.bins as bins
import colorpast.models.colorful as colorful
import colorpast.models.efficientnet_lite as lite
import colorpast.models.seed16_cls as seed16_cls
from colorpast.color import AB_NORM, AB_SCALE_SEED, lab_to_rgb
from colorpast.models.registry import ModelSpec, cell_mean, register, upsample
from colorpast.models.seed16_hints import HintSpread

FACTOR = 4  # the heads predict at a quarter of the input's size
MULTIPLE = 32  # the encoder's total stride
ENCODER_MODES = ("train", "frozen_bn", "frozen")
DEFAULT_ENCODER = "frozen"  # measured: benchmarks/RESULTS.md, "Recognition: effunet"
# (stride, filters, separable): the decoder, from the head at stride 32 up to stride 4.
# Full 3x3 convolutions where the maps are small and the meaning is decided (16, 8), a
# depthwise-separable one at stride 4, where a full one would cost more than the encoder.
# It stops at stride 4, as Colorful's head does: a first version went on to stride 2 with
# the encoder's first block as a skip, and painted every textured region (gravel, grass,
# carved wood) with speckles of all colours (benchmarks/RESULTS.md). Colour varies slowly;
# the photo's own L carries the detail.
DECODER = ((16, 192, False), (8, 128, False), (4, 64, True))
BOTTLENECK = 256  # the head's 1,280 channels reduced by a 1x1 convolution first
# The size each family trains and runs at (the shorter side colorize gives it), by encoder.
WORKING_SIZE = {"lite0": 224, "lite2": 224}


@keras.saving.register_keras_serializable(package="colorpast")
class GrayForEncoder(layers.Layer):
    """``N x H x W x 1`` L (Lab units) -> ``N x H x W x 3``: the gray photo's sRGB as the
    encoder takes it, ``(255 rgb - 127) / 128`` in every channel."""

    def call(self, L):
        gray = lab_to_rgb(keras.ops.concatenate([L, keras.ops.zeros_like(L), keras.ops.zeros_like(L)], axis=-1))
        x = (gray[..., :1] * 255.0 - lite.INPUT_MEAN) / lite.INPUT_STD
        return keras.ops.concatenate([x, x, x], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 3)


@keras.saving.register_keras_serializable(package="colorpast")
class Upsample2x(layers.Layer):
    """``N x H x W x C`` -> ``N x 2H x 2W x C``, bilinear with half-pixel centres and the
    edges held (what ``ops.image.resize`` does), on maps of any size: nearest-neighbour
    doubling, then a [1, 2, 1] / 4 blur along each axis. Keras's bilinear UpSampling2D
    fails on TensorFlow once a model has seen two photo shapes (its traced function
    then has unknown sizes, and its resize needs known ones)."""

    def call(self, x):
        for axis in (1, 2):
            x = keras.ops.repeat(x, 2, axis=axis)
            first = x[:, :1] if axis == 1 else x[:, :, :1]
            last = x[:, -1:] if axis == 1 else x[:, :, -1:]
            p = keras.ops.concatenate([first, x, last], axis=axis)
            lo, mid, hi = ((p[:, :-2], p[:, 1:-1], p[:, 2:]) if axis == 1 else (p[:, :, :-2], p[:, :, 1:-1], p[:, :, 2:]))
            x = 0.25 * lo + 0.5 * mid + 0.25 * hi
        return x

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, None if h is None else 2 * h, None if w is None else 2 * w, c)


def _conv(x, filters, separable: bool, name: str):
    conv = layers.SeparableConv2D if separable else layers.Conv2D
    x = conv(filters, 3, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def set_encoder_mode(model: keras.Model, mode: str) -> keras.Model:
    """Freeze the encoder (``frozen``), its batch normalization (``frozen_bn``), or nothing
    (``train``); Keras runs a frozen BatchNormalization in inference mode."""
    if mode not in ENCODER_MODES:
        raise ValueError(f"encoder mode must be one of {', '.join(ENCODER_MODES)}; got {mode!r}")
    for layer in model.layers:
        if layer.name.startswith(lite.ENC):
            layer.trainable = mode == "train" or (mode == "frozen_bn" and not isinstance(layer, layers.BatchNormalization))
    return model


def build(input_shape=(None, None, 1), name: str = "effunet", head: str = "ab", hints: bool = False,
          weights: str | None = "imagenet", encoder: str = DEFAULT_ENCODER, backbone: str = "lite0") -> keras.Model:
    """``N x H x W x 1`` L (and ``N x H x W x 3`` hint map if ``hints``) -> the head's output.

    head: "ab" (``N x H/4 x W/4 x 2`` ab / 128, tanh) or "313" (logits).
    weights: "imagenet" (the encoder's, from the installed package) or None (random).
    encoder: its training mode, one of ``ENCODER_MODES``.
    backbone: the EfficientNet-Lite under it, ``lite0`` or ``lite2`` (``efficientnet_lite.VARIANTS``).
    """
    L = keras.Input(shape=input_shape, name="L")
    inputs, stem_extra, near = [L], None, {}
    if hints:
        hint_map = keras.Input(shape=(*input_shape[:2], 3), name="hints")
        inputs.append(hint_map)
        guide = layers.Concatenate(name="hint_guide")([HintSpread(name="hint_spread")(hint_map),
                                                       layers.Rescaling(1.0 / AB_NORM, name="hint_scale")(hint_map)])
        half = layers.AveragePooling2D(2, name="hints_2")(guide)  # N x H/2 x W/2 x 12
        near[4] = layers.AveragePooling2D(2, name="hints_4")(half)
        stem_extra = layers.Conv2D(lite.STEM, 1, use_bias=False, kernel_initializer="zeros", name="hints_to_stem")(half)
    feats = lite.encoder(GrayForEncoder(name="gray_for_encoder")(L), stem_extra, variant=backbone)
    y = layers.Conv2D(BOTTLENECK, 1, use_bias=False, name="dec32")(feats[32])
    y = layers.Activation("relu", name="dec32_relu")(layers.BatchNormalization(name="dec32_bn")(y))
    for stride, filters, separable in DECODER:
        y = Upsample2x(name=f"up{stride}")(y)
        y = layers.Concatenate(name=f"skip{stride}")([y, feats[stride], *([near[stride]] if stride in near else [])])
        y = _conv(y, filters, separable, f"dec{stride}")
    # float32 heads under mixed precision, as seed16's. Both start at zero: gray (ab = 0)
    # or a uniform distribution over the bins. With Keras's default initialisation the
    # pretrained features drove the tanh into saturation at +-128, every cell a random
    # vivid colour, from where L1's gradients through the saturated tanh barely move
    # it: after 4,000 images the frozen-encoder model still painted textures in speckles
    # of every colour and scored worse than gray (benchmarks/RESULTS.md).
    if head == "ab":
        outputs = layers.Conv2D(2, 3, padding="same", activation="tanh", kernel_initializer="zeros", name="ab",
                                dtype="float32")(y)
    elif head == "313":
        outputs = layers.Conv2D(bins.Q, 1, kernel_initializer="zeros", name="ab_313", dtype="float32")(y)
    else:
        raise ValueError(f"head must be 'ab' or '313'; got {head!r}")
    model = keras.Model(inputs if hints else L, outputs, name=name)
    if weights == "imagenet":
        lite.load_imagenet(model, variant=backbone)
    elif weights is not None:
        raise ValueError(f"weights must be 'imagenet' or None; got {weights!r}")
    return set_encoder_mode(model, encoder)


def cls_to_ab(logits, temperature: float | None = None):
    """``N x h x w x 313`` logits -> ``N x 4h x 4w x 2`` ab in Lab units (annealed mean, 0.38 unless given)."""
    return seed16_cls.annealed_to_ab(logits, FACTOR, temperature)


def _register(name: str, description: str, head: str = "ab", hints: bool = False, backbone: str = "lite0"):
    cls = head == "313"
    register(ModelSpec(
        name=name,
        builder=lambda input_shape=(None, None, 1), **kw: build(input_shape, name, head=head, hints=hints,
                                                               backbone=backbone, **kw),
        to_ab=cls_to_ab if cls else (lambda y: upsample(keras.ops.convert_to_tensor(y) * AB_SCALE_SEED, FACTOR)),
        target_from_ab=(lambda ab: cell_mean(ab, FACTOR)) if cls else (lambda ab: cell_mean(ab, FACTOR) / AB_SCALE_SEED),
        multiple=MULTIPLE, default_size=WORKING_SIZE[backbone], description=description,
        make_loss=colorful.make_loss if cls else None, hints=hints, encoder=True,
    ))


_register("effunet", "U-Net on ImageNet-trained EfficientNet-Lite0 (recognises what it colours), ab/128 at 1/4 size")
_register("effunet_cls", "effunet with Colorful's 313-bin head: rebalanced cross-entropy, annealed mean", head="313")
_register("effunet_hints", "effunet that also takes colour hints (L + ab hint map + mask)", hints=True)
_register("effunet_hints_cls", "effunet_hints with the 313-bin head (cross-entropy, annealed mean)", head="313",
          hints=True)
_register("effunet_lite2", "effunet on the larger EfficientNet-Lite2 (1.1x wide, 1.2x deep), ab/128 at 1/4 size",
          backbone="lite2")
_register("effunet_lite2_cls", "effunet_lite2 with Colorful's 313-bin head", head="313", backbone="lite2")
_register("effunet_lite2_hints", "effunet_lite2 that also takes colour hints (L + ab hint map + mask)", hints=True,
          backbone="lite2")
