"""The ``colorpast`` command line. Each verb mirrors a notebook; ``--help`` at every level.

    colorpast demo        train on the embedded photos and colorize held-out ones

Later verbs slot in the same way (download, prepare, train, evaluate, colorize): one
line in ``VERBS`` naming the module that implements it.

A user mistake prints one line on stderr and exits with status 2; a failure of the
job itself exits with 1; Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from colorpast import __version__
from colorpast.errors import TrainingError, UserError

PROG = "colorpast"


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr, not a usage block."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def _quiet_tensorflow() -> None:
    """Import TensorFlow with its C++ start-up chatter (oneDNN, CUDA probing) silenced.

    TF_CPP_MIN_LOG_LEVEL=3 keeps C++ log lines out (Python errors still show); a few are
    printed before absl logging starts and ignore it, so stderr is pointed at
    /dev/null for the import alone. COLORPAST_TF_VERBOSE=1 shows everything.
    """
    if os.environ.get("COLORPAST_TF_VERBOSE") == "1" or "tensorflow" in sys.modules:
        return
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return  # JAX or PyTorch: TensorFlow may be absent, and is not needed
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# Each verb lives in the module that does its work, which defines HELP, DESCRIPTION,
# add_arguments(parser) and run(args) -> exit code. Those modules import TensorFlow
# inside run(), so `--help` stays fast. A new verb is one line here.
VERBS = {
    "demo": "colorpast.commands.demo",
    "download": "colorpast.commands.download",
    "prepare": "colorpast.data.prepare",
    "prior": "colorpast.commands.prior",
    "train": "colorpast.commands.train",
    "weights": "colorpast.commands.weights",
    "evaluate": "colorpast.commands.evaluate",
    "colorize": "colorpast.commands.colorize",
}


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="colorpast: colorize black-and-white photographs with Keras models.",
        epilog="Run 'colorpast COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--backend", choices=BACKENDS,
                        help="Keras backend (default: $KERAS_BACKEND, else tensorflow); put it before COMMAND")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for verb, module_name in VERBS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(verb, help=module.HELP, description=module.DESCRIPTION)
        module.add_arguments(p)
        p.set_defaults(func=module.run)
    return parser


BACKENDS = ("tensorflow", "jax", "torch")


def _select_backend(argv) -> None:
    """Honour ``--backend NAME`` before anything imports Keras, which reads
    KERAS_BACKEND once, at import."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for i, a in enumerate(argv):
        name = a.split("=", 1)[1] if a.startswith("--backend=") else (argv[i + 1] if a == "--backend" and i + 1 < len(argv) else None)
        if name in BACKENDS:
            os.environ["KERAS_BACKEND"] = name
        if a == "--" or not a.startswith("-") and (i == 0 or argv[i - 1] != "--backend"):
            break  # the verb: its own options follow


def main(argv=None) -> int:
    _select_backend(argv)
    args = make_parser().parse_args(argv)
    try:
        _quiet_tensorflow()
        return args.func(args) or 0
    except UserError as e:
        sys.stderr.write(f"{PROG} {args.command}: error: {e}\n")
        return 2
    except TrainingError as e:
        sys.stderr.write(f"{PROG} {args.command}: {e}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG} {args.command}: interrupted; checkpoints written so far are kept\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
