"""README.md cannot go stale: every verb, option, model, preset, file, link and figure it shows exists.

The README is the front door (issue 40). ``problems(text)`` reads it as a reader sees it
(HTML comments left out: they are notes for whoever edits it) and lists what it shows that
is not so:

- every ``colorpast VERB`` in its code is a verb, and every ``--option`` after it one of
  that verb's options; an option shown alone (```--age 0.5```) is some verb's;
- every model it names (``--model``, ``--models``, ``NAME:official``, ``NAME:bundled``, a
  name of a registered model's family in code, ``models.build("NAME")``) is registered,
  ``NAME:official`` has a published release, and ``NAME:bundled`` ships; every
  ``--preset`` is a preset;
- every code span sits on one line (a span cut by a line break would escape these checks);
- every file it links or shows as a path in this repository exists, and every
  ``#anchor`` of a link is a heading of that page; every notebook is linked;
- every figure it quotes (a decimal, a number with a thousands separator, a percentage,
  a number of seconds, minutes, dB or GB) appears in benchmarks/RESULTS.md, and the
  figures of one claim (a table row, a sentence) together in one section that shows the
  command which measured them;
- the Python versions, the extras and the repository it installs from are pyproject's and
  the notebooks'; ``make`` targets exist; and it is at most 250 lines.

The same checks, figures aside, run over docs/*.md. The last tests plant each kind of
stale reference in a copy and see it caught.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
MAX_LINES = 250
# A name in code that belongs to a registered model's family: it must be registered itself.
FAMILIES = re.compile(r"^(seed16|effunet|colorful|siggraph17|koalarization)\w*$")
REF = re.compile(r"\b([a-z][a-z0-9_-]*):(official|bundled)\b")
# Code paths in this repository that must exist (run folders, data and reports are the user's).
REPO_PATH = re.compile(r"^(?:benchmarks|notebooks|docs|colorpast|tests|\.ci)/[\w./-]+\.\w+$")
FIGURE = re.compile(
    r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+(?:\.\d+)? ?%|\d+ (?:min|s|ms|dB|GB)(?![\w]))"
)
NOT_FIGURE = re.compile(r"(?:Python|Gradio|Keras|TensorFlow|version|v)\s*$")
COMMAND = re.compile(r"`(?:\.venv/bin/|\.\./\.venv/bin/|python|bash |colorpast |make |cd benchmarks|PYTHONPATH=|"
                     r"KERAS_BACKEND=|TF_NUM_INTRAOP_THREADS=|CI=true)")


# ----------------------------------------------------------------------------- what the code knows


@cache
def cli_options() -> dict[str, set[str]]:
    """{verb: its option strings}; "" holds the global ones; "weights" its action's too."""
    import argparse

    from colorpast.cli import make_parser

    def opts(parser):
        found = set()
        for a in parser._actions:
            found.update(a.option_strings)
            if isinstance(a, argparse._SubParsersAction):
                for sub in a.choices.values():
                    found.update(opts(sub))
        return found

    top = make_parser()
    verbs = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction)).choices
    return {"": {o for a in top._actions for o in a.option_strings}, **{v: opts(p) for v, p in verbs.items()}}


@cache
def registry() -> tuple[set[str], set[str], set[str]]:
    """(registered models, presets offered by train, releases of published weights)."""
    from colorpast import models
    from colorpast.config import PRESETS
    from colorpast.weights import RELEASES

    return set(models.names()), {k for k in PRESETS if k not in ("demo", "smoke")}, set(RELEASES)


def slugs(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings (lower case, punctuation dropped, spaces
    to hyphens, a repeated one numbered)."""
    seen: dict[str, int] = {}
    out = set()
    for line in _strip_fences(markdown).splitlines():
        m = re.match(r"^#{1,6} +(.*?)\s*#*\s*$", line)
        if not m:
            continue
        s = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else f"{s}-{n}")
    return out


# ----------------------------------------------------------------------------- reading the page


def shown(text: str) -> str:
    """The page as a reader sees it: HTML comments (notes to its editors) left out."""
    return re.sub(r"<!--.*?-->", "", text, flags=re.S)


def _strip_fences(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def code(text: str) -> list[tuple[str, str]]:
    """(kind, code) for every fenced block line, indented code line and inline code span;
    kind is the fence's language ("" for the others)."""
    out = []
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M):
        out += [(lang, line) for line in _joined(body.splitlines())]
    rest = _strip_fences(text)
    block: list[str] = []  # consecutive indented lines that are not a nested list or table
    for line in rest.splitlines() + [""]:
        if re.match(r"^ {4,}\S", line) and not re.match(r"^ {4,}(?:[-*+] |\||\d+\. )", line):
            block.append(line.strip())
        else:
            out += [("", joined) for joined in _joined(block)]
            block = []
    out += [("", span) for span in re.findall(r"(?<!`)`([^`\n]+)`(?!`)", rest)]
    return out


