"""06's colours you know: the model that follows them, the worked example, and your own
photo's colours given by position on a grid of its pixels.

    from colorpast import photo_hints
    HINTS_MODEL, hints_model = photo_hints.hints_model("best")     # a reference and the model, or None, None
    photo = photo_hints.pick_photo("photos", None)
    photo_hints.colorize_with_points(photo, hints_model, [(120, 45, "sky blue")], "colorized")

Whatever the photo's size, the figures are made at display size and the full-resolution
result in uint8, in the photo's own memory (``colorizer.colorize_into``): a 300 MP scan
costs its pixels once, as ``colorpast colorize`` does (benchmarks/RESULTS.md, "Hints on
big scans: memory").

IPython and the modules that import Keras are imported inside the functions that use
them, as in ``colorpast.photos``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from colorpast.data import sources
from colorpast.fsutil import atomic_path
from colorpast.photofiles import find_images, output_path, read_image, unused_path
from colorpast.photos import DISPLAY_WIDTH, fit_width, grid_step

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
PANEL_WIDTH = DISPLAY_WIDTH // 3  # px: each of the three panels side by side


def hints_model(ref="best", smoke: bool = False, log=print):
    """``(reference, model)`` of the model that follows hints (``model_choice.for_hints``:
    ``ref``, else your newest hint run, else the one this project ships, else Zhang et al.
    2017's published network, fetched once), said in one line; ``(None, None)`` when none
    is at hand (offline, nothing trained), with one line saying what to do. In SMOKE mode
    a fresh, untrained ``seed16_hints`` (its colours mean nothing: it only runs the steps,
    offline), as ``(None, model)``."""
    from colorpast import models
    from colorpast.colorizer import load_model
    from colorpast.model_choice import for_hints

    if smoke:
        return None, models.build("seed16_hints")
    chosen = for_hints(ref, log=log)
    return chosen, (load_model(chosen) if chosen else None)


def example_photo(folder, smoke: bool = False, url: str = EXAMPLE_URL, log=print) -> Path | None:
    """The worked example's photo in ``folder``: the 1870s Sphinx, fetched once (about
    100 kB); in SMOKE mode, an embedded photo saved in black and white instead, offline.
    A failed fetch (offline) is one line naming the URL, and None."""
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

        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "colorpast"}),
                                        timeout=60) as resp:
                data = resp.read()
        except (urllib.error.URLError, OSError) as e:
            log(f"could not fetch the example photo {url} ({getattr(e, 'reason', e)}): run this cell again online "
                "to see it; your own photos below need no network")
            return None
        with atomic_path(dest) as tmp:
            tmp.write_bytes(data)
        log(f"fetched the example photo from {url}")
    return dest


def example_hints(photo, hints=EXAMPLE_HINTS) -> list[dict]:
    """``hints`` ((x, y) fractions and a colour) as points in ``photo``'s own pixels, the
    form ``colorize(..., hints=...)`` and ``--hints FILE`` take."""
    h, w = read_image(photo).shape[:2]
    return [{"x": min(w - 1, round(fx * w)), "y": min(h - 1, round(fy * h)), "color": c} for fx, fy, c in hints]


def show_hints_example(photo, model, hints, rgb=None, with_hints=None, shape=None):
    """Inline: the photo colorized on its own and with ``hints`` (points in the photo's
    pixels, marked on the gray copy as dots of their colour), side by side, each panel at
    most ``PANEL_WIDTH`` wide. ``rgb``: the photo already read, at any size (a display
    copy); ``shape``: the photo's own ``(H, W)`` when ``rgb`` is smaller; ``with_hints``:
    its colorization with the hints already made (any size). Returns the figure."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    from colorpast import hints as hint_tools
    from colorpast.colorizer import colorize, gray

    rgb = read_image(photo) if rgb is None else np.asarray(rgb)
    H, W = shape or rgb.shape[:2]
    small = fit_width(rgb, PANEL_WIDTH)
    h, w = small.shape[:2]
    scaled = [{**p, "x": p["x"] * w / W, "y": p["y"] * h / H} for p in hints]
    marked = np.clip(gray(small), 0, 1)
    r = max(2, round(min(h, w) / 80))
    for p in scaled:
        y, x = int(p["y"]), int(p["x"])
        marked[max(0, y - r): y + r + 1, max(0, x - r): x + r + 1] = hint_tools.parse_color(p["color"])
    hinted = colorize(small, model, hints=scaled) if with_hints is None else fit_width(with_hints, PANEL_WIDTH)
    panels = [("gray, with the hints", marked), ("on its own", colorize(small, model)),
              (f"with {len(hints)} hints", hinted)]
    fig, axes = plt.subplots(1, 3, figsize=(15, 15 * h / w / 3 + 0.6))
    for ax, (title, image) in zip(axes, panels):
        ax.imshow(image)
        ax.set_title(title)
        ax.axis("off")
    fig.tight_layout()
    display(fig)
    plt.close(fig)
    return fig


