"""Which colorpast this is: its version and, when known, the git commit it was installed from.

A run records both when it starts (``colorpast.runs``), so a run resumed days later by
a newer colorpast (the notebooks install whatever the repository's ``main`` is, unless
their Setup cell pins ``REF``) can say what it was started with. The commit comes from
pip's record of a ``git+`` install (``direct_url.json``, PEP 610), or from ``git`` in a
source checkout (an editable install); elsewhere it is unknown (None).
"""

from __future__ import annotations

import functools
import json
import subprocess
from importlib import metadata
from pathlib import Path

__version__ = "0.1.0"


@functools.lru_cache(maxsize=1)
def commit() -> str | None:
    """The full git commit colorpast was installed from, or None when unknown."""
    try:
        record = json.loads(metadata.distribution("colorpast").read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        record = {}
    found = record.get("vcs_info", {}).get("commit_id")
    if found:
        return found
    source = Path(__file__).resolve().parent.parent
    if not (source / ".git").exists():  # a plain install: no checkout to ask
        return None
    try:  # a source checkout: ask git (a worktree's .git is a file, which git follows)
        r = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    out = r.stdout.strip()
    return out if r.returncode == 0 and out else None


def describe() -> dict:
    """``{"version": "0.1.0", "commit": "1a2b3c..." or None}``: what a run records."""
    return {"version": __version__, "commit": commit()}


def label(record: dict | None) -> str:
    """A record from :func:`describe` as people read it: ``0.1.0 (commit 1a2b3c4)``."""
    if not record:
        return "an unrecorded version"
    sha = record.get("commit")
    return f"{record.get('version', '?')}" + (f" (commit {sha[:7]})" if sha else "")