def _joined(lines: list[str]) -> list[str]:
    """Lines with a shell continuation (a trailing backslash) joined to the next."""
    out, held = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            held += line.rstrip()[:-1] + " "
        else:
            out.append(held + line.strip() if held else line)
            held = ""
    return out + ([held] if held else [])


def commands(text: str) -> list[list[str]]:
    """The tokens after ``colorpast`` of every command shown in shell code (a line or span
    whose first word, after VAR=value settings, is colorpast)."""
    found = []
    for lang, line in code(text):
        if lang not in ("", "bash", "sh", "shell", "console"):
            continue
        for segment in re.split(r"&&|;|\|", line):
            try:
                tokens = shlex.split(segment, comments=True)
            except ValueError:
                tokens = segment.split()
            while tokens and re.match(r"^[A-Z_]+=", tokens[0]):
                tokens = tokens[1:]
            if tokens[:1] == ["colorpast"]:  # a synopsis's [--option VALUE] and {a,b} are not options given
                found.append([t for t in tokens[1:] if not t.startswith(("[", "{")) and not t.endswith(("]", "}"))])
    return found


def _model_problems(ref: str, where: str, allow_paths: bool = True) -> list[str]:
    known, _, releases = registry()
    if ref in ("gray", "sepia") or ref.endswith(".keras"):
        return []
    if "/" in ref or ref.isupper():
        return [] if allow_paths else [f"{where}: {ref!r} is not a model"]  # a run folder, or a placeholder
    m = REF.fullmatch(ref)
    name, kind = (m.group(1), m.group(2)) if m else (ref, "")
    if name not in known:
        return [f"{where}: model {name!r} is not registered (colorpast.models.names())"]
    if kind == "official" and name not in releases:
        return [f"{where}: {ref} has no published weights (colorpast.weights.RELEASES)"]
    if kind == "bundled":
        from colorpast import bundled

        if bundled.path(name) is None:
            return [f"{where}: {ref} does not ship (no weights/{name}.weights.h5 with its record)"]
    return []


def cli_problems(text: str, where: str) -> list[str]:
    options, (_, presets, _) = cli_options(), registry()
    every = set().union(*options.values())
    out = []
    for tokens in commands(text):
        i = 0
        while i < len(tokens) and tokens[i].startswith("-"):  # global options before the verb
            if tokens[i].split("=")[0] not in options[""]:
                out.append(f"{where}: colorpast {tokens[i]}: no such global option")
            i += 2 if tokens[i] == "--backend" else 1
        if i >= len(tokens) or tokens[i] in ("...", "VERB", "COMMAND"):
            continue
        verb, args = tokens[i], tokens[i + 1:]
        if verb not in options:
            out.append(f"{where}: colorpast {verb}: no such command")
            continue
        for j, tok in enumerate(args):
            flag = tok.split("=")[0]
            if flag.startswith("--") and flag not in options[verb]:
                out.append(f"{where}: colorpast {verb} {flag}: no such option")
            if flag in ("--model", "--models"):
                for value in args[j + 1:] if flag == "--models" else args[j + 1:j + 2]:
                    if value.startswith("-"):
                        break
                    out += _model_problems(value, f"{where}: colorpast {verb} {flag}")
            if flag == "--preset" and j + 1 < len(args) and args[j + 1] not in presets:
                out.append(f"{where}: --preset {args[j + 1]}: no such preset ({', '.join(sorted(presets))})")
    for lang, span in code(text):
        if lang or not span.startswith("--"):
            continue
        tokens = span.split()
        for j, tok in enumerate(tokens):  # options shown alone: `--age 0.5`, `--preset effunet --model effunet_cls`
            flag = tok.split("=")[0]
            if flag.startswith("--") and flag not in every:
                out.append(f"{where}: `{span}`: {flag} is no option of any colorpast command")
            value = tokens[j + 1] if j + 1 < len(tokens) and not tokens[j + 1].startswith("{") else None
            if flag == "--preset" and value is not None and value not in presets:
                out.append(f"{where}: --preset {value}: no such preset")
            if flag == "--model" and value is not None:
                out += _model_problems(value, f"{where}: `{span}`")
    return out


