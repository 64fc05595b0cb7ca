"""The one exception type for user mistakes: the CLI prints its message on one line."""


class UserError(Exception):
    """A mistake the user can fix (missing file, unwritable folder, bad option)."""
