"""
Title: 05 · Evaluate
Purpose: Score the trained model, the model this project ships, the gray and sepia baselines and Colorful (Zhang et al. 2016) on the same test photos.
"""

from colorpast import notebook

env = notebook.setup(gpu=False)

"""
## Parameters

`SMOKE = True` scores a two-epoch run on the 2 test photos of the embedded set (both made
here if needed) and never downloads weights, to check the whole notebook in a minute on a
CPU; the test suite runs every notebook that way.
"""

# %% parameters
# True: the 2 test photos of the embedded set; never downloads weights
SMOKE = False  # @param {type:"boolean"}
# made by 02_preprocess
DATA = "data/prepared/flickr30k"  # @param {type:"string"}
# made by 04_train; left out of the table when absent
RUN = "runs/effunet-flickr30k"  # @param {type:"string"}
# the split scored: test (never trained on), val or train
SPLIT = "test"  # @param ["test", "val", "train"]
# photos to score (None: the whole split)
LIMIT = 500  # @param {type:"raw"}
# download the official Colorful weights (129 MB) once into weights/
FETCH_COLORFUL = True  # @param {type:"boolean"}

# %%
if SMOKE:
    DATA, RUN, LIMIT, FETCH_COLORFUL = notebook.smoke_data(), notebook.smoke_run(), None, False
REPORT = f"reports/{RUN.rstrip('/').split('/')[-1]}-{SPLIT}"

"""
## The methods

The trained run, when it has weights; the model this project ships (`effunet_cls:bundled`,
no download), so you see whether your run beats it (06 and the app then take whichever
scored best); and Zhang et al.'s published Colorful weights, converted once to Keras. Gray is always a row, and so is sepia: one warm colour on every
pixel (the median colour of ImageNet photos). A model that does not beat sepia has learned
the average colour of photos and little more. Without a run (or with one that 04 left
before its first checkpoint) or without the weights, the table compares what there is, and
says so. Scoring needs no GPU: on a CPU it only takes longer.
"""

from colorpast import model_choice, runs

MODELS = ["sepia"]
if runs.missing_weights(RUN) is None:
    MODELS.append(RUN)
else:
    print(f"{runs.missing_weights(RUN)}: comparing without a trained model (04_train makes one)")
if shipped := model_choice.shipped_automatic():
    MODELS.append(shipped)
why = model_choice.fetch_official(model_choice.OFFICIAL) if FETCH_COLORFUL else "FETCH_COLORFUL = True fetches it"
if model_choice.at_hand(model_choice.OFFICIAL):
    MODELS.append(model_choice.OFFICIAL)
else:
    print(f"{model_choice.official_file('colorful')} is absent: comparing without Colorful ({why}; then run this "
          "cell again, online)")

"""
## Score

Every method colorizes the same photos and is scored with the same metrics: PSNR and SSIM
(higher is better), CIEDE2000 and the ab error (lower is better), and colourfulness next to
the truth's. Gray is the photo as a black-and-white print: a model must beat it to be worth
its colours.
"""

from IPython.display import Image, Markdown, display

from colorpast import evaluate

report = evaluate.evaluate(DATA, MODELS, out=REPORT, split=SPLIT, limit=LIMIT, log=lambda *_: None)
display(Markdown(evaluate.markdown_table(report["summary"])))

"""
## Result grid and chart

One row per photo: gray input, each model with its PSNR and CIEDE2000, the truth. The files,
with per-image CSVs, are in `REPORT`.
"""

display(Image(filename=report["paths"]["grid"]))
display(Image(filename=report["paths"]["chart"]))

"""
## Done

On Colab, this writes out the report still on its way to Drive, so closing the tab now
loses nothing. Drive stays mounted for any cell you run next.
"""

notebook.finish(env)
