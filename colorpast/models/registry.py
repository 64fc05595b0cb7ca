"""The model registry itself: :class:`ModelSpec`, ``register`` and the lookups by name.

A model's module registers its :class:`ModelSpec` here when imported; ``colorpast.models``
imports every model's module and re-exports these names, so callers use
``colorpast.models.spec`` etc. The model modules import from here, not from
``colorpast.models``, so that the package and its models do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import keras

from colorpast.color import AB_SCALE_SEED


@dataclass(frozen=True)
class ModelSpec:
    """What the rest of the package needs to know about a model family.

    builder: ``builder(input_shape, **kwargs) -> keras.Model`` taking L (Lab units).
    to_ab: maps the model's raw output tensor to ab in Lab units (``N x h x w x 2``).
    target_from_ab: maps ab in Lab units to the training target the loss compares with.
    multiple: H and W must be multiples of this.
    default_size: the square size the model is trained and run at by default.
    make_loss: ``make_loss(prior_path_or_None, mix) -> keras loss`` of (target, output)
        for a model that classifies ab (``mix``: the class-rebalancing lambda); None for
        a model that regresses ab, whose loss is mean squared error on ``target_from_ab``'s
        target unless training asks for L1 or Huber.
    hints: the model takes colour hints besides L (``colorpast.hints``): its input is
        ``[L, hint map]``, the map ``N x H x W x 3`` (a, b in Lab units, mask).
    encoder: the model has an ImageNet-trained encoder, which ``builder`` takes an
        ``encoder=`` mode for (``colorpast.models.effunet.ENCODER_MODES``) and whose
        layers' names start with ``enc_`` (training may give them their own learning rate).
    """

    name: str
    builder: Callable
    to_ab: Callable
    target_from_ab: Callable
    multiple: int
    default_size: int
    description: str
    make_loss: Callable | None = None
    hints: bool = False
    encoder: bool = False


_REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    _REGISTRY[spec.name] = spec
    return spec


def register_regression(name: str, builder: Callable, description: str, scale: float = AB_SCALE_SEED,
                        multiple: int = 8, default_size: int = 224, **more) -> ModelSpec:
    """Register a model whose output is ab / ``scale`` at the input's size (tanh: the
    seed's ab / 128, or ab / 110), regressed with mean squared error unless training
    asks for L1 or Huber: the one registration of seed16, seed16_bn, seed16_hints and
    koalarization. ``more``: other ModelSpec fields (``hints=True``)."""
    return register(ModelSpec(name=name, builder=builder, to_ab=lambda y: y * scale, target_from_ab=lambda ab: ab / scale,
                              multiple=multiple, default_size=default_size, description=description, **more))


def upsample(y, factor: int):
    """``N x h x w x C`` -> NumPy ``N x factor h x factor w x C``, bilinear (half-pixel
    centres): how a model that predicts at a fraction of the input's size decodes."""
    if factor == 1:
        return keras.ops.convert_to_numpy(y)
    h, w = y.shape[1], y.shape[2]
    return keras.ops.convert_to_numpy(keras.ops.image.resize(keras.ops.convert_to_tensor(y), (factor * h, factor * w),
                                                             interpolation="bilinear", antialias=False))


def cell_mean(ab, factor: int):
    """``N x H x W x 2`` ab -> ``N x H/factor x W/factor x 2``: the mean of each cell, the
    target of a model that predicts at 1/factor of the input's size."""
    return keras.ops.average_pool(keras.ops.cast(ab, "float32"), factor, factor, "valid")


def names() -> list[str]:
    """Names accepted by ``colorpast.models.build``."""
    return sorted(_REGISTRY)


def spec(name_or_model) -> ModelSpec:
    """The :class:`ModelSpec` of a registered name, or of a model built by ``colorpast.models.build``."""
    name = name_or_model if isinstance(name_or_model, str) else name_or_model.name
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(names())}") from None


def check_size(name: str, height, width) -> None:
    """Raise ValueError unless H and W fit the model's size rule (None means any)."""
    m = spec(name).multiple
    bad = [d for d in (height, width) if d is not None and (int(d) <= 0 or int(d) % m)]
    if bad:
        raise ValueError(
            f"{name} needs input height and width divisible by {m} "
            f"(it downsamples by {m} and upsamples back); got {height}x{width}"
        )
