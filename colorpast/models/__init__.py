"""Model registry: ``build(name, ...)`` and the one interface every model shares.

Every model takes the L channel (``N x H x W x 1``, Lab units, 0..100) and its output
is turned into ab in Lab units by :func:`predict_ab`, so training, evaluation and
colorize treat all models alike. Each model's module documents its own output scaling
and registers a :class:`ModelSpec` in ``colorpast.models.registry``, whose names
(``ModelSpec``, ``register``, ``names``, ``spec``, ``check_size``) are re-exported here.
"""

from __future__ import annotations

import keras
import numpy as np

from colorpast.errors import UserError
from colorpast.models.registry import ModelSpec, check_size, names, register, spec  # noqa: F401 (re-exported)


def build(name: str, input_shape=(None, None, 1), **kwargs):
    """Build a registered model. ``input_shape`` is ``(H, W, 1)``, the L input's (a model
    that takes hints gets a hint-map input of the same size too); None allows any size."""
    s = spec(name)
    if len(input_shape) != 3 or input_shape[-1] != 1:
        raise ValueError(f"{name} takes the L channel alone: input_shape must be (H, W, 1), got {input_shape}")
    check_size(name, input_shape[0], input_shape[1])
    return s.builder(tuple(input_shape), **kwargs)


REGRESSION_LOSSES = ("mse", "l1", "huber")
MIXED = "mixed"  # the 313-bin models: rebalanced cross-entropy plus L1 on the decoded colour


def loss(name: str, prior_path=None, kind: str = "", rebalance: float = 0.5):
    """The loss of a registered model, comparing its target (``target_from_ab``) with its output.

    A model that classifies ab (its spec has ``make_loss``) gets its own, rebalanced with
    lambda ``rebalance``. A model that regresses ab gets ``kind``: mean squared error
    (the default, ""), mean absolute error ("l1"), or Huber ("huber") with its
    quadratic zone one Lab unit wide (as richzhang/colorization-pytorch's regression).
    ``kind="mixed"`` gives a 313-bin model L1 on its decoded colour besides its own loss
    (``colorful.MixedLoss``).
    """
    s = spec(name)
    if s.make_loss is not None:
        if kind not in ("", MIXED):
            raise UserError(f"loss {kind!r} is for models that regress ab; {name} classifies it into 313 bins "
                            "(leave --loss out, or give --loss '' over a preset that sets it, as fast does; "
                            f"--loss {MIXED} adds L1 on the decoded colour)")
        return s.make_loss(prior_path, mix=rebalance, mixed=kind == MIXED)
    if kind == MIXED:
        raise UserError(f"loss {MIXED!r} is for the 313-bin models (effunet_cls, seed16_cls, colorful); "
                        f"{name} regresses ab: choose {', '.join(REGRESSION_LOSSES)}")
    if kind in ("", "mse"):
        return keras.losses.MeanSquaredError()
    if kind == "l1":
        return keras.losses.MeanAbsoluteError()
    if kind == "huber":
        # One Lab unit in the target's units (ab / 128 for seed16: 1 / 128).
        one = s.target_from_ab(np.ones((1, s.multiple, s.multiple, 2), np.float32))
        return keras.losses.Huber(delta=float(np.mean(keras.ops.convert_to_numpy(one))))
    raise UserError(f"unknown loss {kind!r}; choose one of: {', '.join(REGRESSION_LOSSES)}")


def with_decode(model, **options):
    """``model``, which from now on decodes with ``options`` (``temperature=0.2``) unless a
    caller gives others: a 313-bin run's chosen temperature (``colorpast.tune``) goes
    with its model wherever it is loaded. No options (or only None): the model as it is."""
    options = {k: v for k, v in options.items() if v is not None}
    if options:
        model.colorpast_decode = dict(options)
    return model


def inputs(model, L, hints=None):
    """What ``model`` takes for ``N x H x W x 1`` L: L alone, or ``[L, hint maps]`` for a
    model that takes hints (empty maps when ``hints`` is None). A model without hint
    inputs given hints raises UserError."""
    L = np.asarray(L, np.float32)
    if spec(model).hints:
        return [L, np.zeros((*L.shape[:3], 3), np.float32) if hints is None else np.asarray(hints, np.float32)]
    if hints is not None:
        raise UserError(f"{model.name} takes no colour hints; train a model that does (seed16_hints)")
    return L


def predict_ab(model, L, batch_size: int = 8, hints=None, **decode) -> np.ndarray:
    """Run ``model`` on ``N x H x W x 1`` L (Lab units) and return ``N x H x W x 2`` ab in Lab units.

    hints: ``N x H x W x 3`` hint maps (``colorpast.hints``) for a model that takes them;
        None gives such a model empty maps (automatic colorization). A model without
        hint inputs given hints raises UserError.
    ``decode``: options of the model's ``to_ab``, e.g. ``temperature=0.2`` for colorful;
    where not given, the model's own (:func:`with_decode`).
    """
    s = spec(model)
    decode = {**dict(getattr(model, "colorpast_decode", None) or {}), **decode}
    L = np.asarray(L, np.float32)
    x = inputs(model, L, hints)
    # One batch (a photo, a film's frame) goes through predict_on_batch: the same numbers
    # without predict()'s set-up, 130 ms a call on the 2-core CPU (effunet at 224 x 384:
    # 163 ms a frame through predict, 33 ms through predict_on_batch).
    out = model.predict_on_batch(x) if len(L) <= batch_size else model.predict(x, batch_size=batch_size, verbose=0)
    return np.asarray(s.to_ab(out, **decode), np.float32)


# Registered models: importing a module registers it.
from colorpast.models import (  # noqa: E402,F401
    colorful, effunet, koalarization, seed16, seed16_bn, seed16_cls, seed16_hints, siggraph17,
)
