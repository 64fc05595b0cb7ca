"""
Title: 07 · Colour an old film
Purpose: Colour a black-and-white film with its sound and without flicker; the colours you know, given once on a frame, hold through the shot.
"""

from colorpast import notebook

env = notebook.setup(gpu=False)

"""
## Parameters

`SMOKE = True` colours a made-up film of three seconds (a pan across an embedded photo, a
cut, a tone for sound) at 64 px, to check the whole notebook in a minute on a CPU; the
test suite runs every notebook that way.
"""

# %% parameters
# True: a made-up 3-second film at 64 px
SMOKE = False  # @param {type:"boolean"}
# "best": the model 06 colours photos with (05's best, else your trained run, else a published one); or a run folder, NAME:bundled, NAME:official, a .keras file
MODEL = "best"  # @param {type:"string"}
# a folder of your films (or one film), on Drive on Colab; kept from session to session
FILMS = "films"  # @param {type:"string"}
# the coloured films land here (NAME.mp4, same size, frame rate and sound)
OUT = "coloured"  # @param {type:"string"}
# on Colab: offer an upload button every session (cancel it to add nothing; a long film is quicker copied into FILMS on Drive)
UPLOAD = True  # @param {type:"boolean"}
# a file name in FILMS (None: the first film there)
FILM = None  # @param {type:"raw"}
# seconds of the film's start coloured first, to look at before the whole film
PREVIEW = 10  # @param {type:"integer"}
# True: colour the film again (after training a better model, say); False: a film coloured before is kept
REDO = False  # @param {type:"boolean"}
# for the colours you give in POINTS below, as in 06: "best": your newest run of a model that takes hints, else this project's own, else Zhang et al. 2017's; or a run folder, "effunet_hints:bundled", "siggraph17:official"
HINTS_MODEL = "best"  # @param {type:"string"}

# %%
SIZE = 64 if SMOKE else None  # the shorter side the model runs at (None: its own)
if SMOKE:
    PREVIEW = 1

"""
## The model

The same choice as 06's: with `MODEL = "best"`, the one 05_evaluate measured best, else
your trained run, else the model this project ships for films (`effunet:bundled`: on
films its colour was measured nearer the truth's than the 313-bin model 06 starts with),
else published weights, fetched once. Each frame is coloured from its own lightness, as a
photo is; what makes a film different is below.
"""

from colorpast import films, model_choice, photo_hints, photos
from colorpast.colorizer import load_model

MODEL = model_choice.automatic(MODEL, films=True)
model = load_model(MODEL) if MODEL else None

"""
## Your film

On Colab, pick a film with the upload button below (MP4, MOV, MKV, WebM, AVI; colour or
black and white; any size and length): it is saved on Drive, in a subfolder of its own per
session. A long film uploads faster through Drive itself: copy it into `FILMS` there.
Locally, put it in the folder the line below names.
"""

FILMS = films.films_folder(FILMS, env, smoke=SMOKE, upload=UPLOAD)
film = films.pick_film(FILMS, FILM)

"""
## Its first frames, with positions

The first frame and one a second after it, in black and white, with a grid labelled in the
film's own pixels (x to the right, y down, from the top-left corner) and each frame's
number. Read off where the things whose colour you know are, for the cell after.
"""

if film is not None:
    films.show_frames(film)

"""
## Colours you know

List them in `POINTS` as `(frame, x, y, colour)`: the frame you read the position on, x
and y off its grid, the colour in plain words (`"red"`, `"navy"`, `"tan"`: the CSS colour
names) or as a hex code. From its frame on, a point moves with what it was put on (the
optical flow between frames carries it) until the shot ends at a cut; give it on the
shot's first frame to colour all of the shot. It needs a model that takes hints
(`HINTS_MODEL`, found as 06 finds it). The
same points as JSON (`[{"frame": 0, "x": 120, "y": 45, "color": "red"}]`) are what
`colorpast colorize FILM --hints points.json` takes.
"""

# %%
POINTS = [  # (frame, x, y, colour): the frame number and x, y read off the grid above
    # (0, 120, 45, "red"),
]
if SMOKE:
    POINTS = [(0, 60, 40, "red")]
colouring = photo_hints.hints_model(HINTS_MODEL, smoke=SMOKE)[1] if POINTS else model  # as 06 finds one
if colouring is None:
    colouring, POINTS = model, []

"""
## A short preview first

The first `PREVIEW` seconds, coloured and played here with their sound, before the whole
film takes its time. Frames stream through one at a time: the model colours every third
frame, and the colour of each frame is carried to the next along the optical flow, where
what it is on moved; where the flow holds, the model's new guess is blended in, and at a
cut (a new shot) it starts afresh. Coloured one by one, frames flicker: that is what the
carrying takes away (benchmarks/RESULTS.md, "Films", measures it).
"""

if film is not None and colouring is not None:
    preview = films.colour(film, colouring, OUT, points=POINTS, preview=PREVIEW, redo=True, size=SIZE)
    films.play(preview)

"""
## The whole film

The same for the whole film: on this CPU, a 480p film goes at several frames a second
(benchmarks/RESULTS.md, "Films"; a GPU runtime is faster). A progress bar says how long it
has left. If the runtime disconnects, the finished pieces stay on Drive: run the notebook
again with the same settings and it goes on from where it stopped. The output appears in
`OUT` only when complete, at the film's size and frame rate, with its sound.
"""

done = None
if film is not None and colouring is not None:
    done = films.colour(film, colouring, OUT, points=POINTS, redo=REDO, size=SIZE)
    films.play(done)

"""
## Your film

The coloured film is in `OUT`, on Drive on Colab; on Colab a button below downloads it.
"""

if done is not None:
    photos.offer_download(OUT, env, files=[done]);

"""
## Done

On Colab, this writes out what is still on its way to Drive, so closing the tab now loses
nothing.
"""

notebook.finish(env)
