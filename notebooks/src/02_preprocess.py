"""
Title: 02 · Prepare the photos
Purpose: Decode every photo once, drop the unusable ones, resize to 224x224 and split train/val/test into shards.
"""

from colorpast import notebook

env = notebook.setup(gpu=False)

"""
## Parameters

`SMOKE = True` prepares the 6 embedded photos at 64 px instead, to check the whole notebook
in a minute on a CPU; the test suite runs every notebook that way.
"""

# %% parameters
# True: the 6 embedded photos at 64 px
SMOKE = False  # @param {type:"boolean"}
# flickr30k, anime, art or OWNER/SLUG on Kaggle; the prepared set lands in data/prepared/NAME
NAME = "flickr30k"  # @param ["flickr30k", "anime", "art"] {allow-input: true}
# None: the Kaggle dataset NAME, downloaded here when needed; or a folder, a .zip, or "embedded" (in quotes)
SOURCE = None  # @param {type:"raw"}
# output side in pixels
SIZE = 224  # @param {type:"integer"}
# the share of the photos held out for validation, in percent
VAL_PERCENT = 5  # @param {type:"integer"}
# the share held out for the test split (05 scores it), in percent
TEST_PERCENT = 5  # @param {type:"integer"}
# True: delete the prepared set data/prepared/NAME and prepare it again (another SIZE or split); set it back afterwards
RESTART = False  # @param {type:"boolean"}

# %%
from colorpast.data import download

if SMOKE:  # 20 % each for val and test, so that each of the three splits gets some of the 6 photos
    SOURCE, NAME, SIZE, VAL_PERCENT, TEST_PERCENT = "embedded", "smoke", 64, 20, 20
FOLDER = download.resolve(NAME)[0] if SOURCE is None else NAME
PREPARED = f"data/prepared/{FOLDER}"

"""
## The source

This notebook needs nothing from the others: without a `SOURCE` it fetches the Kaggle
archive itself into the runtime's disk (once; 01 explains where) and prepares straight from
the zip. Only then does it read your Kaggle credentials (on Colab, the `KAGGLE_USERNAME` and
`KAGGLE_KEY` secrets: the key icon in the left bar). A set already prepared on Drive is not
downloaded again and needs no credentials: after a disconnect, run all cells and this step
finds `prepared.json` and moves on, with no "grant access" dialog.
"""

if SOURCE is None:
    SOURCE = env.raw / f"{FOLDER}.zip"
    if RESTART or not notebook.is_prepared(PREPARED):
        SOURCE = download.download(NAME, dest=env.raw, unzip=False)

"""
## Prepare

Every file is decoded once, on every core, and kept, rejected or skipped with its reason
(`manifest.csv`: hidden files and macOS metadata are skipped, not silently passed over).
Kept photos are centre-cropped to `SIZE x SIZE` and stored as uint8 RGB shards: Lab is
computed later, on the GPU, so the disk holds 3 bytes a pixel. The split depends on a
photo's pixels alone, so adding photos never moves old ones between splits. An interrupted
run resumes; a finished one is left as it is (`RESTART = True` prepares it again, and the prepared
folder refuses other settings until then, with one line saying so). It first checks that the
disk (Drive on Colab) has room for the shards, and says how much is missing if not.
"""

from colorpast.data.prepare import prepare

summary = prepare(SOURCE, PREPARED, size=SIZE, val_percent=VAL_PERCENT, test_percent=TEST_PERCENT, restart=RESTART)
print("kept per split:", summary["counts"], " rejected:", summary["rejected_by_reason"] or "none",
      " skipped:", summary.get("skipped_by_reason") or "none")

"""
## What was kept

A few training photos as the model will see them (before augmentation).
"""

from colorpast import evaluate, viz

photos = evaluate.load_photos(PREPARED, "train", limit=8)
viz.gallery([im for _, im in photos], [name for name, _ in photos], title=f"{PREPARED}: train");

"""
## What the model learns

The loader hands over uint8 RGB crops and nothing more, reading one batch at a time from
the memory-mapped shards, whatever the size of the set. The train step turns them into
the lightness L (Lab units, 0 to 100), the model's input, and the colour channels a and
b it learns to predict, on the GPU when there is one.
"""

from colorpast import color
from colorpast.data import shards
from colorpast.data.loader import Loader

batch = Loader(shards.open_split(PREPARED, "train"), 4, train=False).batch(0)
lab = color.rgb_to_lab(batch["rgb"])
print(f"rgb {batch['rgb'].shape} uint8;  L in {lab[..., 0].min():.0f}..{lab[..., 0].max():.0f};  "
      f"ab in {lab[..., 1:].min():.0f}..{lab[..., 1:].max():.0f}")
viz.gallery(lab[..., 0] / 100, ["L (model input)"] * len(lab));

"""
## Done

On Colab, Drive writes in the background: this writes out everything still on its way, so
closing the tab now loses nothing. Drive stays mounted: cells run after this one still work.
"""

notebook.finish(env)
