"""Which model colorizes: what a reference holds, whether it follows hints, and the choice
made when the user names none (notebook 06, the app, ``colorize --hints``).

A reference is what ``colorizer.load_model`` takes: a run folder (``runs/NAME``), one of
its epochs (``runs/NAME:best``, ``:last``, ``:final``), a registered model's published
weights (``NAME:official``, fetched once into ``weights/``), the weights this project
ships (``NAME:bundled``), or a ``.keras`` file. Whether it takes hints is the registry's
``spec(name).hints``, whatever kind of reference names it.

When nothing is named (``"best"``), the choice goes down this list and takes the first
that is at hand:

- colour on its own: the model 05 measured best in its newest report, else the first of
  ``runs.trained_runs`` (an encoder's run first, then the newest), else
  the first of ``AUTOMATIC_SHIPPED`` that ships (photos: ``effunet_cls:bundled``, else
  ``effunet:bundled``; films, ``FILMS_SHIPPED``: the other way round), else
  ``colorful:official`` (129 MB, fetched once);
- colour hints: the user's newest run of a model that takes hints, else
  ``effunet_hints:bundled`` where it ships, else ``siggraph17:official`` (137 MB, once).

A choice says one line, and only what happened: a published model is named as used once
its weights are on disk; offline, with nothing at hand, the choice is None and the line
says what to do instead.
"""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

from colorpast import models, runs, weights
from colorpast.errors import UserError, say

BEST = "best"  # 06's MODEL and HINTS_MODEL: chosen as above
OFFICIAL = "colorful:official"  # Zhang et al. 2016
HINTS_OFFICIAL = "siggraph17:official"  # Zhang et al. 2017, takes hints
# This project's own automatic models, where weights/ ships them, the one measured best
# first. On photos the 313-bin head (level on ImageNet's test split, ahead on photos-extra's,
# behind on CBSD68: benchmarks/RESULTS.md, "effunet:bundled since 2026-12-07"); on films
# the L1 head with its encoder fine-tuned (seven colour clips, the same section).
AUTOMATIC_SHIPPED = ("effunet_cls", "effunet")
FILMS_SHIPPED = ("effunet", "effunet_cls")
HINTS_BUNDLED = "effunet_hints:bundled"
WHO = {"colorful": "Zhang et al. 2016's published network", "siggraph17": "Zhang et al. 2017's published network"}
SIZE_MB = {"colorful": 129, "siggraph17": 137}


def registered(ref) -> tuple[str, str] | None:
    """``(NAME, KIND)`` for ``NAME:official`` or ``NAME:bundled`` of a registered model (no
    file or folder of that name); None for any other reference."""
    name, colon, kind = str(ref).partition(":")
    if colon and name in models.names() and not Path(str(ref)).exists():
        return name, kind
    return None


def _keras_file_model(path: Path) -> str | None:
    """The model name a ``.keras`` file records (its config.json), without loading it."""
    try:
        with zipfile.ZipFile(path) as z:
            return json.loads(z.read("config.json")).get("config", {}).get("name")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, AttributeError):
        return None


def model_name(ref) -> str | None:
    """The registered model that ``ref`` holds, read without loading it (a run's
    config.json, the ``NAME`` of ``NAME:official``, a .keras file's own record); None
    when it names nothing readable."""
    if not ref:
        return None
    if got := registered(ref):
        return got[0]
    named = runs.named_weights(ref)
    p = named[0] if named else Path(str(ref))
    if p.is_dir():
        try:
            return json.loads((p / runs.CONFIG).read_text()).get("model")
        except (OSError, ValueError, AttributeError):
            return None
    return _keras_file_model(p) if p.is_file() and p.suffix == ".keras" else None


def takes_hints(ref) -> bool:
    """Whether the model ``ref`` holds follows colour hints (``spec(name).hints``)."""
    name = model_name(ref)
    return bool(name in models.names() and models.spec(name).hints)


def official_file(name: str) -> Path:
    """Where ``NAME:official``'s converted weights live once fetched."""
    from colorpast.models import colorful

    return colorful.weights_dir() / weights.RELEASES[name].converted


def bundled(name: str) -> str | None:
    """``NAME:bundled`` when this project ships that model's weights (``colorpast.bundled``), else None."""
    return f"{name}:bundled" if weights.bundled(name) is not None else None


def shipped_automatic(films: bool = False) -> str | None:
    """The first of ``AUTOMATIC_SHIPPED`` (``FILMS_SHIPPED`` for ``films``) that ships, as
    ``NAME:bundled``; None when none does."""
    return next((ref for name in (FILMS_SHIPPED if films else AUTOMATIC_SHIPPED) if (ref := bundled(name))), None)


