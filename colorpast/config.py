"""One configuration object for a training run, saved as ``config.json`` in the run folder.

Presets are data: a name and the fields it changes. Anything not set by a preset keeps
the dataclass default.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path


@dataclass(frozen=True)
class TrainConfig:
    model: str = "seed16"  # a name from colorpast.models.names()
    size: int = 224  # square training crop, pixels (seed16: a multiple of 8)
    batch_size: int = 16
    epochs: int = 10
    steps_per_epoch: int = 100  # batches per epoch
    optimizer: str = "adam"  # adam | rmsprop
    lr: float = 1e-3
    seed: int = 0  # weights init and data order; the same seed gives the same run

    def to_json(self, path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def from_json(cls, path) -> "TrainConfig":
        data = json.loads(Path(path).read_text())
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_(self, **changes) -> "TrainConfig":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


PRESETS: dict[str, dict] = {
    # The seed paper's recipe: RMSprop, MSE on ab/128, batch 50, 10 steps x 1000 epochs.
    "seed": dict(optimizer="rmsprop", lr=1e-3, batch_size=50, steps_per_epoch=10, epochs=1000, size=224),
    # `colorpast demo`: about 4 minutes on a 2-core CPU at 55 crops/s (96 px crops of the
    # embedded photos, whose shorter side is scaled to 192 px).
    "demo": dict(size=96, batch_size=16, steps_per_epoch=25, epochs=30, lr=1e-3),
    # `colorpast demo --smoke` and the tests: seconds, not minutes.
    "smoke": dict(size=32, batch_size=4, steps_per_epoch=3, epochs=2, lr=1e-3),
}


def preset(name: str, **overrides) -> TrainConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return TrainConfig(**PRESETS[name]).with_(**overrides)
