"""
Title: 01 · Download the data
Purpose: Fetch a Kaggle dataset of colour photos once and take a look at it; a re-run finds it and does nothing.
"""

from colorpast import notebook

env = notebook.setup(drive=False, kaggle=True, gpu=False)

"""
## Parameters

`SMOKE = True` shrinks everything to check the whole notebook in a minute on a CPU; the
test suite runs every notebook that way.
"""

# %% parameters
SMOKE = False  # True: no download; a look at the photos embedded in scikit-image and matplotlib
DATASET = "flickr30k"  # flickr30k, anime or art (the seed paper's three), or OWNER/SLUG from kaggle.com/datasets

"""
## Kaggle credentials

Kaggle wants an API key for every download. On Colab, add `KAGGLE_USERNAME` and `KAGGLE_KEY`
as secrets (the key icon in the left bar) and allow this notebook access; locally, save the
`kaggle.json` from https://www.kaggle.com/settings (API, Create New Token) as
`~/.kaggle/kaggle.json`. Setup printed where it found them.
"""

"""
## Download

The archive is checked (every member's CRC) and kept as it is, `NAME.zip` under `env.raw`:
02 prepares straight from the zip, so Flickr30k's 8 GB are never extracted. A finished
download is never fetched twice; a damaged one is fetched again. On Colab `env.raw` is the
runtime's own disk, not Drive (the archive would crowd a free 15 GB Drive), so it is gone
after a disconnect; that is fine, because 02 fetches it again itself when it still needs it,
and what took long (the prepared set, the runs) is on Drive. This notebook is here to look
at a dataset before preparing it; 02 works without it.
"""

from colorpast.data import download, sources

SOURCE = sources.EMBEDDED_SOURCE if SMOKE else download.download(DATASET, dest=env.raw, unzip=False)

"""
## A look at the photos

A few of them, to check they are what we expect: colour photos of any size. Preparation
(02) rejects black-and-white ones, duplicates and broken files, and lists each with why.
"""

from colorpast import viz

photos = sources.peek(SOURCE, 8)
viz.gallery([im for _, im in photos], [f"{name.split('/')[-1]} ({im.shape[1]}x{im.shape[0]})" for name, im in photos]);
