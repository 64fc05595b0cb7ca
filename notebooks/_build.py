"""Build the notebooks 01 ... 06 from the Python source below: `python notebooks/_build.py`.

The .ipynb files are generated, never edited by hand, so a review reads this file and
`git diff` of a notebook is exactly the change made here. Every notebook is written
without outputs (execution_count None), opens with title, purpose, Colab badge and
Setup, and has one code cell tagged "parameters" (papermill's convention) holding
SMOKE = False; tests/test_notebooks.py injects SMOKE = True after it, as papermill does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from colorpast.notebook import REPO_URL, colab_badge  # noqa: E402

PARAMETERS = "parameters"


def opening(file: str, title: str, purpose: str) -> list:
    """Title, purpose, badge and the Setup cells every notebook starts with."""
    return [
        new_markdown_cell(f"# {title}\n\n*{purpose}*\n\n{colab_badge(file)}"),
        new_markdown_cell(
            "## Setup\n\n"
            "On Colab this installs `colorpast` from the repository, mounts Google Drive (data, runs "
            "and reports live in `MyDrive/colorpast`, so they survive a disconnect) and reads Kaggle "
            "credentials from Colab secrets. Locally, install the package first (`pip install -e .` "
            "in the repository, see the README); the working folder is the repository root. "
            "Either way it checks for a GPU and says how to get one if there is none."
        ),
        new_code_cell(
            "import sys\n\n"
            'IS_COLAB = "google.colab" in sys.modules\n'
            "if IS_COLAB:\n"
            f'    %pip install -q "colorpast @ git+{REPO_URL}"'
        ),
        new_code_cell("from colorpast import notebook\n\nenv = notebook.setup()"),
    ]


def parameters(source: str) -> list:
    return [
        new_markdown_cell(
            "## Parameters\n\n"
            "`SMOKE = True` shrinks everything (a few photos, tiny sizes, one short run) to check "
            "the whole notebook in a minute on a CPU; the test suite runs every notebook that way."
        ),
        new_code_cell(source, metadata={"tags": [PARAMETERS]}),
    ]


def md(text: str):
    return new_markdown_cell(text.strip())


def code(text: str):
    return new_code_cell(text.strip())


NOTEBOOKS: dict[str, dict] = {}


def notebook(file: str, title: str, purpose: str, gpu: bool = False):
    def register(fn):
        NOTEBOOKS[file] = dict(title=title, purpose=purpose, gpu=gpu, cells=fn)
        return fn

    return register


@notebook("01_download_data.ipynb", "01 · Download the data",
          "Fetch a Kaggle dataset of colour photos into data/raw/ once; a re-run finds it and does nothing.")
def _01():
    return [
        *parameters(
            "SMOKE = False  # True: no download (the later notebooks use the embedded sample photos)\n"
            "DATASET = \"flickr30k\"  # flickr30k, anime or art (the seed paper's three), or OWNER/SLUG from kaggle.com/datasets"
        ),
        md("""
## Kaggle credentials

Kaggle wants an API key for every download. On Colab, add `KAGGLE_USERNAME` and `KAGGLE_KEY`
as secrets (the key icon in the left bar) and allow this notebook access; locally, save the
`kaggle.json` from https://www.kaggle.com/settings (API, Create New Token) as
`~/.kaggle/kaggle.json`. Setup printed where it found them.
"""),
        md("""
## Download