def model_problems(text: str, where: str) -> list[str]:
    out = []
    for m in REF.finditer(text):
        out += _model_problems(m.group(0), where)
    for lang, span in code(text):
        if lang == "python":
            for name in re.findall(r"models\.build\(\"(\w+)\"", span):
                out += _model_problems(name, f"{where}: models.build")
        elif FAMILIES.match(span):
            out += _model_problems(span, f"{where}: `{span}`", allow_paths=False)
    return out


def link_problems(text: str, where: Path) -> list[str]:
    out = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _strip_fences(text)):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        page = (where.parent / path).resolve() if path else where
        if not page.exists():
            out.append(f"{where.name}: link to {path}: no such file")
        elif anchor and page.suffix == ".md" and anchor not in slugs(page.read_text()):
            out.append(f"{where.name}: link to {target}: no such heading in {page.name}")
    for _, span in code(text):
        if REPO_PATH.match(span) and not (ROOT / span).exists():
            out.append(f"{where.name}: `{span}`: no such file")
    for _, line in code(text):
        m = re.match(r"^(?:python|bash)\s+((?:benchmarks|docs|notebooks)/\S+)", line)
        if m and not (ROOT / m.group(1)).exists():
            out.append(f"{where.name}: {line}: no such script")
    return out


def _sections(results: str) -> list[str]:
    """RESULTS.md cut at its level-2 headings, each with its level-3 children, and cut at
    its level-3 headings too (a figure's section is either)."""
    parts = re.split(r"^(?=## )", results, flags=re.M)
    return parts + [s for p in parts for s in re.split(r"^(?=### )", p, flags=re.M)[1:]]


def _prose(text: str) -> str:
    """The page's prose and tables: no code, link targets, addresses or comments."""
    prose = re.sub(r"(?<!`)`[^`\n]+`(?!`)", " ", _strip_fences(shown(text)))
    prose = "\n".join(line for line in prose.splitlines() if not re.match(r"^ {4,}\S", line))
    prose = re.sub(r"\]\([^)]*\)", "]", prose)
    return re.sub(r"https?://\S+", " ", prose)


def _figures_in(claim: str) -> list[str]:
    return [m.group(0) for m in FIGURE.finditer(claim) if not NOT_FIGURE.search(claim[:m.start()])]


def claims(text: str) -> list[list[str]]:
    """The figures of each claim the page makes: a table row, or a sentence of prose."""
    out = []
    for block in re.split(r"\n\s*\n", _prose(text)):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        rest = " ".join(line for line in block.splitlines() if not line.startswith("|"))
        for claim in rows + re.split(r"(?<=[.;:!?])\s+(?=[A-Z(*])", rest):
            if found := _figures_in(claim):
                out.append(list(dict.fromkeys(found)))
    return out


def figures(text: str) -> list[str]:
    """The figures a page quotes in its prose and tables (not in code, links or comments)."""
    return [f for claim in claims(text) for f in claim]


def _pattern(fig: str) -> str:
    pattern = rf"(?<![\w.,]){re.escape(fig)}(?![\d])"
    if re.search(r"\d (?:min|s|ms|dB|GB)$", fig):  # "761 s" is a table's "| 761 |" in a column of seconds
        pattern += rf"|\|\s*{re.escape(fig.split()[0])}\s*\|"
    return pattern


