"""Small filesystem checks shared by the commands."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from colorpast.errors import UserError


def writable_dir(path) -> Path:
    """Create ``path`` if needed and prove it is writable, or raise UserError saying why."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=p)
        os.close(fd)
        os.remove(probe)
    except FileExistsError:
        raise UserError(f"cannot use {p} as an output folder: a file of that name exists") from None
    except OSError as e:
        raise UserError(f"cannot write to {p}: {e.strerror or e}") from None
    return p
