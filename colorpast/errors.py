"""Exception types the CLI turns into one line on stderr instead of a traceback, and the
wording of those lines for whoever reads them.

A message that tells the user what to run names a command on the command line
(``colorpast prepare ...``, ``--restart``) and a notebook or a parameter in a notebook
(``02_preprocess``, ``RESTART = True``). ``notebook.setup()``, which every notebook runs
first, sets ``AUDIENCE`` to ``"notebook"``; :func:`say` picks the wording.
"""

AUDIENCE = "cli"  # or "notebook": set by colorpast.notebook.setup()


class UserError(Exception):
    """A mistake the user can fix (missing file, unwritable folder, bad option): exit 2."""


class TrainingError(Exception):
    """Training stopped for a reason the user must act on (NaN loss, out of memory): exit 1."""


def say(cli: str, notebook: str) -> str:
    """The wording for the command line or for a notebook, whichever this process serves."""
    return notebook if AUDIENCE == "notebook" else cli