def at_hand(ref) -> bool:
    """Whether ``ref`` colorizes without a download: a run with those weights, a .keras
    file, ``NAME:bundled`` where it ships, ``NAME:official`` once fetched."""
    if not ref:
        return False
    if got := registered(ref):
        name, kind = got
        if kind == "official":
            return name in weights.RELEASES and official_file(name).is_file()
        return kind == "bundled" and bundled(name) is not None
    if (named := runs.named_weights(ref)) is not None:
        return runs.has_weights(*named)
    p = Path(str(ref))
    return (p.is_dir() and runs.missing_weights(p) is None) or (p.is_file() and p.suffix == ".keras")


def fetch_official(ref: str) -> str | None:
    """``NAME:official``'s weights on disk, downloaded once when missing; None when they
    are there, else why not (offline), in a few words."""
    name = registered(ref)[0]
    if official_file(name).is_file():
        return None
    try:
        weights.fetch(name)
    except UserError as e:
        return str(e)
    return None


def _published(ref: str, fetch_: bool) -> tuple[bool, str]:
    """Whether the published ``ref`` is usable (fetched when ``fetch_``), and the words for
    its line: who made it, and that it was fetched now."""
    name = registered(ref)[0]
    was_here = official_file(name).is_file()
    if not was_here and not fetch_:
        return False, "not fetched"
    why = fetch_official(ref)
    if why:
        return False, why
    fetched = "" if was_here else f" (fetched now, {SIZE_MB.get(name, '?')} MB, once)"
    return True, WHO.get(name, "the published weights") + fetched


def hint_runs(runs_dir="runs") -> list[Path]:
    """The trained runs of models that take hints, in ``runs.trained_runs``' order."""
    return [r for r in runs.trained_runs(runs_dir) if takes_hints(r)]


def _shipped_or_published(shipped: str | None, official: str, log, why: str, fetch_: bool, nothing: str) -> str | None:
    """The end of both lists: ``shipped`` (``NAME:bundled``, None where it does not ship),
    else ``official`` when on disk or fetched (``fetch_``); else None. One line either way."""
    if shipped:
        log(f"{why}using {shipped}, the model this project ships")
        return shipped
    ok, words = _published(official, fetch_)
    if ok:
        log(f"{why}using {official}, {words}")
        return official
    log(f"{why}{nothing}" + (f" ({words})" if fetch_ else ""))
    return None


def _explicit(ref, fetch_: bool) -> tuple[bool, str]:
    """A named ``ref``: (usable, why not); ``NAME:official`` fetched when ``fetch_``."""
    if at_hand(ref):
        return True, ""
    reg = registered(ref)
    if reg and reg[1] == "official" and reg[0] in weights.RELEASES and fetch_:
        ok, words = _published(ref, True)
        return ok, f"{ref}: {words}"
    return False, _missing(ref)


def automatic(ref=BEST, log=print, reports="reports", runs_dir="runs", fetch: bool = True,
              films: bool = False) -> str | None:
    """The model that colours photos on their own, as 06's MODEL and the app's start take
    it (07's, ``films``): ``ref`` itself when it holds a model (with a line when 05
    measured it behind sepia or another model); for ``"best"``, or a ``ref`` that holds
    none (said first), the first of the module's list at hand. None, with one line, when
    nothing is (offline, nothing trained, nothing shipped). ``fetch``: whether Colorful may
    be downloaded."""
    why = ""
    if ref and ref != BEST:
        ok, why = _explicit(ref, fetch)
        if ok:
            if behind := measured_behind(ref, reports):
                log(f"note: {behind}; MODEL = {BEST!r} takes the best 05 measured")
            return ref
        why += ": "
    measured = best_measured(reports)
    if measured is not None:
        ok, words = (True, "") if at_hand(measured[0]) else _published(measured[0], fetch)
        if ok:
            log(f"{why}using {measured[0]}: {measured[1]}")
            return measured[0]
        why = f"{why}{measured[0]}, the best 05 measured: {words}: "
    found = runs.trained_runs(runs_dir)
    if found:
        unscored = "; 05_evaluate has scored none yet: after it, this picks the best it measured"
        log(f"{why}using {found[0]}, the trained run listed first (an encoder's run, then the newest)"
            + (unscored if measured is None else ""))
        return str(found[0])
    why = why or f"no trained run under {runs_dir}/ yet ({say('colorpast train makes one', '04_train makes one')}): "
    return _shipped_or_published(shipped_automatic(films), OFFICIAL, log, why, fetch, no_model())


