"""One configuration object for a training run, saved as ``config.json`` in the run folder.

Presets are data: a name and the fields it changes. Anything not set by a preset keeps
the dataclass default. The run folder's ``config.json`` is what a re-run resumes with.
Each field carries the help (and choices) of its ``colorpast train`` option, which
``colorpast.commands.train`` builds from the fields: a new field is a new option.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from colorpast.fsutil import write_text_atomic


def _option(default, help: str, **cli):
    """A field whose metadata holds its command-line help, and ``choices`` or
    ``zero_means_none`` where it has them."""
    return field(default=default, metadata={"help": help, **cli})


@dataclass(frozen=True)
class TrainConfig:
    # Empty for in-memory data (the demo).
    data: str = _option("", "prepared set folder (from colorpast prepare); may be left out when resuming --run")
    # A name from colorpast.models.names().
    model: str = _option("seed16", "model name (default: seed16)")
    # Square training crop in px; None = the prepared size (224).
    size: int | None = _option(None, "train on random square crops of this size (default: the prepared size)")
    # Global batch, split across devices by the strategy.
    batch_size: int = _option(16, "global batch size (lower it if the GPU runs out of memory)")
    epochs: int = _option(10, "epochs to train (more than a finished run's trains it further)")
    # An epoch is a checkpoint interval, not a data pass.
    steps_per_epoch: int = _option(100, "batches per epoch; each epoch ends with validation and a checkpoint")
    optimizer: str = _option("adam", "optimizer", choices=["adam", "rmsprop"])
    lr: float = _option(1e-3, "learning rate (the peak of the schedule)")
    # "cosine": linear warm-up over the first 5 % of the run's steps, then cosine decay to
    # 0 at its last step (epochs x steps per epoch; more --epochs on resume stretches it).
    schedule: str = _option("constant", "learning-rate schedule: constant, or cosine (5 %% warm-up, then cosine decay to 0)",
                            choices=["constant", "cosine"])
    # "": the model's own loss (MSE on ab for seed16, rebalanced cross-entropy for the
    # 313-bin models). The others apply to the models that regress ab.
    loss: str = _option("", "loss on ab for models that regress it: mse, l1 or huber (default: the model's own)",
                        choices=["", "mse", "l1", "huber"])
    # Class rebalancing of the 313-bin models: weights (1 - lambda) * prior + lambda / Q, inverted.
    rebalance: float = _option(0.5, "class rebalancing lambda of the 313-bin models (0.5: the paper's; 1: none)")
    # The seed's flip, rotation 20, zoom 0.2, shear 0.2 on training images.
    augment: bool = _option(True, "switch off flip, rotation, zoom and shear")
    # colorpast.ageing: fade, grain, blur, scratches, dust, tone, applied in the train step.
    age: float = _option(0.0, "share of training crops turned into old prints (faded, grainy, blurred, scratched) first")
    # None = the whole val split (0 on the command line).
    val_batches: int | None = _option(20, "validation batches per epoch (0: the whole val split)", zero_means_none=True)
    # 0: only at epoch ends.
    save_every: int = _option(0, "also checkpoint every N steps")
    keep_checkpoints: int = _option(2, "resumable checkpoints kept; older ones are deleted")
    # The same seed, the same run.
    seed: int = _option(0, "seed of the weights' initialisation, the data order and the augmentation")
    deterministic: bool = _option(False, "TF op determinism (bitwise-repeatable on CPU, slower)")
    mixed_precision: str = _option("auto", "float16 or bfloat16 compute (auto: on for GPUs that gain)",
                                   choices=["auto", "off", "float16", "bfloat16"])
    xla: str = _option("auto", "XLA compilation (auto: off on CPU, where it is slower)", choices=["auto", "on", "off"])
    strategy: str = _option("auto", "how to spread training over devices",
                            choices=["auto", "one", "mirrored", "tpu", "multiworker"])
    prior: str = _option("", "ab prior .npy for class rebalancing (colorful; from colorpast prior)")

    def to_json(self, path) -> None:
        write_text_atomic(path, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def from_json(cls, path) -> "TrainConfig":
        data = json.loads(Path(path).read_text())
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_(self, **changes) -> "TrainConfig":
        """A copy with the given fields changed; None values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def differences(self, other: "TrainConfig", ignore=("epochs",)) -> list[str]:
        """Names of fields that differ, except those a resumed run may change."""
        return [f.name for f in fields(self) if f.name not in ignore and getattr(self, f.name) != getattr(other, f.name)]


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
    # `colorpast demo`: 12,000 crops of 96 px (the embedded photos, shorter side scaled to
    # 192 px); 516 s on the otherwise idle 2-core development CPU, about 24 crops/s
    # (2026-11-27; an earlier, faster CPU did it in 4.5 minutes at 55 crops/s).
    "demo": dict(size=96, batch_size=16, steps_per_epoch=25, epochs=30, lr=1e-3, val_batches=None),
    # `colorpast demo --smoke` and the tests: seconds, not minutes.
    "smoke": dict(size=32, batch_size=4, steps_per_epoch=3, epochs=2, lr=1e-3, val_batches=None),
}


def preset(name: str, **overrides) -> TrainConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return TrainConfig(**PRESETS[name]).with_(**overrides)
