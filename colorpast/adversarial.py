"""An adversarial loss for the models that regress ab: a critic asks "is this colour real?".

L1 on ab gives each pixel the median of the colours it could be: where an object could be
red, yellow or blue, that is a dull brown (benchmarks/RESULTS.md, issue 38). ChromaGAN
(Vitoria et al. 2020) and DeOldify add a critic that tells a photo's true colour from the
model's, given the same lightness, and train the model to fool it: a confident, plausible
colour then costs less than a safe average. ``train --adversarial W`` does that, in the
pix2pix way (Isola et al. 2017): a conditional PatchGAN critic on (L, ab) and the
generator's loss L1 + W x its non-saturating adversarial term (pix2pix: W = 0.01 with L1
on [-1, 1] colour, the scale of ``target_from_ab`` here).

Both players learn in the one train step Keras runs on every backend, from one loss and
one optimizer: the critic's kernels are used twice, once as variables (its own loss, on
the true colour and on the model's colour with the gradient to the model stopped) and
once frozen (``ops.stop_gradient``: the model's loss, with no gradient to the critic).
So the critic learns only to tell, the model only to fool, and a checkpoint of the
training wrapper holds the critic, so a resumed run resumes the game where it was.

The critic is small and sees the target's grid (effunet's is a quarter of the crop's
side: 56 x 56 at 224), 4 x 4 convolutions of stride 2, 2, 1, 1 with leaky ReLU and no
normalization (a batch's statistics would mix real and generated colour). Its kernels are
stored scaled by 1 / ``LR_SHARE`` and used times ``LR_SHARE``: under Adam its effective
learning rate is then ``LR_SHARE`` of the model's (pix2pix trains both at 2e-4; the
model's default here is 1e-3).
"""

from __future__ import annotations

import keras
from keras import ops

WIDTHS = (64, 128, 256, 1)
STRIDES = (2, 2, 1, 1)
LR_SHARE = 0.2  # the critic's learning rate as a share of the model's
INIT_STD = 0.02  # pix2pix's initialization, of the kernels as used


def check(model_name: str) -> None:
    """One line for a model the critic cannot judge: one that classifies ab into 313 bins
    (its output is a distribution, not a colour the critic could compare with the truth's)."""
    from colorpast import models
    from colorpast.errors import UserError

    if models.spec(model_name).make_loss is not None:
        raise UserError(f"--adversarial is for models that regress ab; {model_name} classifies it into 313 bins")


@keras.saving.register_keras_serializable(package="colorpast")
class PatchCritic(keras.layers.Layer):
    """``N x h x w x 3`` (L scaled to about [0, 1], then the colour target) -> ``N x h' x w' x 1``
    logits, one per patch: real (high) or generated (low). ``frozen=True`` stops its
    gradient to the critic's own weights (the generator's term)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("dtype", "float32")  # small; float32 whatever the global policy
        super().__init__(**kwargs)
        self.kernels, self.biases = [], []

    def build(self, input_shape):
        channels = int(input_shape[-1])
        init = keras.initializers.RandomNormal(0.0, INIT_STD / LR_SHARE)
        for i, width in enumerate(WIDTHS):
            self.kernels.append(self.add_weight(shape=(4, 4, channels, width), initializer=init, name=f"kernel_{i}"))
            self.biases.append(self.add_weight(shape=(width,), initializer="zeros", name=f"bias_{i}"))
            channels = width
        self.built = True

    def call(self, x, frozen=False):
        x = ops.cast(x, "float32")
        for i, (k, b) in enumerate(zip(self.kernels, self.biases)):
            k, b = k * LR_SHARE, b * LR_SHARE
            if frozen:
                k, b = ops.stop_gradient(k), ops.stop_gradient(b)
            x = ops.conv(x, k, strides=STRIDES[i], padding="same") + b
            if i < len(WIDTHS) - 1:
                x = ops.leaky_relu(x, 0.2)
        return x


def condition(L, target):
    """The critic's input: L (Lab units, ``N x H x W x 1``) pooled to the target's grid and
    scaled to about [0, 1], beside the colour target (``N x h x w x 2``)."""
    L = ops.cast(L, "float32") / 100.0
    factor = int(L.shape[1]) // int(target.shape[1]) if L.shape[1] and target.shape[1] else 1
    if factor > 1:
        L = ops.average_pool(L, factor, factor, "valid")
    return ops.concatenate([L, ops.cast(target, "float32")], axis=-1)


def terms(critic, L, real, fake):
    """``(critic_loss, generator_loss)`` of one batch: the critic's binary cross-entropy on
    the true colour (real) and the model's (fake, its gradient to the model stopped), and
    the model's non-saturating loss (fake through the frozen critic)."""
    z_real = critic(condition(L, real))
    z_fake = critic(condition(L, ops.stop_gradient(fake)))
    z_fool = critic(condition(L, fake), frozen=True)
    critic_loss = ops.mean(ops.softplus(-z_real)) + ops.mean(ops.softplus(z_fake))
    generator_loss = ops.mean(ops.softplus(-z_fool))
    return critic_loss, generator_loss
