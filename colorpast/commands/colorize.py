"""``colorpast colorize``: full-resolution colorization of photos, folders and films."""

import sys
from pathlib import Path

from colorpast.errors import UserError
from colorpast.fsutil import writable_dir

HELP = "colorize photos, films or folders at full resolution with a trained model"
DESCRIPTION = (
    "Colorize image files, films, or every image and film under the given folders, with a trained model. "
    "Each photo is colorized from its L (colour, black-and-white or sepia alike): ab is "
    "predicted at the model's working size, upsampled to the photo's size and joined with "
    "its full-resolution L, so the PNG written to --out keeps the input's size and detail. "
    "EXIF orientation is honoured. A file that cannot be read is reported and skipped; the "
    "exit status is 1 if any failed. --hints gives a model that takes hints (seed16_hints) the "
    "colours you know: a JSON list of points [{\"x\": 120, \"y\": 45, \"color\": \"#b22234\"}] in the "
    "photo's pixels, or a scribble PNG of the photo's size with colour strokes on a transparent "
    "background. A film (mp4, mov, mkv, webm, avi ...) becomes NAME.mp4 in --out at its size and frame "
    "rate with its sound: frames stream through one at a time, colour is carried along the optical flow "
    "between the frames the model colours (no flicker) and starts over at each cut; a run that stops "
    "goes on from where it stopped when run again. A film's --hints are points with the frame they are "
    "given on, [{\"frame\": 0, \"x\": 120, \"y\": 45, \"color\": \"red\"}]: each moves with what it was "
    "put on until its shot ends."
)


BEST = "best"  # colorpast.model_choice.BEST, named here so the parser imports no Keras


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files, films and/or folders")
    p.add_argument("--model", default=BEST,
                   help="a run folder (runs/NAME; runs/NAME:best for its epoch with the lowest validation loss), "
                        "NAME:bundled (effunet_cls:bundled, the models this project ships), NAME:official "
                        "(colorful:official) or a .keras file. Default: as notebooks 06 and 07 choose, said in one "
                        "line: the model 'colorpast evaluate' measured best under ./reports, else your newest run "
                        "under ./runs, else the shipped one for what is coloured (photos effunet_cls:bundled, films "
                        "effunet:bundled, --hints effunet_hints:bundled)")
    p.add_argument("--out", required=True, help="output folder for the colorized PNGs and films (NAME.mp4)")
    p.add_argument("--size", type=int, help="shorter side at which the model runs (default: the model's own, 224)")
    p.add_argument("--temperature", type=float,
                   help="313-bin models (colorful, *_cls): annealed-mean temperature "
                        "(default: the run's decode.json, else 0.38)")
    p.add_argument("--batch-size", type=int, default=8, help="photos decoded and predicted together (default 8)")
    p.add_argument("--saturation", type=float,
                   help="multiply the predicted colours by this (default 1; above 1 bolder, below 1 paler)")
    p.add_argument("--normalize", action="store_true",
                   help="for faded old prints: stretch the photo's lightness to a modern photo's range and remove specks "
                        "before the model sees it (the output keeps the photo's own lightness)")
    p.add_argument("--hints", metavar="FILE",
                   help="colour hints for one photo (a .json list of points or a scribble .png the photo's size) "
                        "or one film (a .json list of points, each with its frame)")
    p.add_argument("--preview", type=float, metavar="SECONDS",
                   help="films: colour only the first SECONDS, into NAME-preview.mp4")
    p.add_argument("--every", type=int, metavar="N",
                   help="films: the model colours every N-th frame, colour is carried to the others (default 3; "
                        "1 with --keep 0 colours each frame alone)")
    p.add_argument("--keep", type=float, metavar="SHARE",
                   help="films: at a frame the model colours, this share of the colour carried from the frames "
                        "before is kept (default 0.8)")


def _carry(args):
    from dataclasses import replace

    from colorpast.video.carry import DEFAULT

    changes = {k: v for k, v in (("every", args.every), ("keep", args.keep)) if v is not None}
    return replace(DEFAULT, **changes).check()


