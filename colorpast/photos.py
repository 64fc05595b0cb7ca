"""06's steps, which no CLI verb has: the model to use, your photos, before and after, the download.

    from colorpast import photos
    model = photos.choose_model("runs/effunet-flickr30k")   # or colorful:official, fetched once
    folder = photos.photos_folder("photos", env)             # on Colab: an upload every session

A second session finds the photos of the first in ``photos/`` and their colorized files
in ``colorized/``: it offers an upload again, colorizes only photos with no output yet
(``colorizer.colorize_paths(..., skip_done=True)``), shows those, and zips those.

The libraries only a notebook or Colab has (IPython, ipywidgets, google.colab) and the
modules that import Keras (runs, weights, colorizer, viz) are imported inside the
functions that use them, as in ``colorpast.notebook``.
"""

from __future__ import annotations

import csv
import os
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from colorpast import notebook as _notebook
from colorpast.data import sources
from colorpast.fsutil import atomic_path
from colorpast.notebook import COLAB_LOCAL, Environment
from colorpast.photofiles import READABLE, find_images, not_photos, read_image

DISPLAY_WIDTH = 1600  # px: wider inline images only make the notebook heavy and scroll sideways


BEST = "best"  # 06's MODEL: the model 05 measured best, else the newest trained run, else Colorful
OFFICIAL = "colorful:official"


def choose_model(ref: str, fallback: str = OFFICIAL, log=print, reports="reports", runs_dir="runs") -> str:
    """The model 06 colorizes with, said in one line when it is not ``ref`` itself.

    ``ref = "best"``: the model with the lowest CIEDE2000 in the newest of 05's reports
    (``reports/*/metrics.csv``) that scored a trained run, among those that can colorize
    (runs with weights, Colorful's published weights); without such a report, the first
    of ``runs.trained_runs`` (an encoder's run first, then the newest); without a trained
    run, ``fallback``. Otherwise ``ref`` when it holds a model (a run folder with trained
    weights, a .keras file, ``NAME:official``), with a line when a report measured it
    behind sepia or another model, so a run that lost is never used in silence; else
    ``fallback``.

    So a first session, before any training, still colorizes: with Colorful's
    published weights, fetched (129 MB, once) when missing. A run folder that 04 left
    before its first checkpoint (a disconnect in the first epoch) has a config.json and
    no weights: it is passed over with one line, like a missing one.
    """
    from colorpast import runs

    if ref == BEST:
        measured = best_measured(reports)
        if measured is not None:
            chosen, why = measured
            log(f"using {chosen}: {why}")
        elif runs.trained_runs(runs_dir):
            chosen = str(runs.trained_runs(runs_dir)[0])
            log(f"using {chosen}, the trained run listed first (an encoder's run, then the newest); 05_evaluate has "
                "scored none yet: after it, this picks the best it measured")
        else:
            log(f"no trained run under {runs_dir}/ yet (04_train makes one): using {fallback}, Zhang et al.'s "
                "published weights")
            chosen = fallback
    elif ref and (held := _run_weights(ref)) is not None:  # runs/NAME:best, a relative or absolute path
        if not held:
            log(f"{ref}: the run has no such weights yet: using {fallback}, Zhang et al.'s published weights")
        chosen = ref if held else fallback
    elif ref and ":" in ref and not ref.startswith((".", "/")) and not Path(ref).exists():
        chosen = ref
    elif ref and Path(ref).is_dir():
        why = runs.missing_weights(ref)
        if why:
            log(f"{why}: using {fallback}, Zhang et al.'s published weights")
        chosen = fallback if why else ref
    elif ref and Path(ref).is_file():
        chosen = ref
    else:
        log(f"no trained model at {ref!r} (04_train makes one): using {fallback}, Zhang et al.'s published weights")
        chosen = fallback
    if ref != BEST and chosen == ref:
        behind = measured_behind(ref, reports)
        if behind:
            log(f"note: {behind}; MODEL = {BEST!r} takes the best 05 measured")
    if chosen == OFFICIAL:
        from colorpast import weights
        from colorpast.models import colorful

        if not (colorful.weights_dir() / colorful.OFFICIAL_WEIGHTS).is_file():
            log("fetching the official Colorful weights (129 MB, once)")
            weights.fetch("colorful")
    return chosen


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


