"""seed16_cls: the seed paper's network with Colorful's classification head.

The same backbone as ``seed16`` (its 12 Conv2D 3x3 layers and 2 UpSampling2D, built
from ``seed16._ARCH``), but instead of seed16's ``ab`` tanh convolution and last
upsampling, a 1x1 convolution to the 313 ab bins of Zhang et al. 2016, trained and
decoded exactly as ``colorful`` is: soft-encoded cross-entropy with class rebalancing
from ``colorpast prior`` (``colorful.make_loss``) and annealed-mean decoding at
temperature 0.38 (``bins.annealed_mean``). MSE on ab averages the plausible colours of
an object into a dull brown; a distribution over bins with rebalancing and the
annealed mean keeps vivid ones. ``seed16`` stays the seed paper's model unchanged.

Input: L in Lab units (0..100), ``N x H x W x 1``, H and W divisible by 8, unscaled as
seed16 takes it.
Output: **logits** ``N x H/2 x W/2 x 313`` (the backbone ends at half resolution,
where seed16 predicts ab before its last upsampling).
Training: ``target_from_ab`` averages ab over 2x2 cells (``N x H/2 x W/2 x 2``, Lab
units), the loss soft-encodes it. Decoding (``to_ab``): annealed mean, then bilinear
x2 upsampling (half-pixel centres) to the input size.
"""

from __future__ import annotations

import keras
from keras import layers

# Named as modules, not `from colorpast.models import ...`: the package imports this module.
import colorpast.models.bins as bins
import colorpast.models.colorful as colorful
from colorpast.models.registry import ModelSpec, cell_mean, register, upsample
from colorpast.models.seed16 import backbone

FACTOR = 2  # the backbone's output is at 1/2 of the input's resolution


def build_seed16_cls(input_shape=(None, None, 1), name: str = "seed16_cls") -> keras.Model:
    """``N x H x W x 1`` L (Lab units) -> ``N x H/2 x W/2 x 313`` logits."""
    inputs = keras.Input(shape=input_shape, name="L")
    x = backbone(inputs)
    outputs = layers.Conv2D(bins.Q, 1, name="ab_313", dtype="float32")(x)  # float32 logits under mixed precision
    return keras.Model(inputs, outputs, name=name)


def annealed_to_ab(logits, factor: int, temperature: float | None = None):
    """``N x h x w x 313`` logits -> ``N x factor h x factor w x 2`` ab in Lab units (annealed
    mean, then bilinear upsampling): the decoding of every 313-bin head at a fraction of the size.

    temperature: None for colorful's default (0.38); 1 is the distribution's mean.
    """
    t = colorful.DEFAULT_TEMPERATURE if temperature is None else float(temperature)
    # Decoding is linear in the distribution, so upsampling ab equals upsampling it.
    return upsample(bins.annealed_mean(logits, t), factor)


def seed16_cls_to_ab(logits, temperature: float | None = None):
    """``N x h x w x 313`` logits -> ``N x 2h x 2w x 2`` ab in Lab units (annealed mean)."""
    return annealed_to_ab(logits, FACTOR, temperature)


def target_from_ab(ab):
    """``N x H x W x 2`` ab (Lab units) -> ``N x H/2 x W/2 x 2``: the mean of each 2x2 cell."""
    return cell_mean(ab, FACTOR)


register(
    ModelSpec(
        name="seed16_cls",
        builder=build_seed16_cls,
        to_ab=seed16_cls_to_ab,
        target_from_ab=target_from_ab,
        multiple=8,
        default_size=224,
        description="seed16's backbone with Colorful's 313-bin head: rebalanced cross-entropy, annealed mean",
        make_loss=colorful.make_loss,
    )
)
