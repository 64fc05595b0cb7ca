"""No silent skips in CI: a test that needs torch, port 80 or ../shared skips on a
developer's machine without them and fails in CI (CI=true), which has all three."""

import re
from pathlib import Path

import pytest

import conftest


def test_missing_needs_skip_here_and_fail_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        conftest.missing("torch is not installed")
    with pytest.raises(pytest.skip.Exception, match="absent"):
        conftest.shared_folder("no-such-folder")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must provide it"):
        conftest.missing("torch is not installed")
    with pytest.raises(pytest.fail.Exception, match="absent"):
        conftest.shared_folder("no-such-folder")


def test_tests_skip_only_through_missing():
    """Every other way to skip (pytest.skip, importorskip, skip and skipif marks, xfail)
    would pass silently in CI."""
    here = Path(__file__).resolve()
    for path in sorted((conftest.REPO / "tests").rglob("*.py")):
        if path.name == "conftest.py" or path.resolve() == here:
            continue
        found = re.findall(r"pytest\.skip\(|importorskip\(|mark\.skip|mark\.xfail|pytest\.xfail\(", path.read_text())
        assert not found, f"{path.relative_to(conftest.REPO)} skips with {found[0]}; use conftest.missing"