def _run_weights(ref: str) -> bool | None:
    """For ``runs/NAME:best`` (``:last``, ``:final``), whether the run holds those weights;
    None for any other reference."""
    from colorpast import runs

    named = runs.named_weights(ref)
    return None if named is None else runs.has_weights(*named)


def _can_colorize(method: str) -> bool:
    """A scored method 06 can colorize with: a run with weights, a .keras file, Colorful's published weights."""
    from colorpast import runs

    if method == OFFICIAL:
        return True
    if (held := _run_weights(method)) is not None:
        return held
    p = Path(method)
    return (p.is_dir() and runs.missing_weights(p) is None) or (p.is_file() and p.suffix == ".keras")


def best_measured(reports="reports") -> tuple[str, str] | None:
    """(model, why) from the newest of 05's reports that scored a trained model; None without one."""
    for folder, scores in _reports(reports):
        usable = {m: s for m, s in scores.items() if _can_colorize(m)}
        if not any(m != OFFICIAL for m in usable):
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


def photos_folder(folder, env: Environment, smoke: bool = False, upload: bool = True, log=print) -> Path:
    """The folder of photos to colorize; on Colab, with ``upload``, first an upload button.

    On Colab the button opens every session (cancel it to add nothing), not only while
    the folder is empty, so the second day's photos get in. Each session's files go to a
    subfolder of their own (``folder/upload-YYYYmmdd-HHMMSS``), so one session's photos
    never overwrite another's; a cancelled upload leaves no folder. Locally, the folder is
    created and, while it has no photos, the message says where to put them. In SMOKE
    mode, into a folder with no photos, two embedded photos are saved in black and white.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if smoke:
        if not find_images([folder]):
            for p in sources.embedded_sample(["chelsea", "grace_hopper"]):
                with atomic_path(folder / f"{p.name}.png") as tmp:
                    Image.fromarray(p.rgb).convert("L").save(tmp)  # black and white, like an old print
    elif env.is_colab and upload:
        from google.colab import files

        session = folder / time.strftime("upload-%Y%m%d-%H%M%S")
        session.mkdir()
        here = Path.cwd()
        os.chdir(session)  # files.upload() saves into the current folder
        try:
            files.upload()
        finally:
            os.chdir(here)
        if not any(session.iterdir()):
            session.rmdir()  # cancelled: nothing new
    if not find_images([folder]):
        others = not_photos([folder])
        if others:
            log(f"{folder.resolve()} has no photos colorpast reads ({READABLE}); "
                + "; ".join(f"{f.name}: {why}" for f, why in others[:5]) + (f"; and {len(others) - 5} more" if len(others) > 5 else ""))
        else:
            log(f"{folder.resolve()} has no photos: " + (
                "run this cell again and pick some with the upload button" if env.is_colab else
                "put your photos there (any size, JPEG, PNG, TIFF, HEIC ...) and run this cell again"))
    return folder


def fit_width(image, width: int = DISPLAY_WIDTH):
    """``image`` (``H x W [x 3]``, uint8 or float) scaled down to at most ``width`` px wide, for display."""
    a = np.asarray(image)
    if a.shape[1] <= width:
        return a
    a8 = a if a.dtype == np.uint8 else (np.clip(a, 0, 1) * 255).round().astype(np.uint8)
    h = max(1, round(a.shape[0] * width / a.shape[1]))
    return np.asarray(Image.fromarray(a8).resize((width, h), Image.Resampling.LANCZOS, reducing_gap=3.0))


def show_before_after(before, after, name: str = "", width: int = DISPLAY_WIDTH, crop: int = 384):
    """Inline: before and after side by side at most ``width`` px wide in all, then a
    ``crop`` x ``crop`` detail of both at full resolution (one photo pixel per screen
    pixel). Returns the two figures."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    from colorpast import viz

    before, after = np.asarray(before), np.asarray(after)
    half = width // 2
    small = fit_width(before, half)
    figs = [viz.before_after(small, fit_width(after, half))]
    h, w = before.shape[:2]
    if w > half:  # the overview shrank the photo: a detail at full resolution shows what it lost
        c = min(crop, h, w)
        y, x = (h - c) // 2, (w - c) // 2
        figs.append(viz.before_after(before[y : y + c, x : x + c], after[y : y + c, x : x + c],
                                     labels=("before, detail 1:1", "after, detail 1:1")))
    if name:
        print(f"{name}: {w} x {h} px" + (f" (shown at {small.shape[1]} px wide)" if w > half else ""))
    for fig in figs:
        display(fig)
        plt.close(fig)
    return figs