def for_hints(ref=BEST, log=print, runs_dir="runs", fetch: bool = True) -> str | None:
    """The model that follows colour hints, as 06's HINTS_MODEL and the app take it: ``ref``
    when it holds one; else (said first) the user's newest hint run, else
    ``effunet_hints:bundled`` where it ships, else ``siggraph17:official`` (fetched when
    ``fetch``). None, with one line, when none is at hand."""
    why = ""
    if ref and ref != BEST:
        ok, why = _explicit(ref, fetch and takes_hints(ref))
        if ok and takes_hints(ref):
            return ref
        why = f"{ref} takes no colour hints: " if ok else why + ": "
    found = hint_runs(runs_dir)
    if found:
        log(f"{why}using {found[0]}, your newest run of a model that takes hints")
        return str(found[0])
    return _shipped_or_published(bundled("effunet_hints"), HINTS_OFFICIAL, log, why, fetch, no_hints_model())


def _missing(ref) -> str:
    if (named := runs.named_weights(ref)) is not None:
        return f"{ref}: the run has no {named[1]} weights yet"
    if registered(ref):
        return f"{ref}: its weights are not here"
    p = Path(str(ref))
    return runs.missing_weights(p) if p.is_dir() else f"no trained model at {str(ref)!r}"


def no_model() -> str:
    """What to do when no model is at hand, in the words of whoever reads it."""
    return "no model to colorize with: " + say(
        "train one (colorpast train), or run 'colorpast weights fetch colorful' while online, then start again",
        "train one in 04_train, or run 06's cell under \"The model\" again while online (it fetches Colorful's "
        "published weights)")


def no_hints_model() -> str:
    """What to do when no model that takes hints is at hand."""
    return "no model that takes colour hints: " + say(
        "train one (colorpast train --model effunet_hints), or run 'colorpast weights fetch siggraph17' while online",
        'train one in 04_train with MODEL = "effunet_hints", or run 06\'s cell under "Colours you know" again while '
        "online (it fetches Zhang et al. 2017's published network)")


# ------------------------------------------------------------------------ 05's reports


def _reports(reports) -> list[tuple[Path, dict[str, float]]]:
    """05's reports, newest first: (folder, {method: CIEDE2000})."""
    out = []
    for f in sorted(Path(reports).glob("*/metrics.csv"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            with open(f, newline="") as fh:
                scores = {r["method"]: float(r["ciede2000"]) for r in csv.DictReader(fh) if r.get("ciede2000")}
        except (OSError, KeyError, ValueError):
            continue  # not one of evaluate's tables: passed over
        out.append((f.parent, scores))
    return out


def _can_colorize(method: str) -> bool:
    """A scored method that can colour here: a run with those weights, a .keras file, the
    weights shipped, published ones (fetched when chosen)."""
    reg = registered(method)
    return method not in ("gray", "sepia") and (at_hand(method) or bool(reg and reg[1] == "official"))


def best_measured(reports="reports") -> tuple[str, str] | None:
    """(model, why) from the newest of 05's reports that scored a trained model; None without one."""
    for folder, scores in _reports(reports):
        usable = {m: s for m, s in scores.items() if _can_colorize(m)}
        if not any(not registered(m) for m in usable):
            continue
        best = min(usable, key=usable.get)
        others = ", ".join(f"{m} {s:.2f}" for m, s in sorted(scores.items(), key=lambda t: t[1]) if m != best)
        lost = [m for m in ("sepia", "gray") if m in scores and scores[m] <= usable[best]]
        why = (f"the lowest CIEDE2000 of the models 05 scored in {folder} ({usable[best]:.2f}; {others}; lower is better)"
               + (f"; but {' and '.join(lost)} scored as well or better: the model has learned little more than "
                  "the average colour of photos" if lost else ""))
        return best, why
    return None


def measured_behind(model: str, reports="reports") -> str | None:
    """What the newest report that scored ``model`` says against it: the baselines (sepia,
    gray) and models that scored better; None when none did or none was measured."""
    key = str(model).rstrip("/")
    for folder, scores in _reports(reports):
        mine = scores.get(key)
        if mine is None:
            continue
        better = [(m, s) for m, s in scores.items() if s < mine and (m in ("sepia", "gray") or _can_colorize(m))]
        if not better:
            return None
        return (f"05 measured {key} at CIEDE2000 {mine:.2f} in {folder}, behind "
                + ", ".join(f"{m} ({s:.2f})" for m, s in sorted(better, key=lambda t: t[1])))
    return None
