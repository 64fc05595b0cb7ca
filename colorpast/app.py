"""``colorpast app``: a local web page to colorize a photo and paint the colours you know.

Drop in a photo and it is colorized at once, shown before (its gray L) and after on a
slider. Then, with a model that takes hints, paint colour strokes on the gray copy (a sky
blue, a red coat, a neutral gray for a white shirt), or upload hints made elsewhere (a
scribble PNG the photo's size, or a JSON list of points, as ``colorpast colorize --hints``
takes them), and press Colorize again. With a model that takes none, the paint box says
so and which model does. The full-resolution PNG is a download.

The page follows the Gradio-demo convention: one function from inputs to outputs
(``app_photo.colorize_photo``, where the work on a photo lives, testable without a
browser or Gradio), wrapped in a small Blocks layout by :func:`build`. Here: the models
the page offers (:func:`model_choices`, :func:`startup_model`, in ``model_choice``'s
order), what it says about them (:func:`notice`, :func:`paint_off`), the page and its
start.

Gradio is an optional extra (``pip install "colorpast[app]"``), imported inside
:func:`gradio` alone. It is imported with its analytics off, and the app is never
shared through a public link, so starting it touches no network.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from colorpast import app_photo, colorizer, model_choice, models, photofiles, runs, weights
from colorpast.errors import UserError

INSTALL = 'the app needs Gradio: pip install "colorpast[app]"'

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
LIMIT = f"any photo up to {photofiles.MAX_PIXELS // 1_000_000} MP: JPEG, PNG, TIFF, WebP, HEIC ..."


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


def _label(ref: str) -> str:
    """What the chooser shows of ``ref``: its model, who made it, whether it takes hints."""
    name = model_choice.model_name(ref) or "?"
    hints = ", takes hints" if model_choice.takes_hints(ref) else ", no hints"
    kind = (model_choice.registered(ref) or (None, None))[1]
    if kind == "official":
        return f"{ref} ({model_choice.WHO.get(name, 'published weights')}{hints})"
    if kind == "bundled":
        return f"{ref} (this project's own{hints})"
    return f"{ref} ({name}{hints})"


def model_choices(runs_dir, given: str | None = None, also=()) -> list[Choice]:
    """What the model chooser offers, each with its model and whether it takes hints:
    ``given`` (``--model``) and ``also`` first, then every
    trained run under ``runs_dir`` (``trained_runs``' order: effunet's family first, then
    newest first), then the models this project ships (``NAME:bundled``, its automatic
    ones in ``model_choice.AUTOMATIC_SHIPPED``'s order first) and the published ones whose
    weights are on disk (``NAME:official``). Each once."""
    refs = [given, *also, *map(str, runs.trained_runs(runs_dir))]
    refs += [b for n in (*model_choice.AUTOMATIC_SHIPPED, *models.names()) if (b := model_choice.bundled(n))]
    refs += [f"{n}:official" for n in weights.RELEASES if n in models.names() and model_choice.at_hand(f"{n}:official")]
    out, seen = [], set()
    for ref in refs:
        key = str(Path(ref).resolve()) if ref and Path(ref).exists() else ref
        if ref and key not in seen:
            seen.add(key)
            out.append(Choice(ref, _label(ref)))
    return out


def startup_model(given: str | None, runs_dir, log=print, fetch: bool = True) -> str | None:
    """The model the page starts with: ``given`` (``NAME:official`` fetched first when
    missing, with ``fetch``); else ``model_choice.automatic`` (05's best, your newest run,
    the model this project ships, Colorful's published weights fetched once with
    ``fetch``), with the reports beside ``runs_dir``; else a model at hand that takes
    hints (it colours on its own too). None, said in one line, when there is none: the
    page still opens, and says what to do."""
    if given:
        published = (model_choice.registered(given) or (None, None))[1] == "official"
        if published and fetch and (why := model_choice.fetch_official(given)):
            raise UserError(f"{given}: {why}")
        return given
    chosen = model_choice.automatic(model_choice.BEST, log=log, reports=Path(runs_dir).parent / "reports",
                                    runs_dir=runs_dir, fetch=fetch)
    return chosen or model_choice.for_hints(model_choice.BEST, log=lambda _: None, runs_dir=runs_dir, fetch=False)


# Loaded models, kept: switching back and forth in the chooser does not reload them.
load_model = functools.lru_cache(maxsize=2)(colorizer.load_model)


def _hint_model_at_hand(runs_dir, also=()) -> str | None:
    """A model at hand that takes hints: the first of ``also`` (06's HINTS_MODEL), else
    ``model_choice.for_hints``' without a download."""
    given = [a for a in also if a and model_choice.takes_hints(a) and model_choice.at_hand(a)]
    return given[0] if given else model_choice.for_hints(model_choice.BEST, log=lambda _: None, runs_dir=runs_dir,
                                                         fetch=False)


def notice(ref: str | None) -> str:
    """What the page says above everything about its model: what to do when there is none."""
    if ref:
        return ""
    said = model_choice.no_model()
    return f"**No model yet.** {said[0].upper()}{said[1:]}."


def paint_off(ref: str | None, runs_dir, also=()) -> str:
    """What the paint box says in place of the brush when the model takes no hints: why,
    and which model does (one at hand, ``also`` first), or how to get one."""
    if not ref:
        return "**2. Painting is off:** there is no model yet (above)."
    other = _hint_model_at_hand(runs_dir, also)
    return (f"**2. Painting is off:** {ref} takes no colour hints; it colours on its own. "
            + (f"To paint the colours you know, choose **{other}** in Model." if other else
               f"To paint the colours you know you need a model that takes them; {model_choice.no_hints_model()}."))


# -------------------------------------------------------------------------------- page


def theme(gr):
    """Gradio's default theme with the system's fonts: its own loads Google Fonts, which
    an offline machine cannot reach (the page would wait on them)."""
    return gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def build(runs_dir, out_dir, given: str | None = None, default: str | None = None, also=()):
    """The Gradio Blocks page. ``out_dir``: where full-resolution results are written;
    ``given``: ``--model``; ``also``: more models to offer first (06's HINTS_MODEL);
    ``default``: the model chosen at start-up (:func:`startup_model`)."""
    gr = gradio()
    out_dir = Path(out_dir)
    names: dict = {}  # this page's results, one name per photo (app_photo.result_path)
    photofiles.heif_readable()  # read_image reads HEIC once pillow-heif's opener is in
    # Gradio opens every upload with Pillow (its header only) before colorpast sees it, and
    # Pillow's decompression-bomb check (an error past 179 MP) refused the 300 MP scans
    # colorpast reads: in this process its limit goes up to twice colorpast's, as prepare sets
    # its own (data/decode.configure). read_image checks a photo's size itself, in one line.
    if Image.MAX_IMAGE_PIXELS is not None:
        Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS, 2 * photofiles.MAX_PIXELS)

    def choices():
        return [(c.label, c.ref) for c in model_choices(runs_dir, given, also)]

    def paint_updates(ref):
        """The brush only where it does something: a model that takes no hints hides it (kept in the page:
        a brush built hidden or removed breaks Gradio's editor), and the box says why."""
        on = model_choice.takes_hints(ref)
        return (gr.update(visible=True if on else "hidden"),
                gr.update(value=paint_off(ref, runs_dir, also), visible=not on))

    def show_photo(photo):
        """A new photo: the box shows a copy a browser draws, its gray copy becomes the canvas, earlier results go."""
        if photo is None:
            return None, None, None, None, None, ""
        try:
            s = app_photo.shown(photo)
        except UserError as e:
            raise gr.Error(str(e)) from None
        return photo, s.preview, {"background": s.gray, "layers": [], "composite": None}, None, None, ""

    def colorize_event(photo, strokes, hints_file, model_ref, normalize, saturation):
        if photo is None or not model_ref:  # said where the result would be, not as an error
            return None, None, "Drop a photo in first." if photo is None else notice(None)
        hinted = model_choice.takes_hints(model_ref)
        unused = not hinted and (app_photo.strokes_to_scribble(strokes) is not None or hints_file)
        try:
            r = app_photo.colorize_photo(photo, load_model(model_ref), out_dir, strokes=strokes if hinted else None,
                                         hints_file=hints_file if hinted else None, model_ref=model_ref,
                                         normalize=normalize, saturation=saturation, names=names)
        except UserError as e:
            raise gr.Error(str(e)) from None
        return (r.before, r.after), str(r.png), r.message + (f" (your hints are not used: {model_ref} takes none)"
                                                              if unused else "")

    def model_changed(model_ref):
        return (*paint_updates(model_ref), notice(model_ref))

    def on_load(model_ref):
        """Runs trained since the page started appear; with no model chosen yet, the first of them."""
        found = choices()
        ref = model_ref or (found[0][1] if found else None)
        return (gr.Dropdown(choices=found, value=ref), *paint_updates(ref), notice(ref))

    hinted = model_choice.takes_hints(default)
    # Gradio keeps every upload and result in its own cache: files older than a day go every
    # hour, and all of them when the page starts again.
    with gr.Blocks(title="colorpast", analytics_enabled=False, delete_cache=(3600, 86400)) as page:
        gr.Markdown(f"# colorpast\nDrop in a black-and-white photo ({LIMIT}): it is colorized at once. Then paint "
                    "the colours you know on the gray copy (only their hue counts; gray means *no colour here*), "
                    "or upload hints, and press **Colorize** again.")
        note = gr.Markdown(notice(default), elem_id="notice")
        original = gr.State(None)  # the photo file itself: the box shows a copy a browser can draw
        with gr.Row():
            with gr.Column():
                photo = gr.Image(label=f"1. Your photo (up to {photofiles.MAX_PIXELS // 1_000_000} MP)", type="filepath",
                                 image_mode=None, sources=["upload"], elem_id="photo", height=260)
                off = gr.Markdown(paint_off(default, runs_dir, also), visible=not hinted, elem_id="paint-off")
                with gr.Group(visible=True if hinted else "hidden", elem_id="paint") as paint:
                    editor = gr.ImageEditor(
                        label="2. Paint the colours you know", type="numpy", image_mode="RGBA", format="png",
                        sources=[], transforms=[], layers=False, elem_id="editor", height=440,
                        brush=gr.Brush(colors=PALETTE, default_color=PALETTE[0], default_size=BRUSH_PX,
                                       color_mode="defaults"))
                    hints_file = gr.File(label="or upload hints: a scribble PNG the photo's size, or a JSON list "
                                               'of points [{"x": 120, "y": 45, "color": "#b22234"}]',
                                         file_types=[".png", ".json"], type="filepath", elem_id="hints-file",
                                         height=110)
            with gr.Column():
                model = gr.Dropdown(choices=choices(), value=default, label="Model", elem_id="model",
                                    info="trained runs, effunet's first, then newest; only a model that takes hints "
                                         "follows them")
                with gr.Row():
                    normalize = gr.Checkbox(value=True, label="Faded old print", elem_id="normalize",
                                            info="the model sees its contrast restored; the photo keeps its own")
                    saturation = gr.Slider(0.5, 2.0, value=1.0, step=0.1, label="Colour strength",
                                           elem_id="saturation", info="above 1: bolder, less accurate colours")
                go = gr.Button("Colorize", variant="primary", elem_id="colorize")
                slider = gr.ImageSlider(label="Before / after", elem_id="before-after", max_height=640)
                status = gr.Markdown(elem_id="status")
                download = gr.File(label="Full-resolution PNG", elem_id="download", height=110)
        inputs = [original, editor, hints_file, model, normalize, saturation]
        outputs = [slider, download, status]
        shown = [original, photo, editor, slider, download, status]
        photo.upload(show_photo, photo, shown).then(colorize_event, inputs, outputs)
        photo.clear(show_photo, photo, shown)
        go.click(colorize_event, inputs, outputs)
        model.change(model_changed, model, [paint, off, note])
        page.load(on_load, model, [model, paint, off, note])
    return page


# Chromium on Linux gives an iPhone's IMG_0001.HEIC (the suffix in capitals) no type, and
# Gradio's photo box, which takes "image/*", then drops it without a word (a lower-case
# .heic is typed image/heic and goes through). Before Gradio sees a picked or dropped
# file, one named .heic/.heif with no type gets image/heic; the server reads it with
# pillow-heif (registered in build) and the box shows a copy the browser can draw.
# Tested in Chromium (tests/test_app_page.py).
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
           out_dir=None, block: bool = True, log=print, chosen: bool = False, also=()):
    """Start the page on ``host:port``; with ``block``, serve until Ctrl-C, which stops
    it at any point, start-up included (exit status 0: it is how a server is stopped).

    Results go to ``out_dir``, by default a temporary folder removed when the page stops
    (each is downloaded from the page). Returns the running Blocks when ``block`` is
    False (tests; call ``.close()``). A port in use or a ``--model`` that does not load
    is a one-line UserError. ``port=None``: the first free one from 7860 (notebook 06).
    ``chosen``: ``model`` was chosen already (06 chose it by ``model_choice``; None: none is
    at hand), so nothing more is looked for or fetched. ``also``: more models to offer (06's
    HINTS_MODEL).

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
        default = model if chosen else startup_model(model, runs_dir, log=log)
        if model:
            load_model(model)  # a bad --model stops here, in one line, not at the first click
        page = build(runs_dir, out_dir, given=model, default=default, also=[a for a in also if a])
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