def offer_download(folder, env: Environment, files=None, log=print) -> Path | None:
    """Zip ``files`` (default: everything in ``folder``); on Colab, show a button that downloads it.

    06 passes this session's new files, so a second session does not zip the first's
    again. On Colab the zip goes to the runtime's disk (``/content/colorpast``), not to
    Drive, where each session's zip would take quota; locally it lands beside ``folder``.
    A button, not a download started by the cell: a browser may block a download it did
    not see the user ask for, and "Run all" would start one at every run. Without
    ipywidgets (Colab has it) the download starts at once.
    """
    folder = Path(folder)
    chosen = [Path(f) for f in files] if files is not None else (
        sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else [])
    if not chosen:
        earlier = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
        if files is not None and earlier:  # a later session with no new photos: say where the earlier results are
            where = folder.resolve()
            drive = f" (in Google Drive: {where.relative_to(_notebook.COLAB_DRIVE / 'MyDrive')})" if where.is_relative_to(
                _notebook.COLAB_DRIVE / "MyDrive") else ""
            log(f"nothing new colorized; the {len(earlier)} colorized earlier are in {where}{drive}: "
                f"photos.offer_download({str(folder)!r}, env) in a new cell zips them all")
        else:
            log(f"nothing new colorized in {folder}: nothing to download" if files is not None
                else f"nothing colorized yet in {folder}: nothing to download")
        return None
    where = COLAB_LOCAL if env.is_colab else folder.parent
    where.mkdir(parents=True, exist_ok=True)
    with atomic_path(where / f"{folder.name}.zip") as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            for f in chosen:
                zf.write(f, f.relative_to(folder).as_posix())
    archive = where / f"{folder.name}.zip"
    log(f"full-resolution files in {folder.resolve()}; {'these ' if files is not None else 'all '}"
        f"{len(chosen)} in {archive.resolve()}")
    if env.is_colab:
        from google.colab import files as colab_files

        try:
            import ipywidgets
        except ImportError:
            colab_files.download(str(archive))
            return archive
        from IPython.display import display

        button = ipywidgets.Button(description=f"Download {archive.name} ({archive.stat().st_size / 1e6:.1f} MB)",
                                   icon="download", layout=ipywidgets.Layout(width="auto"))
        button.on_click(lambda _: colab_files.download(str(archive)))
        display(button)
    return archive


# ----------------------------------------------------------------- 06's worked example of hints

# The Great Sphinx and the pyramids of Giza, an albumen print of the 1870s (public domain),
# from DeOldify's test photos, at a fixed commit so that the file never changes under the
# hints below.
EXAMPLE_URL = ("https://raw.githubusercontent.com/jantic/DeOldify/449e2756aa0e62d52fc99d8cc195afebd5ade7e6/"
               "test_images/1870sSphinx.jpg")
# What anyone knows of that scene, as (x, y) fractions of the photo's width and height: a
# blue sky (six points), the sand (three) and the limestone of the Sphinx and the pyramid.
EXAMPLE_HINTS = [(0.06, 0.08, "#8cb4e0"), (0.25, 0.06, "#8cb4e0"), (0.20, 0.28, "#8cb4e0"),
                 (0.55, 0.05, "#8cb4e0"), (0.70, 0.10, "#8cb4e0"), (0.96, 0.12, "#8cb4e0"),
                 (0.06, 0.68, "#d9b98a"), (0.80, 0.86, "#d9b98a"), (0.55, 0.95, "#d9b98a"),
                 (0.42, 0.56, "#c8a26e"), (0.47, 0.22, "#c8a26e"), (0.84, 0.32, "#c8a26e")]


