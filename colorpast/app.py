"""``colorpast app``: a local web page to colorize a photo and paint the colours you know.

Drop in a photo and it is colorized at once, shown before (its gray L) and after on a
slider. Then paint colour strokes on the gray copy (a sky blue, a red coat, a neutral
gray for a white shirt), or upload hints made elsewhere (a scribble PNG the photo's size,
or a JSON list of points, as ``colorpast colorize --hints`` takes them), and press
Colorize again: a model that takes hints (``seed16_hints``) follows them. The
full-resolution PNG is a download.

The page follows the Gradio-demo convention: one function from inputs to outputs
(:func:`colorize_photo`), wrapped in a small Blocks layout by :func:`build`. What
matters is here, testable without a browser or Gradio: turning the editor's strokes
into a scribble the photo's size (:func:`strokes_to_scribble`), listing the models
(:func:`model_choices`), choosing one at start-up (:func:`startup_model`) and writing
the result (:func:`write_png`).

Gradio is an optional extra (``pip install "colorpast[app]"``), imported inside
:func:`gradio` alone. It is imported with its analytics off, and the app is never
shared through a public link, so starting it touches no network.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from colorpast import colorizer, hints as hint_tools, models, photofiles, photos, runs
from colorpast.errors import UserError, say
from colorpast.fsutil import atomic_path
from colorpast.models import colorful
from colorpast.runs import trained_runs  # noqa: F401 - the model chooser's order, also app.trained_runs

OFFICIAL = "colorful:official"
INSTALL = 'the app needs Gradio: pip install "colorpast[app]"'


def no_model() -> str:
    """What to do when there is no model at all, in the words of whoever started the app."""
    return "no model to colorize with: " + say(
        "train one (colorpast train --model seed16_hints ...), or run 'colorpast weights fetch colorful' "
        "while online, then start the app again",
        "train one in 04_train, or run this notebook once while online (it fetches Colorful's published "
        "weights), then run the app's cell again")


# Brush colours offered first (any other is one click away). Only a colour's a and b
# count (colorpast.hints keeps the photo's own L), so the gray is "no colour here".
PALETTE = [
    "#4a7fc1",  # sky, water
    "#3d7a2e",  # leaves, grass
    "#e0ac8c",  # skin
    "#7a4e2d",  # hair, wood, earth
    "#b22234",  # a red coat, a flag
    "#e8c547",  # yellow
    "#808080",  # neutral: white shirts, gray stone
]
BRUSH_PX = 16  # at the editor's 1,600 px width: about 2 px at the model's 224 px working size
PNG_COMPRESSION = 1  # zlib level: 1 writes a megapixel in a quarter of the time 6 takes, files 10-20 % larger


def gradio():
    """The ``gradio`` module, imported with its analytics off; a one-line UserError
    naming the extra to install when it is absent."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read once, at import: no version check, no telemetry
    try:
        import gradio as gr
    except ImportError:
        raise UserError(INSTALL) from None
    from colorpast.notebook import in_colab

    if colab_broken(gr.__version__) and in_colab():
        raise UserError(f"Gradio {gr.__version__} cannot show the app inside Colab (it loops on \"Connection to the "
                        "server was lost\", Gradio's issue 13629, fixed in 6.27): run Setup again, which installs "
                        "a newer one, then Runtime > Restart session")
    return gr


# Gradio 6.4.0 to 6.26.x lose the page behind Colab's proxy (issue 13629: bisected there,
# from 6.3.0 working to 6.4.0 broken; fixed by pull request 13800 in 6.27.0, per Gradio's
# CHANGELOG); Colab preinstalled 6.19 from June 2026. The app extra asks for 6.31 or later.
COLAB_BROKEN = ((6, 4), (6, 27))


def colab_broken(version: str) -> bool:
    """Whether this Gradio version is one that loops behind Colab's proxy."""
    try:
        v = tuple(int(x) for x in version.split(".")[:2])
    except ValueError:
        return False
    return COLAB_BROKEN[0] <= v < COLAB_BROKEN[1]


