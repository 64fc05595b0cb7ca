"""docs/cli.md is what docs/_build_cli.py builds from the parsers: it cannot go stale."""

import runpy
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "docs" / "_build_cli.py"


def test_the_command_reference_is_built_from_the_parsers_as_they_are():
    built = runpy.run_path(str(BUILD))["render"]()
    assert (ROOT / "docs" / "cli.md").read_text() == built, "docs/cli.md is stale: run python docs/_build_cli.py"


def test_the_reference_has_every_verb_and_every_option():
    from colorpast.cli import make_parser

    text = (ROOT / "docs" / "cli.md").read_text()
    parser = make_parser()
    (verbs,) = [a.choices for a in parser._actions if a.dest == "command"]
    for verb, sub in verbs.items():
        assert f"## colorpast {verb}\n" in text
        for action in sub._actions:
            for option in action.option_strings:
                assert option in ("-h", "--help") or f"`{option}" in text or f", {option}" in text, (verb, option)


def test_a_changed_option_makes_the_check_fail(tmp_path):
    """The reference is compared with the parsers, not with itself: an option added to a
    verb in a scratch copy of the package makes --check fail, and a rebuild passes again."""
    for folder in ("colorpast", "docs"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    check = [sys.executable, "docs/_build_cli.py", "--check"]
    assert subprocess.run(check, cwd=tmp_path, capture_output=True).returncode == 0
    prior = tmp_path / "colorpast" / "commands" / "prior.py"
    prior.write_text(prior.read_text().replace(
        '    p.add_argument("--max-images"', '    p.add_argument("--bins", type=int, help="planted")\n    p.add_argument("--max-images"'))
    r = subprocess.run(check, cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 1 and "docs/cli.md is stale: run python docs/_build_cli.py" in r.stderr
    subprocess.run([sys.executable, "docs/_build_cli.py"], cwd=tmp_path, check=True, capture_output=True)
    assert "| `--bins BINS` | planted |" in (tmp_path / "docs" / "cli.md").read_text()
    assert subprocess.run(check, cwd=tmp_path, capture_output=True).returncode == 0
