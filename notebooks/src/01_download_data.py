"""
Title: 01 · Download the data
Purpose: Take a look at a Kaggle dataset of colour photos before preparing it; a re-run finds what it fetched and does nothing.
"""

from colorpast import notebook

env = notebook.setup(drive=False, kaggle=True, gpu=False)

"""
## Parameters

`SMOKE = True` shrinks everything to check the whole notebook in a minute on a CPU; the
test suite runs every notebook that way.
"""

# %% parameters
# True: no download; a look at the photos embedded in scikit-image and matplotlib
SMOKE = False  # @param {type:"boolean"}
# flickr30k, anime or art (the seed paper's three), or OWNER/SLUG from kaggle.com/datasets
DATASET = "flickr30k"  # @param ["flickr30k", "anime", "art"] {allow-input: true}
# None: on Colab 8 photos fetched one by one, locally the whole archive (02 finds it); or True / False
WHOLE = None  # @param {type:"raw"}

"""
## Kaggle credentials

Kaggle wants an API key for every download. On Colab, add `KAGGLE_USERNAME` and `KAGGLE_KEY`
as secrets (the key icon in the left bar) and allow this notebook access; locally, save the
`kaggle.json` from https://www.kaggle.com/settings (API, Create New Token) as
`~/.kaggle/kaggle.json`. Setup printed where it found them.
"""

"""
## Download

On Colab every notebook has its own runtime, so an archive fetched here would be fetched
again by 02, which needs it whole: here, 8 photos are fetched one at a time instead (the
Kaggle API lists a dataset's files and serves each alone), rather than Flickr30k's 8 GB.
Locally, the whole archive is fetched, checked (every member's CRC) and kept as
`NAME.zip` under `env.raw`, where 02 finds it and prepares straight from the zip.
Either is fetched once; a re-run finds it. This notebook is here to look at a dataset
before preparing it; 02 works without it.
"""

from colorpast.data import download, sources

if SMOKE:
    SOURCE = sources.EMBEDDED_SOURCE
elif WHOLE or (WHOLE is None and not env.is_colab):
    SOURCE = download.download(DATASET, dest=env.raw, unzip=False)
else:
    SOURCE = download.preview(DATASET, dest=env.raw, count=8)

"""
## A look at the photos

A few of them, to check they are what we expect: colour photos of any size. Preparation
(02) rejects black-and-white ones, duplicates and broken files, and lists each with why.
"""

from colorpast import viz

photos = sources.peek(SOURCE, 8)
viz.gallery([im for _, im in photos], [f"{name.split('/')[-1]} ({im.shape[1]}x{im.shape[0]})" for name, im in photos]);
