"""Exception types the CLI turns into one line on stderr instead of a traceback."""


class UserError(Exception):
    """A mistake the user can fix (missing file, unwritable folder, bad option): exit 2."""


class TrainingError(Exception):
    """Training stopped for a reason the user must act on (NaN loss, out of memory): exit 1."""
