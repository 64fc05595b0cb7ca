"""One configuration object for a training run, saved as ``config.json`` in the run folder.

Presets are data: a name and the fields it changes. Anything not set by a preset keeps
the dataclass default. The run folder's ``config.json`` is what a re-run resumes with.
Each field carries the help (and choices) of its ``colorpast train`` option, which
``colorpast.commands.train`` builds from the fields: a new field is a new option. It
carries its allowed values too (``choices``, ``at_least``, ``at_most``, ``above``), which
:meth:`TrainConfig.check` enforces for the command line and the notebooks alike, and
whether a resumed run may change it (``resumable``: how far, how often and on what it
trains, not what it learns).
"""

from __future__ import annotations

import json
import math
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from colorpast.errors import UserError, say
from colorpast.fsutil import write_text_atomic


def _option(default, help: str, **rules):
    """A field whose metadata holds its command-line help and, where it has them, its
    allowed values (``choices``; ``at_least``, ``at_most``, ``above`` for numbers),
    ``zero_means_none`` (the option's 0 is the field's None) and ``resumable`` (a resumed
    run may change it)."""
    return field(default=default, metadata={"help": help, **rules})


@dataclass(frozen=True)
class TrainConfig:
    # Empty for in-memory data (the demo).
    data: str = _option("", "prepared set folder (from colorpast prepare); may be left out when resuming --run")
    # A name from colorpast.models.names().
    model: str = _option("seed16", "model name (default: seed16, or the preset's: seed16_fast for fast); "
                                   "seed16_hints takes colour hints")
    # Square training crop in px; None = the prepared size (224).
    size: int | None = _option(None, "train on random square crops of this size (default: the prepared size)", at_least=1)
    # Global batch, split across devices by the strategy.
    batch_size: int = _option(16, "global batch size (lower it if the GPU runs out of memory)", at_least=1)
    epochs: int = _option(10, "epochs to train (more than a finished run's trains it further)", at_least=1, resumable=True)
    # An epoch is a checkpoint interval, not a data pass.
    steps_per_epoch: int = _option(100, "batches per epoch; each epoch ends with validation and a checkpoint", at_least=1)
    optimizer: str = _option("adam", "optimizer", choices=["adam", "rmsprop"])
    lr: float = _option(1e-3, "learning rate (the peak of the schedule)", above=0.0)
    # "cosine": linear warm-up over the first 5 % of the run's steps, then cosine decay to
    # 0 at its last step (epochs x steps per epoch; more --epochs on resume stretches it).
    schedule: str = _option("constant", "learning-rate schedule: constant, or cosine (5 %% warm-up, then cosine decay to 0)",
                            choices=["constant", "cosine"])
    # "": the model's own loss (MSE on ab for seed16, rebalanced cross-entropy for the
    # 313-bin models). mse, l1 and huber apply to the models that regress ab; mixed to the
    # 313-bin ones (their cross-entropy plus L1 on the colour they decode).
    loss: str = _option("", "loss on ab: mse, l1 or huber for models that regress it; mixed (rebalanced "
                            "cross-entropy plus L1 on the decoded colour) for the 313-bin models "
                            "(default: the model's own)",
                        choices=["", "mse", "l1", "huber", "mixed"])
    # Class rebalancing of the 313-bin models: weights (1 - lambda) * prior + lambda / Q, inverted.
    rebalance: float = _option(0.5, "class rebalancing lambda of the 313-bin models (0.5: the paper's; 1: none)",
                               at_least=0.0, at_most=1.0)
    # colorpast.adversarial: a PatchGAN critic of (L, colour); the weight of the model's
    # adversarial term beside its loss (pix2pix: 0.01 beside L1). 0: none.
    adversarial: float = _option(0.0, "weight of an adversarial loss beside the model's (a critic of its colour, "
                                      "as pix2pix and ChromaGAN; 0.01 is pix2pix's; models that regress ab; "
                                      "default 0: none)", at_least=0.0)
    # The seed's flip, rotation 20, zoom 0.2, shear 0.2 on training images.
    augment: bool = _option(True, "switch off flip, rotation, zoom and shear")
    # colorpast.ageing: fade, grain, blur, scratches, dust, tone, applied in the train step.
    age: float = _option(0.0, "share of training crops turned into old prints (faded, grainy, blurred, scratched) first",
                         at_least=0.0, at_most=1.0, unit="a share of the training crops")
    # Models on an ImageNet-trained encoder (effunet*): how it trains, and its learning rate
    # as a share of --lr. "": the model's default (effunet: frozen). "frozen_first": the
    # encoder's weights stand still for the first epoch (learning rate 0), then train with
    # --encoder-lr; its batch normalization keeps ImageNet's statistics throughout.
    encoder: str = _option("", "how the pretrained encoder trains (effunet models): frozen, frozen_bn (its weights "
                               "train, its batch norm stays fixed), train, or frozen_first (frozen for the first "
                               "epoch, then as frozen_bn); default: frozen",
                           choices=["", "train", "frozen_bn", "frozen", "frozen_first"])
    encoder_lr: float = _option(1.0, "the pretrained encoder's learning rate as a share of --lr (effunet models)",
                                at_least=0.0, at_most=1.0)
    # None = the whole val split (0 on the command line).
    val_batches: int | None = _option(20, "validation batches per epoch (0: the whole val split)", zero_means_none=True,
                                      at_least=0, resumable=True)
    # 0: only at epoch ends.
    save_every: int = _option(0, "also checkpoint every N steps", at_least=0, resumable=True)
    keep_checkpoints: int = _option(2, "resumable checkpoints kept; older ones are deleted", at_least=1, resumable=True)
    # The same seed, the same run.
    seed: int = _option(0, "seed of the weights' initialisation, the data order and the augmentation",
                        at_least=0, at_most=2**32 - 1)
    deterministic: bool = _option(False, "TF op determinism (bitwise-repeatable on CPU, slower)", resumable=True)
    mixed_precision: str = _option("auto", "float16 or bfloat16 compute (auto: on for GPUs that gain)",
                                   choices=["auto", "off", "float16", "bfloat16"], resumable=True)
    xla: str = _option("auto", "XLA compilation (auto: off on CPU, where it is slower)", choices=["auto", "on", "off"],
                       resumable=True)
    strategy: str = _option("auto", "how to spread training over devices",
                            choices=["auto", "one", "mirrored", "tpu", "multiworker"], resumable=True)
    prior: str = _option("", "ab prior .npy for class rebalancing (colorful; from colorpast prior)")
    # The preset the run started from ("": built field by field, or a run older than this
    # field). Resuming with another preset is refused: its values would not be used.
    preset: str = _option("", "the preset this run started from")

    def to_json(self, path, **extra) -> None:
        """Write the fields, and ``extra`` keys beside them (which ``from_json`` ignores)."""
        write_text_atomic(path, json.dumps({**asdict(self), **extra}, indent=2) + "\n")

    @classmethod
    def from_json(cls, path) -> "TrainConfig":
        data = json.loads(Path(path).read_text())
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_(self, **changes) -> "TrainConfig":
        """A copy with the given fields changed; None values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def differences(self, other: "TrainConfig") -> list[str]:
        """Names of the fields that differ and change what a run learns: not the
        ``resumable`` ones (how far, how often, on what hardware it trains). A preset
        differs only when both name one: runs made before it was recorded name none."""
        diff = []
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if a != b and not f.metadata.get("resumable") and not (f.name == "preset" and not (a and b)):
                diff.append(f.name)
        return diff

    def check(self) -> "TrainConfig":
        """Raise UserError, in one line, for the first field whose value its metadata does
        not allow (its type, ``choices``, ``at_least``, ``at_most``, ``above``); return self.

        The command line's argparse already checks types and choices; the notebooks
        build configs in Python, where nothing else would. Which models exist, and the
        crop sizes a model takes, are the models' business (``colorpast.train.check_options``).
        """
        types = typing.get_type_hints(type(self))
        for f in fields(self):
            _check_value(f, types[f.name], getattr(self, f.name))
        return self


def _check_value(f, annotation, value) -> None:
    """One field's value against its type and its rules (see ``_option``)."""
    m = f.metadata
    flag = f"--{'no-' if f.default is True else ''}{f.name.replace('_', '-')}"  # as colorpast train spells it
    label = f.name + say(f" ({flag}{', ' + m['unit'] if 'unit' in m else ''})", f" ({m['unit']})" if "unit" in m else "")
    kinds = [t for t in typing.get_args(annotation) if t is not type(None)] or [annotation]  # int | None -> int
    if value is None and type(None) in typing.get_args(annotation):
        return
    kind = kinds[0]
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    else:
        ok = isinstance(value, kind)
    if not ok:
        what = {bool: "True or False", int: "a whole number", float: "a finite number", str: "text"}.get(kind, kind.__name__)
        raise UserError(f"{label} must be {what}; got {value!r}")
    if "choices" in m and value not in m["choices"]:
        raise UserError(f"{label} must be one of: {', '.join(repr(c) for c in m['choices'])}; got {value!r}")
    lo, hi, above = m.get("at_least"), m.get("at_most"), m.get("above")
    if lo is not None and hi is not None and not lo <= value <= hi:
        raise UserError(f"{label} must be from {lo} to {hi}; got {value!r}")
    if lo is not None and hi is None and value < lo:
        raise UserError(f"{label} must be at least {lo}; got {value!r}")
    if above is not None and not value > above:
        raise UserError(f"{label} must be above {above}; got {value!r}")


