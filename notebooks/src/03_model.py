"""
Title: 03 · The models
Purpose: The seed paper's 16-layer network and the other registered models: shapes, sizes, one forward pass.
"""

from colorpast import notebook

env = notebook.setup(drive=False, gpu=False)

"""
## Parameters

`SMOKE = True` runs the forward pass at 64 px, to check the whole notebook in a minute on a
CPU; the test suite runs every notebook that way.
"""

# %% parameters
# True: a 64 px forward pass
SMOKE = False  # @param {type:"boolean"}
# one of colorpast.models.names(), listed below
MODEL = "seed16"  # @param ["seed16", "effunet", "effunet_cls", "effunet_hints", "seed16_hints", "seed16_cls", "colorful"] {allow-input: true}

"""
## The registry

Every model takes L and predicts ab; `models.predict_ab` turns each model's own output into
ab in Lab units, so training, evaluation and colorize treat them all alike.
"""

from colorpast import models

for name in models.names():
    print(f"{name:14} {models.spec(name).description}")

"""
## Build

`seed16` is the seed paper's network: 12 Conv2D and 3 UpSampling2D layers, 3.9 M parameters,
L in (unscaled, 0 to 100) and ab / 128 out through a tanh.
"""

model = models.build(MODEL)
model.summary()

"""
## One forward pass

Untrained, the model paints noise-like tints; the point is the contract: any photo in, the
same size out, its own full-resolution L kept and only the colour predicted.
"""

from colorpast import viz
from colorpast.colorizer import colorize, gray
from colorpast.data import sources

photo = sources.embedded_sample(["chelsea"])[0].rgb
out = colorize(photo, model, size=64 if SMOKE else None)
print(f"in {photo.shape}, out {out.shape}")
viz.gallery([gray(photo), out, photo], ["gray input", f"untrained {MODEL}", "truth"]);