# ----------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Choice:
    """A model the page offers: ``ref`` as ``load_model`` takes it, ``label`` as shown."""

    ref: str
    label: str


def _run_label(run: Path) -> str:
    try:
        name = json.loads((run / "config.json").read_text()).get("model", "?")
    except (OSError, ValueError):
        name = "?"
    return f"{run} ({name}, takes hints)" if name in _hint_models() else f"{run} ({name})"


def _hint_models() -> set[str]:
    return {n for n in models.names() if models.spec(n).hints}


def takes_hints(ref: str | None) -> bool:
    """Whether the model ``ref`` (a run folder, ``NAME:official``, a .keras file) follows colour hints."""
    if not ref:
        return False
    named = runs.named_weights(ref)  # runs/NAME:best: the run's model, whichever weights
    p = named[0] if named else Path(ref)
    if p.is_dir():
        try:
            return json.loads((p / "config.json").read_text()).get("model") in _hint_models()
        except (OSError, ValueError):
            return False
    if ":" in ref and not p.exists():
        return ref.split(":")[0] in _hint_models()
    try:
        return bool(models.spec(load_model(ref)).hints)
    except UserError:
        return False


def notice(ref: str | None) -> str:
    """What the page says above everything about its model: nothing when the model follows
    hints; that the brush is off when it does not; what to do when there is no model."""
    if not ref:
        return f"**No model yet.** {no_model()[0].upper()}{no_model()[1:]}."
    if takes_hints(ref):
        return ""
    if photos.official_hints_ready(fetch=False):
        return (f"**{ref} takes no colour hints: painting is off.** It colorizes on its own; to paint the "
                f"colours you know, choose {photos.HINTS_OFFICIAL} (Zhang et al. 2017's published model) above.")
    return (f"**{ref} takes no colour hints: painting is off.** It colorizes on its own; a model that "
            "follows painted colours is Zhang et al. 2017's published one ("
            + say("colorpast weights fetch siggraph17, once, online", "run 06's hints cell once, online")
            + ") or a run of seed16_hints or effunet_hints ("
            + say("colorpast train --model seed16_hints", '04_train with MODEL = "seed16_hints"') + ").")


def official_weights_present() -> bool:
    return (colorful.weights_dir() / colorful.OFFICIAL_WEIGHTS).is_file()


def model_choices(runs_dir, given: str | None = None) -> list[Choice]:
    """What the model chooser offers: ``given`` (``--model``) first, then every trained
    run under ``runs_dir`` (``trained_runs``' order: effunet's family first, then newest
    first), then ``colorful:official`` when its weights are on disk (Zhang et al. 2016's published network; it takes no hints)."""
    out = []
    if given:
        out.append(Choice(given, f"{given} ({say('--model', 'MODEL')})"))
    for run in trained_runs(runs_dir):
        if not given or Path(given).resolve() != run.resolve():
            out.append(Choice(str(run), _run_label(run)))
    if given != OFFICIAL and official_weights_present():
        out.append(Choice(OFFICIAL, f"{OFFICIAL} (Zhang et al. 2016, no hints)"))
    if given != photos.HINTS_OFFICIAL and photos.official_hints_ready(fetch=False):
        out.append(Choice(photos.HINTS_OFFICIAL, f"{photos.HINTS_OFFICIAL} (Zhang et al. 2017, takes hints)"))
    return out


def startup_model(given: str | None, runs_dir, log=print) -> str | None:
    """The model the page starts with: ``given``, else the first of ``trained_runs`` (the
    newest run of a model with an ImageNet-trained encoder, else the newest run), else
    ``colorful:official``, its weights fetched once (129 MB) as notebook 06 does.

    Offline, with nothing trained, the fetch fails: that is said in one line and None
    returned, so the page still opens and says what to do when Colorize is pressed.
    """
    if given:
        return photos.choose_model(given, log=log) if given == OFFICIAL else given
    found = trained_runs(runs_dir)
    if found:
        return str(found[0])
    log(f"no trained model under {runs_dir}/ (colorpast train makes one): using {OFFICIAL}, "
        "Zhang et al.'s published weights")
    try:
        return photos.choose_model(OFFICIAL, log=log)
    except UserError as e:
        log(f"{e}; starting without a model: {no_model()}")
        return None