The archive is checked (every member's CRC) and extracted into `NAME` under `env.raw` only
once it is whole, so an interrupted download simply starts again and a finished one is never
fetched twice. Flickr30k is about 8 GB and 31,783 photos. Locally `env.raw` is `data/raw`;
on Colab it is the runtime's own disk, not Drive: the archive and its files would not fit a
free 15 GB Drive, and reading them back through Drive is slow. What must survive a
disconnect is on Drive: the prepared shards (02), the runs and the reports. After a
disconnect in the middle of 02, run this notebook again first.
"""),
        code("""
from colorpast.data import download, sources

if SMOKE:
    print("SMOKE mode: nothing downloaded; 02_preprocess uses the photos embedded in scikit-image and matplotlib.")
    raw = None
else:
    raw = download.download(DATASET, dest=env.raw)
"""),
        md("""
## A look at the photos

A few of them (in SMOKE mode, the embedded ones), to check they are what we expect: colour
photos of any size. Preparation (02) rejects black-and-white ones, duplicates and broken files.
"""),
        code("""
from colorpast import viz
from colorpast.colorizer import find_images, read_image

if raw is None:
    photos = [(p.name, p.rgb) for p in sources.embedded_sample()]
else:
    files = find_images([raw])
    print(f"{len(files)} image files in {raw}")
    photos = [(f.name, read_image(f)) for f in files[:8]]
viz.gallery([im for _, im in photos], [f"{name} ({im.shape[1]}x{im.shape[0]})" for name, im in photos]);
"""),
    ]


@notebook("02_preprocess.ipynb", "02 · Prepare the photos",
          "Decode every photo once, drop the unusable ones, resize to 224x224 and split train/val/test into shards.")
def _02():
    return [
        *parameters(
            "SMOKE = False  # True: the 6 embedded photos at 64 px\n"
            "NAME = \"flickr30k\"  # the dataset downloaded by 01; the prepared set lands in data/prepared/NAME\n"
            "SOURCE = None  # None: NAME as 01 downloaded it; or a folder (nested, mixed formats), a .zip, or \"embedded\"\n"
            "SIZE = 224  # output side in pixels\n"
            "VAL_PERCENT, TEST_PERCENT = 5, 5"
        ),
        code("""
if SMOKE:  # 20 % each for val and test, so that each of the three splits gets some of the 6 photos
    SOURCE, NAME, SIZE, VAL_PERCENT, TEST_PERCENT = "embedded", "smoke", 64, 20, 20
if SOURCE is None:
    SOURCE = env.raw / NAME
PREPARED = f"data/prepared/{NAME}"
"""),
        md("""
## Prepare

Every file is decoded once, on every core, and kept or rejected with its reason
(`manifest.csv`). Kept photos are centre-cropped to `SIZE x SIZE` and stored as uint8 RGB
shards: Lab is computed later, on the GPU, so the disk holds 3 bytes a pixel. The split
depends on a photo's pixels alone, so adding photos never moves old ones between splits.
An interrupted run resumes; a finished one is left as it is.
"""),
        code("""
from colorpast.data.prepare import prepare

summary = prepare(SOURCE, PREPARED, size=SIZE, val_percent=VAL_PERCENT, test_percent=TEST_PERCENT)
print("kept per split:", summary["counts"], " rejected:", summary["rejected_by_reason"] or "none")
"""),
        md("""
## What was kept

A few training photos as the model will see them (before augmentation).
"""),
        code("""
from colorpast import evaluate, viz

photos = evaluate.load_photos(PREPARED, "train", limit=8)
viz.gallery([im for _, im in photos], [name for name, _ in photos], title=f"{PREPARED}: train");
"""),
        md("""
## What the model learns

The loader hands over uint8 RGB crops and nothing more, reading one batch at a time from
the memory-mapped shards, whatever the size of the set. The train step turns them into
the lightness L (Lab units, 0 to 100), the model's input, and the colour channels a and
b it learns to predict, on the GPU when there is one.
"""),
        code("""
from colorpast import color
from colorpast.data import shards
from colorpast.data.loader import Loader

batch = Loader(shards.open_split(PREPARED, "train"), 4, train=False).batch(0)
lab = color.rgb_to_lab(batch["rgb"])
print(f"rgb {batch['rgb'].shape} uint8;  L in {lab[..., 0].min():.0f}..{lab[..., 0].max():.0f};  "
      f"ab in {lab[..., 1:].min():.0f}..{lab[..., 1:].max():.0f}")
viz.gallery(lab[..., 0] / 100, ["L (model input)"] * len(lab));
"""),
    ]


@notebook("03_model.ipynb", "03 · The models",
          "The seed paper's 16-layer network and the other registered models: shapes, sizes, one forward pass.",
          gpu=True)
def _03():
    return [
        *parameters(
            "SMOKE = False  # True: a 64 px forward pass\n"
            "MODEL = \"seed16\"  # one of colorpast.models.names()"
        ),
        md("""
## The registry

Every model takes L and predicts ab; `models.predict_ab` turns each model's own output into
ab in Lab units, so training, evaluation and colorize treat them all alike.
"""),
        code("""
from colorpast import models

for name in models.names():
    print(f"{name:14} {models.spec(name).description}")
"""),
        md("""
## Build

`seed16` is the seed paper's network: 12 Conv2D and 3 UpSampling2D layers, 3.9 M parameters,
L in (unscaled, 0 to 100) and ab / 128 out through a tanh.
"""),
        code("""
model = models.build(MODEL)
model.summary()
"""),
        md("""
## One forward pass

Untrained, the model paints noise-like tints; the point is the contract: any photo in, the
same size out, its own full-resolution L kept and only the colour predicted.
"""),
        code("""
from colorpast import viz
from colorpast.colorizer import colorize, gray
from colorpast.data import sources

photo = sources.embedded_sample(["chelsea"])[0].rgb
out = colorize(photo, model, size=64 if SMOKE else None)
print(f"in {photo.shape}, out {out.shape}")
viz.gallery([gray(photo), out, photo], ["gray input", f"untrained {MODEL}", "truth"]);
"""),
    ]


@notebook("04_train.ipynb", "04 · Train",
          "Train a model on a prepared set, checkpointed every epoch to Drive; re-running continues the same run.",
          gpu=True)
def _04():
    return [
        *parameters(
            "SMOKE = False  # True: the embedded set, 2 epochs x 3 steps at 32 px\n"
            "DATA = \"data/prepared/flickr30k\"  # made by 02_preprocess\n"
            "RUN = \"runs/seed16-flickr30k\"  # checkpoints, history and the final model land here\n"
            "MODEL = \"seed16\"\n"
            "PRESET = \"default\"  # default, or seed (the seed paper's recipe); see colorpast/config.py\n"
            "EPOCHS = None  # None: the preset's; raise it to continue a finished run"
        ),
        code("""
if SMOKE:
    DATA, RUN, PRESET = "data/prepared/smoke", "runs/smoke", "smoke"
"""),
        md("""
## Configuration

One dataclass holds every setting; it is saved as `config.json` in the run folder, and a
re-run must use the same settings (except `epochs`) to resume.
"""),
        code("""
from colorpast.config import preset

cfg = preset(PRESET, data=DATA, model=MODEL, epochs=EPOCHS)
cfg
"""),
        md("""
## Train

Every epoch writes a resumable checkpoint (weights, optimizer, step, data order) into `RUN`,
on Drive when on Colab. **After a disconnect, run all cells again**: `train` finds the last
checkpoint and continues from the epoch after it, with the same data order. A finished run
is only reloaded; raise `EPOCHS` to train it further, or pass `restart=True` to start over.
"""),
        code("""
from colorpast import train

result = train.train(cfg, RUN)
print(result.summary())
"""),
        md("""
## Training curves

Loss per epoch from `history.csv` (validation loss when the set has a val split).
"""),
        code("""
from colorpast import viz

viz.training_curves(RUN);
"""),
        md("""
## A first look

A few validation photos, never trained on: the gray input, the model's colours, the truth.
`05_evaluate` does this properly, on the test split and against the baselines.
"""),
        code("""
from colorpast import evaluate
from colorpast.colorizer import colorize

photos = evaluate.load_photos(DATA, "val", limit=4)
comp = evaluate.compare(photos, {MODEL: lambda rgb: colorize(rgb, result.model, size=cfg.size)})
evaluate.grid(comp, title="validation photos");
"""),
    ]


@notebook("05_evaluate.ipynb", "05 · Evaluate",
          "Score the trained model, the gray baseline and Colorful (Zhang et al. 2016) on the same test photos.",
          gpu=True)
def _05():
    return [
        *parameters(
            "SMOKE = False  # True: the 2 test photos of the embedded set; never downloads weights\n"
            "DATA = \"data/prepared/flickr30k\"\n"
            "RUN = \"runs/seed16-flickr30k\"  # made by 04_train\n"
            "SPLIT = \"test\"\n"
            "LIMIT = 500  # photos to score (None: the whole split)\n"
            "FETCH_COLORFUL = True  # download the official Colorful weights (129 MB) once into weights/"
        ),
        code("""
if SMOKE:
    DATA, RUN, LIMIT, FETCH_COLORFUL = "data/prepared/smoke", "runs/smoke", None, False
REPORT = f"reports/{RUN.rstrip('/').split('/')[-1]}-{SPLIT}"
"""),
        md("""
## The Colorful baseline

Zhang et al.'s published weights, converted once to Keras. Without them the comparison is
the trained model against gray alone, and says so.
"""),
        code("""
from pathlib import Path

from colorpast import weights

COLORFUL = Path("weights/colorful_eccv16.weights.h5")
if FETCH_COLORFUL and not COLORFUL.is_file():
    weights.fetch("colorful", out=COLORFUL)
MODELS = [RUN]
if COLORFUL.is_file():
    MODELS.append("colorful:official")
else:
    print(f"{COLORFUL} is absent: comparing without Colorful (set FETCH_COLORFUL = True, "
          "or run `colorpast weights fetch colorful`)")
"""),
        md("""
## Score

Every method colorizes the same photos and is scored with the same metrics: PSNR and SSIM
(higher is better), CIEDE2000 and the ab error (lower is better), and colourfulness next to
the truth's. Gray is the photo as a black-and-white print: a model must beat it to be worth
its colours.
"""),
        code("""
from IPython.display import Image, Markdown, display

from colorpast import evaluate

report = evaluate.evaluate(DATA, MODELS, out=REPORT, split=SPLIT, limit=LIMIT, log=lambda *_: None)
display(Markdown(evaluate.markdown_table(report["summary"])))
"""),
        md("""
## Result grid and chart

One row per photo: gray input, each model with its PSNR and CIEDE2000, the truth. The files,
with per-image CSVs, are in `REPORT`.
"""),
        code("""
display(Image(filename=report["paths"]["grid"]))
display(Image(filename=report["paths"]["chart"]))
"""),
    ]


@notebook("06_colorize_your_photos.ipynb", "06 · Colorize your photos",
          "Upload black-and-white photos and see them before and after, at their full resolution.",
          gpu=True)
def _06():
    return [
        *parameters(
            "SMOKE = False  # True: two embedded photos, saved in black and white, with the smoke run\n"
            "MODEL = \"runs/seed16-flickr30k\"  # a run folder, \"colorful:official\", or a .keras file\n"
            "PHOTOS = \"my_photos\"  # locally: a folder (or one file) of your photos; on Colab you upload them\n"
            "OUT = \"colorized\"  # colorized PNGs land here, at the input's resolution\n"
            "SIZE = None  # the shorter side the model runs at (None: the model's own, 224 for seed16)"
        ),
        code("""
if SMOKE:
    MODEL, SIZE = "runs/smoke", 64
"""),
        md("""
## Your photos

On Colab, pick files with the upload button below; they are saved in `uploads/` on Drive.
Locally, set `PHOTOS` to a folder or a file (relative to the repository root, or absolute).
In SMOKE mode the notebook writes two photos itself.
"""),
        code("""
from pathlib import Path

from PIL import Image

from colorpast.colorizer import find_images
from colorpast.data import sources

if SMOKE:
    PHOTOS = Path("uploads/smoke")
    PHOTOS.mkdir(parents=True, exist_ok=True)
    for p in sources.embedded_sample(["chelsea", "grace_hopper"]):
        Image.fromarray(p.rgb).convert("L").save(PHOTOS / f"{p.name}.png")  # black and white, like an old print
elif env.is_colab:
    import os

    from google.colab import files

    PHOTOS = Path("uploads")
    PHOTOS.mkdir(exist_ok=True)
    os.chdir(PHOTOS)  # files.upload() saves into the current folder
    try:
        files.upload()
    finally:
        os.chdir(env.root)
PHOTOS = Path(PHOTOS)
print(f"{len(find_images([PHOTOS]))} photos in {PHOTOS}")
"""),
        md("""
## Colorize

The model sees each photo's L at a working size; its colours are upsampled to the photo's
size and joined with the photo's own full-resolution L, so no detail is lost.
"""),
        code("""
from colorpast.colorizer import colorize_paths, load_model

model = load_model(MODEL)
written, failed = colorize_paths([PHOTOS], model, OUT, size=SIZE, log=print)
print(f"{len(written)} colorized into {OUT}" + (f"; {len(failed)} unreadable" if failed else ""))
"""),
        md("""
## Before and after, at full resolution

One photo pixel per screen pixel (scroll sideways for large photos); the PNGs are in `OUT`.
"""),
        code("""
import matplotlib.pyplot as plt

from colorpast import viz
from colorpast.colorizer import read_image

for f in find_images([PHOTOS]):
    out = Path(OUT) / (f.relative_to(PHOTOS) if PHOTOS.is_dir() else Path(f.name)).with_suffix(".png")
    if out.is_file():
        before = read_image(f)
        print(f"{f.name}: {before.shape[1]} x {before.shape[0]} px")
        viz.before_after(before, read_image(out))
        plt.show()
"""),
    ]


def build(file: str):
    spec = NOTEBOOKS[file]
    nb = new_notebook()
    nb.cells = opening(file, spec["title"], spec["purpose"]) + spec["cells"]()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    if spec["gpu"]:  # Colab opens these with a GPU runtime
        nb.metadata["accelerator"] = "GPU"
        nb.metadata["colab"] = {"gpuType": "T4"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(file).stem[:2]}-{i:02d}"  # stable ids: a rebuild changes nothing
    nbformat.validate(nb)
    return nb


def main() -> None:
    for file in NOTEBOOKS:
        nbformat.write(build(file), HERE / file)
        print(HERE / file)


if __name__ == "__main__":
    main()