def figure_problems(text: str, results: str) -> list[str]:
    """A claim's figures must stand together in one section of RESULTS.md that shows a
    command: a figure found only elsewhere (another model's row) is not this claim's."""
    sections, out = _sections(results), []
    for claim in claims(text):
        for fig in claim:
            if not any(re.search(_pattern(fig), s) for s in sections):
                out.append(f"README.md: the figure {fig} is not in benchmarks/RESULTS.md")
        homes = [s for s in sections if all(re.search(_pattern(f), s) for f in claim)]
        if len(claim) > 1 and not homes and all(any(re.search(_pattern(f), s) for s in sections) for f in claim):
            out.append(f"README.md: the figures {', '.join(claim)} are not together in one section of benchmarks/RESULTS.md")
        elif homes and not any(COMMAND.search(s) for s in homes):
            out.append(f"README.md: the figure(s) {', '.join(claim)} are in benchmarks/RESULTS.md only where no "
                       "command is shown")
    return out


def install_problems(text: str) -> list[str]:
    from colorpast.notebook import REPO_URL

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    out = []
    low = re.fullmatch(r">=(\d+\.\d+)", project["requires-python"]).group(1)
    for version in re.findall(r"Python (\d+\.\d+)", text):
        if version != low:
            out.append(f"README.md: Python {version}, where pyproject requires-python is {project['requires-python']}")
    for extras in re.findall(r"colorpast\[([\w,]+)\]", text):
        for extra in extras.split(","):
            if extra not in project["optional-dependencies"]:
                out.append(f"README.md: colorpast[{extra}]: no such extra in pyproject.toml")
    for url in re.findall(r"git\+(https://[^\s\"@]+)", text):
        if url != REPO_URL:
            out.append(f"README.md: installs from {url}, where the notebooks install from {REPO_URL}")
    makefile = (ROOT / "Makefile").read_text()
    for _, line in code(text):
        m = re.match(r"^make ([\w-]+)", line)
        if m and not re.search(rf"^{re.escape(m.group(1))}:", makefile, flags=re.M):
            out.append(f"README.md: make {m.group(1)}: no such target")
    return out


def problems(text: str, where: Path = README, results: str | None = None, readme: bool = True) -> list[str]:
    """Everything ``text`` (the page at ``where``) shows that is not so; [] when it is current."""
    page = shown(text)
    out = cli_problems(page, where.name) + model_problems(page, where.name) + link_problems(page, where)
    for line in _strip_fences(page).splitlines():  # a span cut by a line break would escape every check
        if line.count("`") % 2 and not re.match(r"^ {4,}\S", line):
            out.append(f"{where.name}: a code span runs over a line break (keep it on one line): {line.strip()}")
    if readme:
        results = RESULTS.read_text() if results is None else results
        out += figure_problems(text, results) + install_problems(page)
        for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
            if f"](notebooks/{nb.name})" not in page:
                out.append(f"README.md: notebook {nb.name} is not linked")
        if len(text.splitlines()) > MAX_LINES:
            out.append(f"README.md: {len(text.splitlines())} lines, over {MAX_LINES}")
        first_picture = next((i for i, line in enumerate(page.splitlines()) if line.startswith("![")), None)
        if first_picture is None or first_picture >= 30:
            out.append("README.md: no picture in its first 30 lines")
    return out


# ----------------------------------------------------------------------------- the tests


def test_the_readme_shows_only_what_exists():
    assert problems(README.read_text()) == []


@pytest.mark.parametrize("page", sorted((ROOT / "docs").glob("*.md")), ids=lambda p: p.name)
def test_the_docs_show_only_what_exists(page):
    assert problems(page.read_text(), page, readme=False) == []


def test_the_readme_quotes_figures_and_the_check_sees_them():
    found = figures(README.read_text())
    assert "10.28" in found and "1,223" in found  # the model table's: the check reads tables
    assert not any(f.startswith("3.10") for f in found)  # "Python 3.10" is a version, not a figure


