"""The command line: --help everywhere, user mistakes as one line and a non-zero exit."""

import subprocess
import sys

import pytest

from colorpast.cli import make_parser


def _run(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "colorpast", *args], capture_output=True, text=True, timeout=timeout
    )


def _subcommands():
    parser = make_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return list(sub.choices)


def test_help_at_every_level():
    top = _run("--help")
    assert top.returncode == 0 and "COMMAND" in top.stdout
    commands = _subcommands()
    assert "demo" in commands
    for cmd in commands:
        r = _run(cmd, "--help")
        assert r.returncode == 0, r.stderr
        assert f"colorpast {cmd}" in r.stdout


@pytest.mark.parametrize(
    "args",
    [
        [],  # no command
        ["paint"],  # unknown command
        ["demo", "--bogus"],  # unknown option
        ["demo", "--out"],  # option without its value
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args):
    r = _run(*args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_unwritable_output_folder_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = _run("demo", "--smoke", "--out", str(blocker / "sub"))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write to" in lines[0], r.stderr


def test_output_path_that_is_a_file_is_one_line(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    r = _run("demo", "--smoke", "--out", str(target))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "a file of that name exists" in r.stderr


def test_console_script_is_installed():
    import shutil

    exe = shutil.which("colorpast") or str(__import__("pathlib").Path(sys.executable).with_name("colorpast"))
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("colorpast ")
