"""``colorpast train``: train a model on a prepared set, checkpointed every epoch; re-run to resume.

The options are TrainConfig's fields (``colorpast.config``): each field's name, type,
help and choices make one option (``steps_per_epoch`` -> ``--steps-per-epoch``, an
``int | None`` takes an int, a bool is a flag that turns its default over:
``--no-augment``, ``--deterministic``), so a new field is a new option. Options left
out keep the ``--preset``'s values for a new run, and the run's own (its config.json)
when resuming, whatever today's presets say: only the options given are compared with
the run's (``colorpast.runs.settings``). ``--run``, ``--preset`` and ``--restart`` are
the command's own.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

from colorpast.config import PRESETS, TrainConfig

HELP = "train a model on a prepared set, checkpointed every epoch; re-run to resume"
DESCRIPTION = (
    "Train a model (seed16 by default) on a prepared set (colorpast prepare). Every epoch "
    "writes a resumable checkpoint (weights, optimizer, step, data order), the best weights "
    "by validation loss, history.csv and TensorBoard logs into --run. Running the same "
    "command again resumes where it stopped; --restart starts over. Options left out come "
    "from --preset (default: 'default'; 'seed' is the seed paper's recipe; 'effunet' the most accurate, on an "
    "ImageNet-trained encoder; 'fast' the most accurate of the models without one)."
)

# TrainConfig fields without an option, and why. An old config.json's keys that are no
# longer fields (shuffle_buffer, read by the removed tf.data pipeline) are ignored by
# TrainConfig.from_json.
NOT_OPTIONS: dict[str, str] = {"preset": "set by the command's own --preset, which also gives every other field's starting value"}


def option_fields() -> list[dataclasses.Field]:
    """The TrainConfig fields that are options, in the dataclass's order."""
    return [f for f in dataclasses.fields(TrainConfig) if f.name not in NOT_OPTIONS]


def add_arguments(p) -> None:
    p.add_argument("--run", required=True, help="run folder for checkpoints, history and the final model (e.g. runs/NAME)")
    p.add_argument("--preset", choices=[k for k in PRESETS if k not in ("demo", "smoke")],
                   help="starting values for every option of a new run (default: default); "
                        "a resumed run keeps its own")
    types = typing.get_type_hints(TrainConfig)
    for f in option_fields():
        _add_option(p, f, types[f.name])
    p.add_argument("--restart", action="store_true", help="discard the run's checkpoints and start over")


def _add_option(p, f: dataclasses.Field, annotation) -> None:
    """One field's option; its value is None when not given, so the preset's stays."""
    name = f.name.replace("_", "-")
    if annotation is bool:
        p.add_argument(f"--no-{name}" if f.default else f"--{name}", dest=f.name, action="store_const",
                       const=not f.default, help=f.metadata["help"])
        return
    kinds = [t for t in typing.get_args(annotation) if t is not type(None)] or [annotation]  # int | None -> int
    p.add_argument(f"--{name}", dest=f.name, type=kinds[0], choices=f.metadata.get("choices"),
                   help=f.metadata["help"])


def config_from_args(args) -> TrainConfig:
    """The TrainConfig a parsed command line names: for a new run (or ``--restart``) the
    preset with the options given; for a run folder holding a config.json, its saved
    settings with the options given, of which those that change what the run learns must
    match (``colorpast.runs.settings``; ``--epochs`` changes how far it trains).
    """
    from colorpast.runs import settings  # Keras comes with it: imported here so that --help stays fast

    given = {f.name: getattr(args, f.name) for f in option_fields() if getattr(args, f.name) is not None}
    if given.get("data"):
        given["data"] = str(Path(given["data"]))
    cfg = settings(args.run, args.preset, restart=args.restart, **given)
    # An option's 0 that means None (--val-batches 0: the whole split); settings() reads
    # None as "not given", so the 0 is turned over here.
    zeros = {f.name: None for f in option_fields() if f.metadata.get("zero_means_none") and given.get(f.name) == 0}
    return dataclasses.replace(cfg, **zeros)


def run(args) -> int:
    if args.data:  # a wrong --data is one line before Keras loads (its import takes seconds); train() checks again
        from colorpast.data.shards import read_summary

        read_summary(args.data)
    from colorpast.train import train  # Keras comes with it: imported here so that --help stays fast

    result = train(config_from_args(args), args.run, restart=args.restart)
    print(result.summary())
    from colorpast.tune import choose_temperature

    choose_temperature(args.run)  # a 313-bin run's colours: their temperature, chosen on its validation photos
    return 0