def run(args) -> int:
    from colorpast.photofiles import find_images
    from colorpast.video.reader import find_films, is_film

    # The user's mistakes that need no model are found before Keras (and TensorFlow) load: seconds.
    films = find_films(args.paths)
    photo_paths = [p for p in args.paths if not (is_film(p) and Path(p).is_file())]
    files = find_images(photo_paths) if photo_paths else []
    if args.hints is not None:
        if len(files) + len(films) != 1:
            raise UserError(f"--hints belong to one photo or film; {len(files) + len(films)} were given")
        if not Path(args.hints).is_file():
            raise UserError(f"{args.hints}: no such hints file (give a .json list of points or a scribble .png)")
    if args.preview is not None and not args.preview > 0:
        raise UserError(f"--preview is the seconds of each film's start to colour; got {args.preview}")
    carry = _carry(args)
    out = writable_dir(args.out)
    from colorpast import model_choice
    from colorpast.colorizer import load_model
    from colorpast.models import spec as model_spec

    def log(msg):
        sys.stderr.write(f"colorpast colorize: {msg}\n")

    if args.model == BEST:
        # Photos and films each get their own choice; one model loads once when both agree.
        loaded = {}

        def chosen(films_: bool):
            ref = _choose(args, films=films_)
            if ref not in loaded:
                loaded[ref] = load_model(ref)
            return loaded[ref]

        model = chosen(False) if files or not films else None
        film_model = chosen(True) if films else None
    else:
        model = load_model(args.model)
        if args.hints is not None and not model_spec(model).hints:
            # A model at hand that takes hints (your hint run, the one this project ships, Zhang
            # et al. 2017's once fetched); without one, colorize_paths says what to do.
            other = model_choice.for_hints(BEST, log=lambda _: None, fetch=False)
            if other:
                log(f"{args.model} takes no colour hints: using {other}")
                model = load_model(other)
        film_model = model
    decode = {"temperature": args.temperature} if args.temperature is not None else {}
    if args.normalize:
        decode["normalize"] = True
    if args.saturation is not None:
        decode["saturation"] = args.saturation
    if args.hints is not None:
        decode["hints"] = args.hints

    film_names = {str(f) for f in films}

    def photo_log(msg):  # a film under a folder is no photo, but it is not skipped: it is coloured below
        if not (msg.startswith("skipped ") and msg[8:].split(": ", 1)[0] in film_names):
            log(msg)

    failed = 0
    if files or not films:
        from colorpast.colorizer import colorize_paths
        written, bad = colorize_paths(photo_paths, model, out, size=args.size, batch_size=args.batch_size,
                                      log=photo_log, **decode)
        failed += len(bad)
        print(f"colorized {len(written)} photo(s) into {out}" + (f"; {len(bad)} failed" if bad else ""))
    if films:
        failed += _films(films, args, film_model, out, carry, decode, log)
    return 1 if failed else 0


def _choose(args, films: bool) -> str:
    """The model no --model named, chosen as 06 (photos) and 07 (films) choose it, in one
    line on stderr; a UserError with that line when none is at hand (offline, nothing
    trained, nothing shipped)."""
    from colorpast import model_choice

    said = []
    ref = (model_choice.for_hints(BEST, log=said.append) if args.hints is not None
           else model_choice.automatic(BEST, log=said.append, films=films))
    if ref is None:
        raise UserError(said[-1] if said else "no model to colorize with")
    for line in said:
        sys.stderr.write(f"colorpast colorize: {'films: ' if films else ''}{line}\n")
    return ref


def _films(films, args, model, out, carry, decode, log) -> int:
    """Colour each film; a film that cannot be read is reported and the others go on. Returns how many failed."""
    from colorpast.video.film import colorize_film
    from colorpast.video.reader import probe

    failed = 0
    for f in films:
        try:
            probe(f)
        except UserError as e:  # not a film, no video stream: one line, and the others go on
            log(f"skipped {e}")
            failed += 1
            continue
        r = colorize_film(f, model, out, paths=args.paths, size=args.size, carry=carry, preview=args.preview,
                          log=log, **decode)
        bad = f"; {len(r.unreadable)} frame(s) did not decode" if r.unreadable else ""
        print(f"coloured {f} into {r.path} ({r.frames} frames, {r.model_frames} by the model, {r.cuts} cut(s){bad})")
        failed += bool(r.unreadable)
    return failed