# Loaded models, kept: switching back and forth in the chooser does not reload them.
load_model = functools.lru_cache(maxsize=2)(colorizer.load_model)


# ------------------------------------------------------------------------------ hints


def _over(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """``top`` composited over ``bottom``, both ``H x W x 4`` float RGBA in [0, 1]."""
    at, ab = top[..., 3:], bottom[..., 3:]
    a = at + ab * (1.0 - at)
    rgb = (top[..., :3] * at + bottom[..., :3] * ab * (1.0 - at)) / np.maximum(a, 1e-6)
    return np.concatenate([rgb, a], axis=-1)


def strokes_to_scribble(layers, shape) -> np.ndarray | None:
    """The editor's stroke layers -> a scribble: ``H x W x 4`` uint8 RGBA at the photo's
    ``shape`` (H, W), strokes on transparency, as ``colorpast.hints`` reads it; None
    when nothing is painted.

    ``layers``: the editor's value (``{"layers": [...], ...}``) or its list of layers,
    each ``h x w x 4`` uint8 at the size of the editor's canvas, which shows a copy of
    the photo at most ``photos.DISPLAY_WIDTH`` wide. The strokes are scaled to the
    photo's size with their colour premultiplied by opacity, so a stroke's soft edge
    keeps its colour and only fades.
    """
    if isinstance(layers, dict):
        layers = layers.get("layers") or []
    arrays = [np.asarray(x) for x in (layers or []) if x is not None]
    arrays = [a for a in arrays if a.ndim == 3 and a.shape[-1] == 4 and a[..., 3].any()]
    if not arrays:
        return None
    h, w = arrays[0].shape[:2]
    acc = np.zeros((h, w, 4), np.float32)
    for a in arrays:  # bottom layer first, as the editor stacks them
        if a.shape[:2] != (h, w):
            a = cv2.resize(a, (w, h), interpolation=cv2.INTER_NEAREST)
        acc = _over(a.astype(np.float32) / 255.0, acc)
    H, W = shape
    pre = np.concatenate([acc[..., :3] * acc[..., 3:], acc[..., 3:]], axis=-1)
    if (h, w) != (H, W):
        pre = cv2.resize(pre, (W, H), interpolation=cv2.INTER_AREA if H * W < h * w else cv2.INTER_LINEAR)
        pre = pre.reshape(H, W, 4)
    alpha = pre[..., 3:]
    rgb = np.where(alpha > 1e-6, pre[..., :3] / np.maximum(alpha, 1e-6), 0.0)
    return np.clip(np.rint(np.concatenate([rgb, alpha], axis=-1) * 255), 0, 255).astype(np.uint8)


def hints_for(shape, strokes=None, hints_file=None) -> hint_tools.Hints | None:
    """The photo's hints: painted strokes (a scribble from :func:`strokes_to_scribble`)
    and/or an uploaded hints file (a scribble PNG or a JSON list of points); where both
    colour a pixel, the painted stroke wins. None when there are neither."""
    given = hint_tools.load(hints_file, shape) if hints_file else None
    painted = hint_tools.scribble(strokes, shape, source="the painted strokes") if strokes is not None else None
    if given is None or painted is None:
        return painted if given is None else given
    s = painted.scribble if given.scribble is None else np.where(
        painted.scribble[..., 2:] > 0, painted.scribble, given.scribble)
    return hint_tools.Hints(tuple(shape), points=given.points, scribble=s)


# ----------------------------------------------------------------------------- result


def to_uint8(rgb) -> np.ndarray:
    """Float RGB in [0, 1] -> uint8, rounded."""
    return np.clip(np.rint(np.asarray(rgb) * 255), 0, 255).astype(np.uint8)


def write_png(rgb, path) -> Path:
    """Write ``H x W x 3`` float RGB in [0, 1] as a PNG, atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Image.fromarray(to_uint8(rgb)).save(tmp, format="PNG", compress_level=PNG_COMPRESSION)
    return path


def gray_copy(photo) -> np.ndarray:
    """What the page shows of a photo before colorizing: its L alone (ab = 0), at most
    ``photos.DISPLAY_WIDTH`` wide, uint8. The canvas for painting hints on, too."""
    rgb = photofiles.read_image(photo) if isinstance(photo, (str, Path)) else np.asarray(photo)
    return to_uint8(colorizer.gray(photos.fit_width(rgb)))


def gray_copy_of_file(photo) -> np.ndarray:
    """:func:`gray_copy` of a photo file, remembered (read-only): the page shows it on
    upload and beside every result, and it takes 0.2 s a megapixel (benchmarks/RESULTS.md)."""
    p = Path(photo).resolve()
    return _gray_copy_file(str(p), p.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _gray_copy_file(path: str, mtime_ns: int) -> np.ndarray:
    a = gray_copy(path)
    a.setflags(write=False)
    return a


@dataclass
class Result:
    before: np.ndarray  # h x w x 3 uint8: the gray photo, at most DISPLAY_WIDTH wide
    after: np.ndarray  # h x w x 3 uint8: the colorized photo, the same size
    png: Path  # the full-resolution colorized photo
    message: str


def colorize_photo(photo, model, out_dir, strokes=None, hints_file=None, model_ref: str = "",
                   normalize: bool = False, saturation: float = 1.0) -> Result:
    """The page's one function: a photo file, a model, the editor's strokes and an
    optional hints file -> before and after for display, and the full-resolution PNG
    in ``out_dir`` (``NAME_colorized.png``). ``normalize`` and ``saturation`` are
    :func:`colorpast.colorizer.colorize`'s (a faded print; colour strength). Mistakes
    raise UserError (one line)."""
    rgb = photofiles.read_image(photo)
    shape = rgb.shape[:2]
    painted = strokes_to_scribble(strokes, shape)
    given = hints_for(shape, painted, hints_file)
    start = time.perf_counter()
    out = colorizer.colorize(rgb, model, hints=given, normalize=bool(normalize), saturation=float(saturation))
    seconds = time.perf_counter() - start
    png = write_png(out, Path(out_dir) / f"{Path(photo).stem}_colorized.png")
    sources = (["your painted colours"] if painted is not None else []) + (
        [f"the hints in {Path(hints_file).name}"] if hints_file else [])
    what = "with " + " and ".join(sources) if sources else "without hints"
    message = (f"{shape[1]} x {shape[0]} px colorized {what} in {seconds:.1f} s"
               + (f" by {model_ref}" if model_ref else "") + f"; full resolution: {png.name}")
    return Result(gray_copy_of_file(photo), to_uint8(photos.fit_width(out)), png, message)


# -------------------------------------------------------------------------------- page


def theme(gr):
    """Gradio's default theme with the system's fonts: its own loads Google Fonts, which
    an offline machine cannot reach (the page would wait on them)."""
    return gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])




def build(runs_dir, out_dir, given: str | None = None, default: str | None = None):
    """The Gradio Blocks page. ``out_dir``: where full-resolution results are written;
    ``given``: ``--model``; ``default``: the model chosen at start-up (:func:`startup_model`)."""
    gr = gradio()
    out_dir = Path(out_dir)
    photofiles.heif_readable()  # Gradio reads dropped files with Pillow: HEIC too, once pillow-heif's opener is in

    def choices():
        return [(c.label, c.ref) for c in model_choices(runs_dir, given)]

    def show_photo(photo):
        """A new photo: its gray copy becomes the canvas, earlier results go."""
        if photo is None:
            return None, None, None, ""
        try:
            canvas = gray_copy_of_file(photo)
        except UserError as e:
            raise gr.Error(str(e)) from None
        return {"background": canvas, "layers": [], "composite": None}, None, None, ""

    def colorize_event(photo, strokes, hints_file, model_ref, normalize, saturation):
        if photo is None:
            raise gr.Error("Drop a photo in first.")
        if not model_ref:
            raise gr.Error(no_model())
        try:
            r = colorize_photo(photo, load_model(model_ref), out_dir, strokes=strokes, hints_file=hints_file,
                               model_ref=model_ref, normalize=normalize, saturation=saturation)
        except UserError as e:
            raise gr.Error(str(e)) from None
        return (r.before, r.after), str(r.png), r.message

    def model_changed(model_ref):
        """The brush only where it does something: a model that takes no hints turns it off, and says so."""
        return gr.update(interactive=takes_hints(model_ref)), notice(model_ref)

    def on_load(model_ref):
        """Runs trained since the page started appear; with no model chosen yet, the first of them."""
        found = choices()
        ref = model_ref or (found[0][1] if found else None)
        return gr.Dropdown(choices=found, value=ref), gr.update(interactive=takes_hints(ref)), notice(ref)

    # Gradio keeps every upload and result in its own cache: files older than a day go every
    # hour, and all of them when the page starts again.
    with gr.Blocks(title="colorpast", analytics_enabled=False, delete_cache=(3600, 86400)) as page:
        gr.Markdown("# colorpast\nDrop in a black-and-white photo: it is colorized at once. Then paint the "
                    "colours you know on the gray copy (only their hue counts; gray means *no colour here*), "
                    "or upload hints, and press **Colorize** again.")
        note = gr.Markdown(notice(default), elem_id="notice")
        with gr.Row():
            with gr.Column():
                photo = gr.Image(label="1. Your photo", type="filepath", image_mode=None, sources=["upload"],
                                 elem_id="photo", height=260)
                editor = gr.ImageEditor(
                    label="2. Paint the colours you know", type="numpy", image_mode="RGBA", format="png",
                    sources=[], transforms=[], layers=False, elem_id="editor", height=440, interactive=takes_hints(default),
                    brush=gr.Brush(colors=PALETTE, default_color=PALETTE[0], default_size=BRUSH_PX,
                                   color_mode="defaults"))
                hints_file = gr.File(label="or upload hints: a scribble PNG the photo's size, or a JSON list "
                                           'of points [{"x": 120, "y": 45, "color": "#b22234"}]',
                                     file_types=[".png", ".json"], type="filepath", elem_id="hints-file", height=110)
            with gr.Column():
                model = gr.Dropdown(choices=choices(), value=default, label="Model", elem_id="model",
                                    info="trained runs, effunet's first, then newest; only a model that takes hints follows them")
                with gr.Row():
                    normalize = gr.Checkbox(value=True, label="Faded old print", elem_id="normalize",
                                            info="the model sees its contrast restored; the photo keeps its own")
                    saturation = gr.Slider(0.5, 2.0, value=1.0, step=0.1, label="Colour strength",
                                           elem_id="saturation", info="above 1: bolder, less accurate colours")
                go = gr.Button("Colorize", variant="primary", elem_id="colorize")
                slider = gr.ImageSlider(label="Before / after", elem_id="before-after", max_height=640)
                status = gr.Markdown(elem_id="status")
                download = gr.File(label="Full-resolution PNG", elem_id="download", height=110)
        inputs = [photo, editor, hints_file, model, normalize, saturation]
        outputs = [slider, download, status]
        photo.upload(show_photo, photo, [editor, slider, download, status]).then(colorize_event, inputs, outputs)
        photo.clear(show_photo, photo, [editor, slider, download, status])
        go.click(colorize_event, inputs, outputs)
        model.change(model_changed, model, [editor, note])
        page.load(on_load, model, [model, editor, note])
    return page


# Chromium on Linux gives an iPhone's IMG_0001.HEIC (the suffix in capitals) no type, and
# Gradio's photo box, which takes "image/*", then drops it without a word (a lower-case
# .heic is typed image/heic and goes through). Before Gradio sees a picked or dropped
# file, one named .heic/.heif with no type gets image/heic; the server reads it with
# pillow-heif (registered in build). Tested in Chromium (tests/test_app.py).
HEIC_TYPE_JS = """<script>
(() => {
  const untyped = (f) => !f.type && /\\.(heic|heif)$/i.test(f.name);
  const typed = (files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      dt.items.add(untyped(f) ? new File([f], f.name, {type: "image/heic", lastModified: f.lastModified}) : f);
    }
    return dt;
  };
  document.addEventListener("change", (e) => {
    const input = e.target;
    if (input instanceof HTMLInputElement && input.type === "file" && [...(input.files || [])].some(untyped)) {
      input.files = typed(input.files).files;
    }
  }, true);
  document.addEventListener("drop", (e) => {
    if (e.colorpastTyped || !e.dataTransfer || ![...e.dataTransfer.files].some(untyped)) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    const again = new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: typed(e.dataTransfer.files)});
    again.colorpastTyped = true;
    e.target.dispatchEvent(again);
  }, true);
})();
</script>"""
INLINE_HEIGHT = 1150  # px: the page's two columns inline in a notebook (Gradio's default, 500, cuts them)
_running: list = []  # the page a notebook cell started, closed when the cell runs again


def launch(port: int | None = 7860, host: str = "127.0.0.1", model: str | None = None, runs_dir="runs",
           out_dir=None, block: bool = True, log=print):
    """Start the page on ``host:port``; with ``block``, serve until Ctrl-C, which stops
    it at any point, start-up included (exit status 0: it is how a server is stopped).

    Results go to ``out_dir``, by default a temporary folder removed when the page stops
    (each is downloaded from the page). Returns the running Blocks when ``block`` is
    False (tests; call ``.close()``). A port in use or a ``--model`` that does not load
    is a one-line UserError. ``port=None``: the first free one from 7860 (notebook 06).

    In a notebook (``block`` False), the page shows inline below the cell, tall enough for
    its two columns, through Colab's or Jupyter's own proxy; no address is printed (the
    local one is wrong there), and running the cell again closes the page it started
    before starting the new one.
    """
    gr = gradio()
    temporary = out_dir is None and block
    out_dir = Path(tempfile.mkdtemp(prefix="colorpast-app-") if out_dir is None else out_dir)
    page = None
    if not block:
        while _running:  # the cell run again: one server, not two
            _running.pop().close()
    try:
        default = startup_model(model, runs_dir, log=log)
        if model:
            load_model(model)  # a bad --model stops here, in one line, not at the first click
        page = build(runs_dir, out_dir, given=model, default=default)
        try:
            page.launch(server_name=host, server_port=port, share=False, prevent_thread_lock=True, quiet=True,
                        show_error=True, ssr_mode=False, mcp_server=False, pwa=False, theme=theme(gr),
                        height=INLINE_HEIGHT, head=HEIC_TYPE_JS)
        except OSError as e:
            page = None
            raise UserError(f"cannot listen on {host}:{port} ({e.strerror or 'in use'}): choose another --port") from None
        if not block:
            _running.append(page)
            log(f"colorpast app: below (model: {default or 'none'}); it runs until the runtime stops, and running "
                "this cell again starts it afresh")
            return page
        log(f"colorpast app: open http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{page.server_port} "
            f"in a browser (model: {default or 'none'}); Ctrl-C stops it")
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        log("colorpast app: stopped")
    finally:
        if block and page is not None:
            page.close()
        if temporary:
            shutil.rmtree(out_dir, ignore_errors=True)
    return None
