"""
Title: 06 · Colorize your photos
Purpose: Colorize your black-and-white photos and see them before and after; the full-resolution files are yours to download.
Extras: heic,app
"""

from colorpast import notebook

env = notebook.setup(gpu=False)

"""
## Parameters

`SMOKE = True` colorizes two embedded photos, saved in black and white, at 64 px, to check
the whole notebook in a minute on a CPU; the test suite runs every notebook that way.
"""

# %% parameters
# True: two embedded photos, saved in black and white, at 64 px
SMOKE = False  # @param {type:"boolean"}
# "best": the model 05_evaluate measured best (else your trained run, else this project's own, else Colorful's published weights); or a run folder ("runs/NAME:best": its best epoch), "effunet:bundled", "colorful:official", a .keras file
MODEL = "best"  # @param {type:"string"}
# a folder (or one file) of your photos, on Drive on Colab; kept from session to session
PHOTOS = "photos"  # @param {type:"string"}
# colorized PNGs land here, at the input's resolution
OUT = "colorized"  # @param {type:"string"}
# on Colab: offer an upload button every session (cancel it to add nothing)
UPLOAD = True  # @param {type:"boolean"}
# True: colorize every photo again (after training a better model, say); False: only new ones
REDO = False  # @param {type:"boolean"}
# the shorter side the model runs at (None: the model's own, 224 for effunet and seed16)
SIZE = None  # @param {type:"raw"}
# the model sees a faded print's L stretched and despeckled; the output keeps the photo's own L
NORMALIZE = True  # @param {type:"boolean"}
# for the colours you know; "best": your newest run of a model that takes hints (04_train with MODEL = "effunet_hints" makes runs/effunet_hints-flickr30k), else this project's own, else Zhang et al. 2017's; or a run folder, "effunet_hints:bundled", "siggraph17:official"
HINTS_MODEL = "best"  # @param {type:"string"}
# open the app below, to paint the colours you know on your own photos
APP = True  # @param {type:"boolean"}

# %%
if SMOKE:
    SIZE = 64

"""
## The model

With `MODEL = "best"`, the model 05_evaluate measured best (lowest CIEDE2000) in its newest
report, said with its score and the others'; before 05 has run, your trained run; before any
training, the model this project ships in `weights/` (offline, no download), or where none
ships, Zhang et al.'s published Colorful weights, fetched once (129 MB). A model you name is
used as named, with a line when 05 measured it behind sepia or another model. Offline with
nothing at hand, one line says what to do and the cells below say what they skip. No GPU
is needed: a 12-megapixel photo takes seconds on a CPU.
"""

from colorpast import model_choice, photos
from colorpast.colorizer import load_model

MODEL = model_choice.automatic(MODEL)
model = load_model(MODEL) if MODEL else None

"""
## Your photos

On Colab, pick files with the upload button below, every session: they are saved on Drive
in a subfolder of their own per session, beside the photos of earlier sessions. Cancel it
to add nothing. Locally the folder is created and the line below says where it is. JPEG,
PNG, TIFF and the other common formats are read; HEIC (what iPhones save) too, with the
optional `pillow-heif` that Setup installs on Colab (elsewhere: `pip install pillow-heif`).
A file that is not a photo (a PDF, a zip) is named below with why it is left out; two
photos with the same name (`a.jpg` and `a.png`) each get their own output.
"""

from colorpast.colorizer import find_images

PHOTOS = photos.photos_folder(PHOTOS, env, smoke=SMOKE, upload=UPLOAD)
print(f"{len(find_images([PHOTOS]))} photos in {PHOTOS}")

"""
## Colorize

The model sees each photo's L at a working size; its colours are upsampled to the photo's
size and joined with the photo's own full-resolution L, so no detail is lost. Photos that
already have a colorized file in `OUT` (from an earlier session) are left as they are,
unless `REDO = True`. With `NORMALIZE`, a faded print's tones are stretched to a modern
photo's range and its specks of dust removed, for the model's eyes only (on CBSD68 aged
like old prints it took CIEDE2000 from 14.55 to 14.45, and on the clean photos from 11.46
to 11.34: benchmarks/RESULTS.md, "Old photos").
"""

written, failed = photos.colorize_new(PHOTOS, model, OUT, size=SIZE, redo=REDO, normalize=NORMALIZE)

