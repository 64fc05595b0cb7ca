"""Model registry: ``build(name, ...)`` and the one interface every model shares.

Every model takes the L channel (``N x H x W x 1``, Lab units, 0..100) and its output
is turned into ab in Lab units by :func:`predict_ab`, so training, evaluation and
colorize treat all models alike. Each model's module documents its own output scaling
and registers a :class:`ModelSpec`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import keras
import numpy as np


@dataclass(frozen=True)
class ModelSpec:
    """What the rest of the package needs to know about a model family.

    builder: ``builder(input_shape, **kwargs) -> keras.Model`` taking L (Lab units).
    to_ab: maps the model's raw output tensor to ab in Lab units (``N x h x w x 2``).
    target_from_ab: maps ab in Lab units to the training target the loss compares with.
    multiple: H and W must be multiples of this.
    default_size: the square size the model is trained and run at by default.
    make_loss: ``make_loss(prior_path_or_None) -> keras loss`` of (target, output);
        None means mean squared error on ``target_from_ab``'s target.
    """

    name: str
    builder: Callable
    to_ab: Callable
    target_from_ab: Callable
    multiple: int
    default_size: int
    description: str
    make_loss: Callable | None = None


_REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    _REGISTRY[spec.name] = spec
    return spec


def names() -> list[str]:
    """Names accepted by :func:`build`."""
    return sorted(_REGISTRY)


def spec(name_or_model) -> ModelSpec:
    """The :class:`ModelSpec` of a registered name, or of a model built by :func:`build`."""
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


def build(name: str, input_shape=(None, None, 1), **kwargs):
    """Build a registered model. ``input_shape`` is ``(H, W, 1)``; None allows any size."""
    s = spec(name)
    if len(input_shape) != 3 or input_shape[-1] != 1:
        raise ValueError(f"{name} takes the L channel alone: input_shape must be (H, W, 1), got {input_shape}")
    check_size(name, input_shape[0], input_shape[1])
    return s.builder(tuple(input_shape), **kwargs)


def loss(name: str, prior_path=None):
    """The loss of a registered model, comparing its target (``target_from_ab``) with its
    output: mean squared error unless its spec has ``make_loss``."""
    s = spec(name)
    return keras.losses.MeanSquaredError() if s.make_loss is None else s.make_loss(prior_path)


def predict_ab(model, L, batch_size: int = 8, **decode) -> np.ndarray:
    """Run ``model`` on ``N x H x W x 1`` L (Lab units) and return ``N x H x W x 2`` ab in Lab units.

    ``decode``: options of the model's ``to_ab``, e.g. ``temperature=0.2`` for colorful.
    """
    s = spec(model)
    out = model.predict(np.asarray(L, np.float32), batch_size=batch_size, verbose=0)
    return np.asarray(s.to_ab(out, **decode), np.float32)


# Registered models: importing a module registers it.
from colorpast.models import colorful, koalarization, seed16, seed16_cls  # noqa: E402,F401
