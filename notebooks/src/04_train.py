"""
Title: 04 · Train
Purpose: Train a model on a prepared set, checkpointed to Drive; re-running continues the same run.
Accelerator: GPU
"""

from colorpast import notebook

env = notebook.setup()

"""
## Parameters

`SMOKE = True` trains 2 epochs of 3 steps at 32 px on the embedded photos (prepared here if
needed), to check the whole notebook in a minute on a CPU; the test suite runs every
notebook that way.
"""

# %% parameters
# True: the embedded set, 2 epochs x 3 steps at 32 px
SMOKE = False  # @param {type:"boolean"}
# made by 02_preprocess
DATA = "data/prepared/flickr30k"  # @param {type:"string"}
# None: the preset's (effunet; seed16_fast for fast, seed16 for default and seed); "effunet_hints" (or "seed16_hints") learns to follow your colour hints, which 06 and its app then find; "effunet_cls" colours with Colorful's 313-colour head
MODEL = None  # @param {type:"raw"}
# effunet (recognises what it colours: the most accurate), fast, default or seed (the seed paper's recipe)
PRESET = "effunet"  # @param ["effunet", "fast", "default", "seed"]
# checkpoints, history and the final model land here; None: runs/MODEL-DATA's name (runs/effunet-flickr30k, runs/effunet_hints-flickr30k), each model its own
RUN = None  # @param {type:"raw"}
# None: the preset's (the run's own when it exists); raise it to continue a finished run
EPOCHS = None  # @param {type:"raw"}
# None: the preset's; images per step (lower it when the GPU runs out of memory; a new RUN or RESTART = True)
BATCH_SIZE = None  # @param {type:"raw"}
# None: the preset's; steps between checkpoints (fewer: a checkpoint sooner on a CPU; a new RUN or RESTART = True)
STEPS_PER_EPOCH = None  # @param {type:"raw"}
# None: the preset's; the peak learning rate (lower it when the loss becomes NaN; a new RUN or RESTART = True)
LR = None  # @param {type:"raw"}
# True: delete RUN's checkpoints and start it over with the parameters above
RESTART = False  # @param {type:"boolean"}
# on Colab: train from a copy of DATA on the runtime's disk (faster than Drive)
COPY_TO_RUNTIME = True  # @param {type:"boolean"}

# %%
if SMOKE:
    DATA, RUN, PRESET = notebook.smoke_data(), "runs/smoke", "smoke"
RUN = RUN or notebook.run_folder(DATA, MODEL, PRESET)
print(f"run: {RUN}")

"""
## The data, close to the GPU

On Colab, `DATA` is on Drive, which reads several times slower than the runtime's own disk:
the GPU would wait for it. With `COPY_TO_RUNTIME` the set is copied once per session to
`/content/colorpast/data/prepared` (Flickr30k's shards are gigabytes: minutes, once a session) and read from there. Keep
the same choice for the whole run: the run remembers where its data was, and resuming with
the other path is refused as a change of settings. Locally this does nothing.
"""

TRAIN_DATA = notebook.local_copy(DATA, env) if COPY_TO_RUNTIME else DATA

"""
## Configuration

One dataclass holds every setting; it is saved as `config.json` in the run folder. A new
run starts from `PRESET` with the parameters above. A run that exists resumes with its
own `config.json`, whatever a newer colorpast's presets say; of the parameters above, those
that change what it learns (`DATA`, `MODEL`, `PRESET`, `BATCH_SIZE`, `STEPS_PER_EPOCH`, `LR`)
must be its own, and `EPOCHS` may grow. An epoch here is a checkpoint interval, not a pass
over the data: see the presets in `colorpast/config.py`. A bad value stops here, in one
line, before anything is written. Without a GPU, a line says how long what is left of the
run takes on this CPU, at the speed measured for its model (benchmarks/RESULTS.md), and
what smaller run to pick: `effunet`'s 160,000 images take about 13 hours on 2 cores.
"""

from colorpast import train

cfg = train.settings(RUN, PRESET, restart=RESTART, data=TRAIN_DATA, model=MODEL, epochs=EPOCHS,
                     batch_size=BATCH_SIZE, steps_per_epoch=STEPS_PER_EPOCH, lr=LR)
if not env.gpus:  # a CPU runtime (Colab's free GPU quota used up, say): how long, and a smaller run
    print(train.cpu_estimate(cfg, RUN, restart=RESTART))
cfg

"""
## Train

Every epoch writes a resumable checkpoint (weights, optimizer, step, data order) into `RUN`,
on Drive when on Colab, and redraws the training curves below the progress bar. **After a
disconnect, run all cells again**: `train` finds the last checkpoint and continues from the
epoch after it, with the same data order. A finished run is only reloaded; raise `EPOCHS` to
train it further, or set `RESTART = True` to start over. A set without a val split trains
too, and reports the training loss instead.
"""

result = train.train(cfg, RUN, restart=RESTART)
print(result.summary())

"""
A model with Colorful's 313-colour head (`MODEL = "effunet_cls"`) shows the annealed mean
of the colours it predicts; the temperature of that mean (vivid towards 0, safe and dull
towards 1) is chosen here on the validation photos, once, and kept in `RUN/decode.json`,
which 05, 06 and the app read. Other models have none: this does nothing for them.
"""

from colorpast import tune
from colorpast.models import with_decode

model = with_decode(result.model, temperature=tune.choose_temperature(RUN))

"""
## Training curves

Loss per epoch from `history.csv`, the whole run including earlier sessions (validation
loss when the set has a val split). TensorBoard's logs are in `RUN/tensorboard`.
"""

from colorpast import viz

viz.training_curves(RUN);

"""
## A first look

A few photos never trained on (validation, or test when there is no val split): the gray
input, the model's colours, the truth. `05_evaluate` does this properly, on the test split
and against the baselines.
"""

from colorpast import evaluate
from colorpast.colorizer import colorize
from colorpast.data import shards

split = "val" if shards.read_summary(TRAIN_DATA)["counts"].get("val") else "test"
photos = evaluate.load_photos(TRAIN_DATA, split, limit=4)
comp = evaluate.compare(photos, {cfg.model: lambda rgb: colorize(rgb, model, size=cfg.size)})
evaluate.grid(comp, title="photos never trained on");

"""
## Done

On Colab, Drive writes in the background: this writes out the final model and the last
checkpoint if they are still on their way, so closing the tab now loses nothing. Drive
stays mounted: raise `EPOCHS` and run the cells again, and the same run continues on Drive.
"""

notebook.finish(env)