"""
## Before and after

Each photo colorized now, side by side, scaled to fit the page, then a detail at full
resolution (one photo pixel per screen pixel), where the colours meet the fine structure.
"""

from colorpast.colorizer import output_path, read_image

for photo in find_images([PHOTOS]):
    colorized = output_path(photo, [PHOTOS], OUT)
    if colorized in written:
        photos.show_before_after(read_image(photo), read_image(colorized), name=photo.name)

"""
## Your files

The full-resolution PNGs are in `OUT`, on Drive on Colab; the ones colorized now are also
in one zip, and on Colab a button below downloads it.
"""

photos.offer_download(OUT, env, files=written);

"""
## Colours you know: a worked example

A model can only guess a colour the gray photo does not show. When you know some (the sky
was blue, the sand is sand), say so: a model that takes hints spreads each one along the
photo's structure. With `HINTS_MODEL = "best"`: your newest run of a model that takes hints
(04_train with `MODEL = "effunet_hints"` leaves it in `runs/effunet_hints-...`, where this
finds it), else the hint model this project ships, else Zhang et al.'s published SIGGRAPH
2017 network, fetched once (137 MB), so this works with nothing trained. Here, the Great
Sphinx of Giza in the 1870s (public domain, fetched once, about 100 kB) with twelve points:
six of sky, three of sand, three of stone. The same list, as JSON, is what `colorpast
colorize photo.jpg --hints hints.json` takes: x and y in the photo's pixels. Offline, the
example is skipped in one line; your own photos below need no network.
"""

from colorpast import photo_hints

HINTS_MODEL, hints_model = photo_hints.hints_model(HINTS_MODEL, smoke=SMOKE)
photo_hints.show_example("examples", hints_model, smoke=SMOKE);

"""
## Your colours, by position

Say what you know about one of your photos: the grid below labels its pixels (x to the
right, y down, from the top-left corner). Read the position of each thing whose colour
you know off the grid, and list it in `POINTS` as `(x, y, colour)`, the colour in plain
words (`"red"`, `"sky blue"`, `"dark green"`, `"tan"`: the CSS colour names) or as a hex
code (`"#b22234"`). Run the cell: the points are drawn on the photo for checking, beside
the automatic result and the one with your colours, saved at full resolution in `OUT/hints`
(a photo's name there is never another's: a second result of it gets `-2`).
"""

# a photo in PHOTOS: its name, or its path below PHOTOS when two share a name (None: the first photo there)
HINT_PHOTO = None  # @param {type:"raw"}
photo = photo_hints.pick_photo(PHOTOS, HINT_PHOTO)
if photo is not None:
    photo_hints.show_grid(photo)

# %%
POINTS = [  # (x, y, colour): x and y read off the grid above, the colour a name or a hex code
    # (120, 45, "sky blue"),
    # (300, 410, "dark red"),
]
if SMOKE:
    POINTS = [(5, 5, "sky blue"), (40, 60, "#b22234")]
if photo is not None and POINTS:
    photo_hints.colorize_with_points(photo, hints_model, POINTS, OUT, folder=PHOTOS)

"""
## Paint the colours you know: the app

The same thing for your photos, with a brush: drop a photo in, paint strokes of the
colours you know on its gray copy, press **Colorize**, download the full-resolution
result (also saved in `OUT/app`). It opens below, in the notebook (on Colab through Colab's own proxy: nothing is
public). It starts with `MODEL` (with none at hand, `HINTS_MODEL`) and offers `HINTS_MODEL`,
every trained run under `runs/` and the models at hand; only a model that takes hints
follows the strokes (with another, the paint box says so and which model does). It runs
until the runtime stops; running this cell again replaces it. A HEIC photo or a scan of
up to 300 megapixels can be dropped in too.
"""

if APP:
    from colorpast import app

    page = app.launch(port=None, model=MODEL or HINTS_MODEL, out_dir=f"{OUT}/app", block=False, chosen=True,
                      also=[HINTS_MODEL])
    if SMOKE:
        page.close()

"""
## Done

On Colab, this writes out what is still on its way to Drive, so closing the tab now loses
nothing. Drive stays mounted: the app above keeps saving into `OUT/app` on Drive until the
runtime stops, and the download button still works.
"""

notebook.finish(env)
