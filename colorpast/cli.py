"""The ``colorpast`` command line. Each verb mirrors a notebook; ``--help`` at every level.

    colorpast demo        train on the embedded photos and colorize held-out ones
    colorpast download    a Kaggle dataset into data/raw/NAME
    colorpast prepare     photos into a prepared set of shards
    colorpast prior       the ab prior of a prepared set (Colorful's class rebalancing)
    colorpast train       train a model on a prepared set; re-run to resume
    colorpast weights     official weights, converted to Keras
    colorpast evaluate    models and the gray baseline on the same photos
    colorpast colorize    photos and folders at full resolution
    colorpast app         a local web page: colorize a photo, paint the colours you know

Each verb is a module of ``colorpast.commands`` defining HELP, DESCRIPTION,
add_arguments(parser) and run(args) -> exit code: it turns the arguments into one call
of the package and prints the result. It imports its working module (and with it
TensorFlow and Keras) inside run(), so that ``colorpast --help`` and ``colorpast VERB
--help`` stay fast. A new verb is one such module and one line in ``VERBS``.

A user mistake prints one line on stderr and exits with status 2; a failure of the
job itself exits with 1; Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.abc
import importlib.util
import os
import sys

from colorpast import __version__
from colorpast.errors import TrainingError, UserError

PROG = "colorpast"
BACKENDS = ("tensorflow", "jax", "torch")


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr, not a usage block."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run with file descriptor 2 pointed at /dev/null."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 2)
                self.loader.exec_module(module)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            module.__loader__ = module.__spec__.loader = self.loader  # the package as it would be

    def __getattr__(self, name):  # get_data, is_package, resource readers: the real loader's
        return getattr(self.loader, name)


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, for a loader that silences its start-up chatter."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def _quiet_tensorflow() -> None:
    """Have TensorFlow, when something imports it, start without its C++ chatter.

    TF_CPP_MIN_LOG_LEVEL=3 keeps C++ log lines out (Python errors still show); a few
    (oneDNN, CUDA probing) are printed before absl logging starts and ignore it, so stderr
    is pointed at /dev/null while the ``tensorflow`` package runs its __init__. Nothing is
    imported here: a verb that never needs TensorFlow (download, prepare, a mistake found
    before the model loads) does not pay the seconds it takes. COLORPAST_TF_VERBOSE=1
    shows everything.
    """
    if os.environ.get("COLORPAST_TF_VERBOSE") == "1" or "tensorflow" in sys.modules:
        return
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return  # JAX or PyTorch: TensorFlow may be absent, and is not needed
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not any(isinstance(f, _QuietTensorFlow) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlow())


# Verb -> the module that defines it (see the module docstring).
VERBS = {
    "demo": "colorpast.commands.demo",
    "download": "colorpast.commands.download",
    "prepare": "colorpast.commands.prepare",
    "prior": "colorpast.commands.prior",
    "train": "colorpast.commands.train",
    "weights": "colorpast.commands.weights",
    "evaluate": "colorpast.commands.evaluate",
    "colorize": "colorpast.commands.colorize",
    "app": "colorpast.commands.app",
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
        sys.stderr.write(f"{PROG} {args.command}: interrupted; what was finished is kept (checkpoints, a film's "
                         "pieces): the same command goes on from there\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