# An epoch is a checkpoint interval, not a pass over the data, so the presets choose its
# length for the checkpoints: each one writes the weights and optimizer slots (seed16:
# 31 MB with RMSprop, 47 MB with Adam) to the run folder, on Drive on Colab. 1,000 steps
# are 50,000 images for `seed` and 16,000 for `default`: a few minutes a checkpoint on a
# T4, not one every few seconds (estimated from the model's size, not measured on a T4).
# Validation runs at every epoch end on `val_batches` batches: 10 x 50 = 500 images for
# `seed` (1 % of what an epoch trains on; the seed's 10-step epochs validated on twice
# the images they trained), 20 x 16 = 320 for `default` (2 %).
PRESETS: dict[str, dict] = {
    # The seed paper's recipe: RMSprop (Keras default lr 1e-3), MSE on ab/128, batch 50,
    # ImageDataGenerator augmentations, 224 px, and its 10,000 steps (it ran 1,000
    # epochs of 10 steps: the same steps here as 10 epochs of 1,000, so 10 checkpoints
    # and one progress bar instead of 1,000 of each).
    "seed": dict(optimizer="rmsprop", lr=1e-3, batch_size=50, steps_per_epoch=1000, epochs=10, augment=True,
                 val_batches=10),
    # What we recommend: see benchmarks/RESULTS.md, "Choosing the default preset"; 10,000
    # steps as 10 epochs of 1,000 (the same training as 50 epochs of 200, 5x fewer checkpoints).
    "default": dict(optimizer="adam", lr=3e-4, batch_size=16, steps_per_epoch=1000, epochs=10, augment=True),
    # The most accurate recipe of the quality curve at CPU budgets, at a third of seed16's
    # cost per image (benchmarks/RESULTS.md, "A better recipe at equal compute"):
    # seed16_fast (batch norm, ab predicted at a quarter of the size), L1 on ab, a
    # cosine schedule peaking at 2e-3. For models that regress ab: seed16_cls and
    # colorful classify it, and refuse its L1.
    "fast": dict(model="seed16_fast", optimizer="adam", lr=2e-3, schedule="cosine", loss="l1", batch_size=16,
                 steps_per_epoch=1000, epochs=10, augment=True),
    # What we recommend (README, "Which model to pick"): effunet, the U-Net on the ImageNet-trained
    # EfficientNet-Lite0 (frozen), at its 224 px, with fast's loss and schedule at 1e-3. At
    # 4,000 images it scored CIEDE2000 10.28 on CBSD68, below every other recipe at every
    # budget measured and below gray and sepia (benchmarks/RESULTS.md, "Recognition").
    "effunet": dict(model="effunet", optimizer="adam", lr=1e-3, schedule="cosine", loss="l1", batch_size=16,
                    size=224, steps_per_epoch=1000, epochs=10, augment=True),
    # `colorpast demo`: 12,000 crops of 96 px (the embedded photos, shorter side scaled to
    # 192 px); 516 s on the otherwise idle 2-core development CPU, about 24 crops/s
    # (2026-11-27; an earlier, faster CPU did it in 4.5 minutes at 55 crops/s).
    "demo": dict(size=96, batch_size=16, steps_per_epoch=25, epochs=30, lr=1e-3, val_batches=None),
    # `colorpast demo --smoke` and the tests: seconds, not minutes.
    "smoke": dict(size=32, batch_size=4, steps_per_epoch=3, epochs=2, lr=1e-3, val_batches=None),
}


def preset(name: str, **overrides) -> TrainConfig:
    """The preset ``name`` with ``overrides`` (None values ignored), its values checked."""
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return TrainConfig(**PRESETS[name], preset=name).with_(**overrides).check()