def show_example(folder="examples", model=None, smoke: bool = False, log=print):
    """06's worked example: its photo (fetched once) and twelve hints, shown with ``model``;
    with no model, or the photo not fetched (offline), one line and nothing shown. Returns
    the figure or None."""
    if model is None:
        log("the worked example is skipped: there is no model that takes colour hints (the line above says why)")
        return None
    photo = example_photo(folder, smoke=smoke, log=log)
    return None if photo is None else show_hints_example(photo, model, example_hints(photo))


# ------------------------------------------------------------------ your colours, by position


def pick_photo(folder, name=None, log=print) -> Path | None:
    """The photo of ``folder`` called ``name``: a path below ``folder`` (``upload-.../a.jpg``)
    or a file name; None, with one line, when none is. Without ``name``, the first photo.
    When several match (``a.jpg`` in two uploads), the first is taken and one line names
    it and the others."""
    folder = Path(folder)
    found = find_images([folder]) if folder.exists() else []
    if not found:
        log(f"no photo in {folder} to give colours to" + (f" (looked for {name!r})" if name else ""))
        return None
    if not name:
        chosen = found
    else:
        want = Path(str(name)).parts
        rel = {f: f.relative_to(folder).parts if f.is_relative_to(folder) else f.parts for f in found}
        chosen = [f for f in found if rel[f] == want] or [f for f in found if rel[f][-len(want):] == want]
        if not chosen:
            log(f"no photo {name!r} in {folder}; its photos: {', '.join(f.name for f in found[:8])}"
                + (f" and {len(found) - 8} more" if len(found) > 8 else ""))
            return None
    if len(chosen) > 1:
        others = ", ".join(str(f.relative_to(folder)) for f in chosen[1:6]) + (" ..." if len(chosen) > 6 else "")
        log(f"using {chosen[0].relative_to(folder)}, the first of {len(chosen)} photos" + (f" named {name!r}" if name else "")
            + f" (also: {others}); HINT_PHOTO names another by its path below {folder}")
    return chosen[0]


def show_grid(photo, width: int = DISPLAY_WIDTH // 2):
    """Inline: the photo in black and white with a grid labelled in its own pixels, to
    read positions off for hints (x to the right, y down, from the top-left corner).
    Returns the figure."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    from colorpast.colorizer import gray

    rgb = read_image(photo)
    h, w = rgb.shape[:2]
    shown = np.clip(gray(fit_width(rgb, width)), 0, 1)
    del rgb
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


def hints_path(photo, folder, out_dir) -> Path:
    """Where :func:`colorize_with_points` writes ``photo`` (found under ``folder``):
    ``out_dir/hints/`` with the photo's own place and name below it, as colorize's outputs
    have them (``a-jpg.png`` beside ``a-png.png``); a name already taken gets ``-2``,
    ``-3`` ..., so no result overwrites another."""
    return unused_path(output_path(photo, [folder] if folder else [], Path(out_dir) / "hints"))


def colorize_with_points(photo, model, points, out_dir, folder=None, log=print) -> Path | None:
    """Colour ``photo`` with ``points``: ``(x, y, colour)`` (x, y in the photo's pixels,
    the colour a name in plain words or a hex) or ``{"x", "y", "color"}`` dicts. Shows the
    points drawn on the gray photo, the automatic result and the one with the points side
    by side, and writes the full-resolution result (:func:`hints_path`; ``folder``: the
    photos' folder it was found in). A point outside the photo or a colour that does not
    parse is one line (UserError); with no model (None), one line says what to do."""
    from colorpast import hints as hint_tools
    from colorpast.colorizer import colorize_into, write_png
    from colorpast.model_choice import no_hints_model

    if model is None:
        log(f"your colours are not used: {no_hints_model()}")
        return None
    given = [p if isinstance(p, dict) else {"x": p[0], "y": p[1], "color": p[2]} for p in points]
    rgb = read_image(photo)
    shape = rgb.shape[:2]
    parsed = hint_tools.points(given, shape, source="POINTS")  # checked before any work
    small = fit_width(rgb, PANEL_WIDTH).copy()  # before the photo's own array becomes its colorized self
    bgr = colorize_into(rgb, model, hints=parsed, bgr=True)
    del rgb
    dest = write_png(bgr, hints_path(photo, folder, out_dir))
    shown = cv2.cvtColor(fit_width(bgr, PANEL_WIDTH), cv2.COLOR_BGR2RGB)
    del bgr
    show_hints_example(photo, model, given, rgb=small, with_hints=shown, shape=shape)
    log(f"{len(given)} colours given: {dest}")
    return dest