PLANTED = {
    "an option after a line's continuation": ("    colorpast evaluate --data d --models gray \\\n        --out r --bogus\n",
                                              "colorpast evaluate --bogus: no such option"),
    "an option the verb lacks": ("    colorpast colorize a.jpg --model runs/mine --out c/ --sharpen 2\n",
                                 "colorpast colorize --sharpen: no such option"),
    "a verb that does not exist": ("Run `colorpast paint photo.jpg` to start.\n", "colorpast paint: no such command"),
    "an option shown alone": ("Add `--turbo` to go faster.\n", "--turbo is no option of any colorpast command"),
    "an unregistered model": ("    colorpast train --data d --run r --model effunet_xl\n", "model 'effunet_xl' is not registered"),
    "an unregistered family name": ("The `seed16_giant` model.\n", "model 'seed16_giant' is not registered"),
    "an official model without a release": ("Use `effunet:official`.\n", "effunet:official has no published weights"),
    "a bundled model that does not ship": ("Use `effunet:bundled`.\n", "effunet:bundled does not ship"),
    "a preset that does not exist": ("    colorpast train --data d --run r --preset turbo\n", "--preset turbo: no such preset"),
    "a file that does not exist": ("See [the guide](docs/no-such-guide.md).\n", "link to docs/no-such-guide.md: no such file"),
    "a heading that does not exist": ("See [RESULTS](benchmarks/RESULTS.md#no-such-section).\n",
                                      "no such heading in RESULTS.md"),
    "a script that does not exist": ("    python benchmarks/no_such_bench.py\n", "no such script"),
    "a figure not in RESULTS": ("It scores 8.0413 on CBSD68 at 123,457 images.\n", "the figure 8.0413 is not in"),
    "a figure of another row": ("| `--preset fast` | your photos | 11.41 / 26.70 at 16,000 images | 816 s | planted |\n",
                                "the figures 11.41, 26.70, 16,000, 816 s are not together"),
    "a Python version pyproject does not say": ("Needs Python 3.9.\n", "Python 3.9, where pyproject"),
    "an extra that does not exist": ('    pip install "colorpast[video] @ git+https://github.com/colorpast/colorpast"\n',
                                     "colorpast[video]: no such extra"),
    "another repository": ('    pip install "colorpast @ git+https://github.com/someone/colorpast"\n',
                           "installs from https://github.com/someone/colorpast"),
    "a make target that does not exist": ("    make bench\n", "make bench: no such target"),
    "a code span over a line break": ("Run `colorpast train --data d\n--bogus` now.\n", "a code span runs over a line break"),
}


@pytest.mark.parametrize("kind", PLANTED)
def test_a_planted_stale_reference_is_caught(kind, tmp_path, monkeypatch):
    monkeypatch.setenv("COLORPAST_BUNDLED", str(tmp_path))  # no model ships from this empty folder
    line, expected = PLANTED[kind]
    assert "8.0413" not in RESULTS.read_text() and "123,457" not in RESULTS.read_text()
    found = problems(README.read_text() + "\n" + line)
    assert any(expected in p for p in found), found


def test_a_figure_in_results_only_without_its_command_is_caught():
    results = RESULTS.read_text() + "\n## A section without a command\n\nIt measured 77.123 once.\n"
    found = problems(README.read_text() + "\nIt measured 77.123 once.\n", results=results)
    assert any("77.123 are in benchmarks/RESULTS.md only where no command is shown" in p for p in found), found
    results += "\nCommand: `.venv/bin/python benchmarks/bench_x.py`\n"
    assert not any("77.123" in p for p in problems(README.read_text() + "\nIt measured 77.123 once.\n", results=results))


def test_a_readme_too_long_or_without_a_picture_up_top_is_caught():
    text = README.read_text()
    assert any("over 250" in p for p in problems(text + "\nmore\n" * 250))
    assert any("no picture in its first 30 lines" in p for p in problems("\n" * 40 + text))


def test_notes_to_editors_in_comments_are_not_checked_but_shown_text_is():
    note = "<!-- LEAD: `colorpast colorize x --model effunet:bundled --sharpen` goes here -->\n"
    assert problems(README.read_text() + note) == []
    uncommented = note.replace("<!--", "").replace("-->", "")
    assert any("--sharpen: no such option" in p for p in problems(README.read_text() + uncommented))


def test_the_results_contents_and_links_lead_somewhere():
    text = RESULTS.read_text()
    contents = text[: text.index("\n## ")]
    listed = set(re.findall(r"\]\(#([^)]+)\)", contents))
    sections = slugs("\n".join(line for line in text.splitlines() if line.startswith("## ")))
    assert sections - listed == set(), "add these sections to RESULTS.md's contents"
    assert link_problems(text, RESULTS) == []
