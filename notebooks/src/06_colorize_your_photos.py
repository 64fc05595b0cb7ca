"""
Title: 06 · Colorize your photos
Purpose: Colorize your black-and-white photos and see them before and after; the full-resolution files are yours to download.
"""

from colorpast import notebook

env = notebook.setup(gpu=False)

"""
## Parameters

`SMOKE = True` colorizes two embedded photos, saved in black and white, at 64 px, to check
the whole notebook in a minute on a CPU; the test suite runs every notebook that way.
"""

# %% parameters
SMOKE = False  # True: two embedded photos, saved in black and white, at 64 px
MODEL = "runs/seed16-flickr30k"  # a run folder (04_train), "colorful:official", or a .keras file
PHOTOS = "photos"  # a folder (or one file) of your photos; on Colab, empty or missing: you upload them
OUT = "colorized"  # colorized PNGs land here, at the input's resolution
SIZE = None  # the shorter side the model runs at (None: the model's own, 224 for seed16)

# %%
if SMOKE:
    SIZE = 64

"""
## The model

Your trained run when there is one; otherwise Zhang et al.'s published Colorful weights,
fetched once (129 MB) into `weights/`, so the first session shows a result in minutes,
before any training. No GPU is needed: a 12-megapixel photo takes seconds on a CPU.
"""

from colorpast.colorizer import load_model

MODEL = notebook.choose_model(MODEL)
model = load_model(MODEL)

"""
## Your photos

Photos already in `PHOTOS` are used as they are. On Colab, when it is empty or missing,
pick files with the upload button below; they are saved on Drive in a subfolder of their
own per session. Locally the folder is created and the line below says where it is.
"""

from colorpast.colorizer import find_images

PHOTOS = notebook.photos_folder(PHOTOS, env, smoke=SMOKE)
print(f"{len(find_images([PHOTOS]))} photos in {PHOTOS}")

"""
## Colorize

The model sees each photo's L at a working size; its colours are upsampled to the photo's
size and joined with the photo's own full-resolution L, so no detail is lost.
"""

from colorpast.colorizer import colorize_paths

written, failed = colorize_paths([PHOTOS], model, OUT, size=SIZE, log=print)
print(f"{len(written)} colorized into {OUT}" + (f"; {len(failed)} unreadable" if failed else ""))

"""
## Before and after

Each photo side by side, scaled to fit the page, then a detail at full resolution (one photo
pixel per screen pixel), where the colours meet the fine structure.
"""

from colorpast.colorizer import output_path, read_image

for photo in find_images([PHOTOS]):
    colorized = output_path(photo, [PHOTOS], OUT)
    if colorized in written:
        notebook.show_before_after(read_image(photo), read_image(colorized), name=photo.name)

"""
## Your files

The full-resolution PNGs are in `OUT`, and all of them in one zip beside it; on Colab a button
below downloads that zip.
"""

notebook.offer_download(OUT, env);
