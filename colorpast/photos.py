"""06's steps for your photos, which no CLI verb has: the folder, colorizing the new ones,
before and after, the download.

    from colorpast import photos
    folder = photos.photos_folder("photos", env)                  # on Colab: an upload every session
    written, failed = photos.colorize_new(folder, model, "colorized")

A second session finds the photos of the first in ``photos/`` and their colorized files
in ``colorized/``: it offers an upload again, colorizes only photos with no output yet
(``colorizer.colorize_paths(..., skip_done=True)``), shows those, and zips those. Which
model colours them is ``colorpast.model_choice``'s; the colours you know,
``colorpast.photo_hints``'.

The libraries only a notebook or Colab has (IPython, ipywidgets, google.colab) and the
modules that import Keras (colorizer, viz, model_choice) are imported inside the
functions that use them, as in ``colorpast.notebook``.
"""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from colorpast import notebook as _notebook
from colorpast.data import sources
from colorpast.fsutil import atomic_path
from colorpast.notebook import COLAB_LOCAL, Environment
from colorpast.photofiles import READABLE, find_images, not_photos

DISPLAY_WIDTH = 1600  # px: wider inline images only make the notebook heavy and scroll sideways


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
    """``image`` (``H x W [x C]``, uint8 or float) scaled down to at most ``width`` px wide, for
    display; uint8 out when it is scaled. Area averaging (OpenCV's INTER_AREA) straight from
    the array: a 300 MP scan costs no copy (Pillow's ``fromarray`` would hold it again in 4
    bytes a pixel, 1.2 GB)."""
    a = np.asarray(image)
    if a.shape[1] <= width:
        return a
    h = max(1, round(a.shape[0] * width / a.shape[1]))
    small = cv2.resize(a, (width, h), interpolation=cv2.INTER_AREA)
    small = small.reshape(h, width, *a.shape[2:])
    return small if small.dtype == np.uint8 else (np.clip(small, 0, 1) * 255).round().astype(np.uint8)


def grid_step(length: int) -> int:
    """A round step (1, 2 or 5 times a power of ten) that draws at most 10 grid lines along ``length`` px."""
    step = 1
    for exp in range(12):
        for m in (1, 2, 5):
            step = m * 10**exp
            if length / step <= 10:
                return step
    return step


def colorize_new(folder, model, out, size=None, redo: bool = False, normalize: bool = False, log=print):
    """06's Colorize step: the photos under ``folder`` with no output in ``out`` yet (all of
    them with ``redo``), by ``colorizer.colorize_paths``; returns (written, failed). With
    no model (``model`` None: offline, nothing trained) nothing is written, and one line
    says what to do."""
    from colorpast.colorizer import colorize_paths

    if model is None:
        log("nothing colorized: there is no model (the model's cell above says what to do)")
        return [], []
    written, failed = colorize_paths([folder], model, out, size=size, log=log, skip_done=not redo, normalize=normalize)
    log(f"{len(written)} colorized into {out}" + (f"; {len(failed)} unreadable" if failed else ""))
    return written, failed


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
