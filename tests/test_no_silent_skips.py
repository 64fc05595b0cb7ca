"""No silent skips in CI: a test that needs torch, port 80 or ../shared skips on a
developer's machine without them and fails in CI (CI=true), which has all three."""

import re
from pathlib import Path

import pytest

import conftest


def _outcome(fn, *args):
    """The pytest outcome ``fn`` raises, caught whatever it is: a skip raised where a
    failure is expected must fail this test, not skip it."""
    try:
        fn(*args)
    except BaseException as e:  # noqa: BLE001 - pytest's outcomes are BaseExceptions
        return type(e), str(e)
    return None, ""


def test_missing_needs_skip_here_and_fail_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert _outcome(conftest.missing, "torch is not installed")[0] is pytest.skip.Exception
    kind, message = _outcome(conftest.shared_folder, "no-such-folder")
    assert kind is pytest.skip.Exception and "absent" in message
    monkeypatch.setenv("CI", "true")
    kind, message = _outcome(conftest.missing, "torch is not installed")
    assert kind is pytest.fail.Exception and "CI must provide it" in message
    kind, message = _outcome(conftest.shared_folder, "no-such-folder")
    assert kind is pytest.fail.Exception and "absent" in message


def test_tests_skip_only_through_missing():
    """Every other way to skip (pytest.skip, importorskip, skip and skipif marks, xfail)
    would pass silently in CI."""
    here = Path(__file__).resolve()
    for path in sorted((conftest.REPO / "tests").rglob("*.py")):
        if path.name == "conftest.py" or path.resolve() == here:
            continue
        found = re.findall(r"pytest\.skip\(|importorskip\(|mark\.skip|mark\.xfail|pytest\.xfail\(", path.read_text())
        assert not found, f"{path.relative_to(conftest.REPO)} skips with {found[0]}; use conftest.missing"


def test_the_slow_files_run_first_and_each_exists(request):
    """conftest.SLOW_FIRST names files that exist (a renamed one would silently go back to
    the end of the queue), and the collected order starts with them."""
    for name in conftest.SLOW_FIRST:
        assert (conftest.REPO / name).is_file(), f"conftest.SLOW_FIRST names {name}, which does not exist"
    files = list(dict.fromkeys(item.nodeid.split("::")[0] for item in request.session.items))
    collected = [f for f in conftest.SLOW_FIRST if f in files]
    assert files[: len(collected)] == collected