def example_photo(folder, smoke: bool = False, url: str = EXAMPLE_URL, log=print) -> Path:
    """The worked example's photo in ``folder``: the 1870s Sphinx, fetched once (about
    100 kB); in SMOKE mode, an embedded photo saved in black and white instead, offline.
    A failed fetch is one line (UserError) naming the URL."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if smoke:
        dest = folder / "astronaut-bw.png"
        if not dest.is_file():
            (p,) = sources.embedded_sample(["astronaut"])
            with atomic_path(dest) as tmp:
                Image.fromarray(p.rgb).convert("L").save(tmp)
        return dest
    dest = folder / url.rsplit("/", 1)[-1]
    if not dest.is_file():
        import urllib.error
        import urllib.request

        from colorpast.errors import UserError

        log(f"fetching the example photo from {url}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "colorpast"}),
                                        timeout=60) as resp:
                data = resp.read()
        except (urllib.error.URLError, OSError) as e:
            raise UserError(f"could not fetch the example photo {url}: {getattr(e, 'reason', e)}") from None
        with atomic_path(dest) as tmp:
            tmp.write_bytes(data)
    return dest


def example_hints(photo, hints=EXAMPLE_HINTS) -> list[dict]:
    """``hints`` ((x, y) fractions and a colour) as points in ``photo``'s own pixels, the
    form ``colorize(..., hints=...)`` and ``--hints FILE`` take."""
    h, w = read_image(photo).shape[:2]
    return [{"x": min(w - 1, round(fx * w)), "y": min(h - 1, round(fy * h)), "color": c} for fx, fy, c in hints]


HINTS_OFFICIAL = "siggraph17:official"


def official_hints_ready(fetch: bool = True, log=print) -> bool:
    """Whether Zhang et al. 2017's published weights are on disk; with ``fetch``, fetched
    first when missing (137 MB, once). Offline, one line says what to do and False."""
    from colorpast import weights
    from colorpast.errors import UserError
    from colorpast.models import siggraph17

    if (siggraph17.weights_dir() / siggraph17.OFFICIAL_WEIGHTS).is_file():
        return True
    if not fetch:
        return False
    log("fetching Zhang et al. 2017's published weights for hints (137 MB, once)")
    try:
        weights.fetch("siggraph17")
    except UserError as e:
        log(f"{e}; hints need a model that takes them: run this cell again online, or train one with 04_train "
            '(MODEL = "seed16_hints")')
        return False
    return True


def hints_model(ref, smoke: bool = False, log=print):
    """A model that takes hints for the worked example and 06's hints cell: ``ref`` when it
    is a trained run or file of one; otherwise Zhang et al. 2017's published network
    (``siggraph17:official``, fetched once), said in one line; in SMOKE mode a fresh,
    untrained ``seed16_hints`` (its colours mean nothing: it only runs the steps, offline).
    None only when neither is at hand (offline, nothing trained), with one line."""
    from colorpast import models, runs
    from colorpast.colorizer import load_model

    if smoke:
        return models.build("seed16_hints")
    if ref and (Path(ref).is_file() or (Path(ref).is_dir() and not runs.missing_weights(ref)) or _run_weights(ref)):
        model = load_model(str(ref))
        if models.spec(model).hints:
            return model
    log(f"no trained model that takes hints at {ref!r}: using {HINTS_OFFICIAL}, Zhang et al. 2017's published "
        "network (04_train with MODEL = \"seed16_hints\" trains your own)")
    return load_model(HINTS_OFFICIAL) if official_hints_ready(log=log) else None


def show_hints_example(photo, model, hints, log=print, rgb=None, with_hints=None):
    """Inline: the photo, colorized on its own and with ``hints`` (marked on the gray
    copy as dots of their colour), side by side. Returns the figure. ``rgb``: the photo
    already read; ``with_hints``: its colorization with the hints already made."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    from colorpast import hints as hint_tools
    from colorpast.colorizer import colorize, gray

    rgb = read_image(photo) if rgb is None else rgb
    marked = np.clip(gray(rgb), 0, 1)
    r = max(2, round(min(rgb.shape[:2]) / 80))
    for p in hints:
        y0, x0 = max(0, p["y"] - r), max(0, p["x"] - r)
        marked[y0 : p["y"] + r + 1, x0 : p["x"] + r + 1] = hint_tools.parse_color(p["color"])
    panels = [("gray, with the hints", marked), ("on its own", colorize(rgb, model)),
              (f"with {len(hints)} hints", colorize(rgb, model, hints=hints) if with_hints is None else with_hints)]
    h, w = rgb.shape[:2]
    fig, axes = plt.subplots(1, 3, figsize=(15, 15 * h / w / 3 + 0.6))
    for ax, (title, image) in zip(axes, panels):
        ax.imshow(fit_width(image, DISPLAY_WIDTH // 3))
        ax.set_title(title)
        ax.axis("off")
    fig.tight_layout()
    display(fig)
    plt.close(fig)
    return fig


# ------------------------------------------------------------------ your colours, by position


def grid_step(length: int) -> int:
    """A round step (1, 2 or 5 times a power of ten) that draws at most 10 grid lines along ``length`` px."""
    step = 1
    for exp in range(12):
        for m in (1, 2, 5):
            step = m * 10**exp
            if length / step <= 10:
                return step
    return step


def pick_photo(folder, name=None, log=print) -> Path | None:
    """The photo of ``folder`` called ``name`` (a file name or a path below it), else the
    first one; None, with one line, when there is none."""
    found = find_images([folder]) if Path(folder).exists() else []
    if name:
        chosen = [f for f in found if f.name == name or str(f).endswith(str(name))]
        if not chosen:
            log(f"no photo {name!r} in {folder}; its photos: {', '.join(f.name for f in found[:8]) or 'none'}")
            return None
        return chosen[0]
    if not found:
        log(f"no photo in {folder} to give colours to")
        return None
    return found[0]


def show_grid(photo, width: int = DISPLAY_WIDTH // 2):
    """Inline: the photo in black and white with a grid labelled in its own pixels, to
    read positions off for hints (x to the right, y down, from the top-left corner).
    Returns the figure."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    from colorpast.colorizer import gray

    rgb = read_image(photo)
    h, w = rgb.shape[:2]
    shown = fit_width(np.clip(gray(rgb), 0, 1), width)
    step = grid_step(max(h, w))
    fig, ax = plt.subplots(figsize=(width / 100 + 0.8, width / 100 * h / w + 0.8), dpi=100)
    ax.imshow(shown, extent=(0, w, h, 0), interpolation="antialiased")
    ax.set_xticks(range(0, w + 1, step))
    ax.set_yticks(range(0, h + 1, step))
    ax.grid(color="#ffd23f", alpha=0.6, linewidth=0.7)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.set_title(f"{Path(photo).name}: {w} x {h} px", pad=28)
    fig.tight_layout()
    display(fig)
    plt.close(fig)
    return fig


def colorize_with_points(photo, model, points, out_dir, log=print) -> Path:
    """Colour ``photo`` with ``points``: ``(x, y, colour)`` (x, y in the photo's pixels,
    the colour a name in plain words or a hex) or ``{"x", "y", "color"}`` dicts. Shows the
    points drawn on the gray photo, the automatic result and the one with the points side
    by side, and writes the full-resolution result as ``out_dir/<name>-hints.png``. A
    point outside the photo or a colour that does not parse is one line (UserError)."""
    from colorpast import hints as hint_tools
    from colorpast.colorizer import colorize

    given = [p if isinstance(p, dict) else {"x": p[0], "y": p[1], "color": p[2]} for p in points]
    rgb = read_image(photo)
    parsed = hint_tools.points(given, rgb.shape[:2], source="POINTS")  # checked before any work
    out = colorize(rgb, model, hints=parsed)
    show_hints_example(photo, model, given, rgb=rgb, with_hints=out)
    dest = Path(out_dir) / f"{Path(photo).stem}-hints.png"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dest) as tmp:
        Image.fromarray(np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)).save(tmp)
    log(f"{len(given)} colours given: {dest}")
    return dest
