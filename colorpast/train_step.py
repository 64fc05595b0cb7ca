"""The device side of training: augmentation, RGB -> Lab, L -> model, ab -> target, loss.

The loader (``colorpast.data.loader``) hands over uint8 RGB crops and one transform per
crop. Everything else happens here, inside the compiled train step, so it runs on the
GPU when there is one: a 2-core host gathers crops far faster than any GPU trains, but
it could not also augment and convert to Lab fast enough (the old tf.data pipeline did
that on the CPU at 866 img/s; an H200 trains seed16 at 8,329 img/s).

``Colorizer`` wraps a registered model (``colorpast.models.build``). It takes
``{"rgb": N x H x W x 3 uint8, "transform": N x 8 float32}`` (plus ``"hints": N x K x 4``
patches for a model that takes hints, and ``"age": N x P`` print parameters when
training on aged crops; the loader draws both) and returns the model's raw output and
the ab (Lab units) it is compared with; its ``compute_loss`` turns that ab into the
model's own target (``ModelSpec.target_from_ab``) and applies the model's loss.

Ageing (``colorpast.ageing``) changes only what the model sees: it gets the L of the
aged print, and is asked for the clean photo's ab. Hints (``colorpast.hints``) are
simulated from the clean ab of the augmented crop.
The data stage never learns what a model wants. Written in ``keras.ops``: the same step
runs on TensorFlow, JAX and PyTorch.
"""

from __future__ import annotations

import keras
from keras import ops

from colorpast import adversarial as adversarial_loss, ageing, color, hints, models


def affine_transform(images, transforms):
    """Resample ``N x H x W x C`` float images through one transform each, bilinearly,
    pixels beyond the edge taking the nearest edge value.

    ``transforms``: ``N x 8`` as ``keras.ops.image.affine_transform`` takes them (output
    pixel (x, y) samples the input at ``(a0 x + a1 y + a2, b0 x + b1 y + b2) / (c0 x + c1 y + 1)``).
    The same maths as that op with ``fill_mode="nearest"``, written with gathers so that
    every backend compiles it: TensorFlow's kernel for it has no XLA version, and XLA is
    how training runs on accelerators.
    """
    n, h, w, c = (ops.shape(images)[i] for i in range(4))
    ys, xs = ops.meshgrid(ops.arange(h, dtype="float32"), ops.arange(w, dtype="float32"), indexing="ij")  # H x W
    t = [transforms[:, i, None, None] for i in range(8)]  # each N x 1 x 1
    k = t[6] * xs + t[7] * ys + 1.0
    # Clamping the sample point to the image is exactly "nearest" filling for bilinear sampling.
    sx = ops.clip((t[0] * xs + t[1] * ys + t[2]) / k, 0.0, ops.cast(w - 1, "float32"))  # N x H x W
    sy = ops.clip((t[3] * xs + t[4] * ys + t[5]) / k, 0.0, ops.cast(h - 1, "float32"))
    x0, y0 = ops.floor(sx), ops.floor(sy)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    x0, y0 = ops.cast(x0, "int32"), ops.cast(y0, "int32")
    x1, y1 = ops.minimum(x0 + 1, w - 1), ops.minimum(y0 + 1, h - 1)
    flat = ops.reshape(images, (-1, c))  # (N H W) x C
    base = (ops.arange(n, dtype="int32") * (h * w))[:, None, None]

    def at(y, x):
        return ops.take(flat, base + y * w + x, axis=0)  # N x H x W x C

    top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx
    bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx
    return top * (1.0 - fy) + bottom * fy


@keras.saving.register_keras_serializable(package="colorpast")
class Colorizer(keras.Model):
    """``net`` (L in Lab units -> raw output) with the preprocessing and loss of training."""

    def __init__(self, net, prior=None, loss: str = "", rebalance: float = 0.5, adversarial: float = 0.0, **kwargs):
        # float32 whatever the global policy: the transforms are pixel coordinates, and
        # Lab needs float32 (bfloat16 would round L to about 0.4). The wrapped net keeps
        # its own (mixed) policy.
        kwargs.setdefault("dtype", "float32")
        super().__init__(name=f"{net.name}_trainer", **kwargs)
        self.net = net
        self.spec = models.spec(net)
        self.loss_fn = models.loss(net.name, prior or None, kind=loss, rebalance=rebalance)  # of (target, output)
        # colorpast.adversarial: a critic of (L, colour) and the weight of its term.
        self.adversarial = float(adversarial)
        self.critic = None
        if self.adversarial > 0:
            adversarial_loss.check(net.name)
            self.critic = adversarial_loss.PatchCritic(name="critic")
            self.critic.build((None, None, None, 3))
        self.built = True  # its variables are the net's, which exist already, and the critic's, built above

    def call(self, inputs, training=False):
        rgb = ops.cast(inputs["rgb"], "float32") / 255.0  # N x H x W x 3, [0, 1]
        rgb = affine_transform(rgb, inputs["transform"])
        lab = color.rgb_to_lab(rgb)  # N x H x W x 3, Lab units
        L, ab = color.split_lab(lab)
        if "age" in inputs:  # the model sees the old print; the target stays the photo's colour
            L = color.rgb_to_L(ageing.apply(rgb, inputs["age"]))
        if self.spec.hints:
            x = [L, hints.simulate(ab, inputs["hints"])]  # N x H x W x 3 hint map from the true ab
        else:
            x = L
        return {"output": self.net(x, training=training), "ab": ab, "L": L}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        target = self.spec.target_from_ab(y_pred["ab"])
        loss = self.loss_fn(target, y_pred["output"])
        if self.critic is not None and training:  # validation scores the colour alone
            critic_loss, fool_loss = adversarial_loss.terms(self.critic, y_pred["L"], target, y_pred["output"])
            loss = loss + self.adversarial * (critic_loss + fool_loss)
        if self.losses:
            loss = loss + ops.sum(self.losses)
        return loss
