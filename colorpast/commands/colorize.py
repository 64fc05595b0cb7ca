"""``colorpast colorize``: full-resolution colorization of photos and folders."""

import sys
from pathlib import Path

from colorpast.errors import UserError
from colorpast.fsutil import writable_dir

HELP = "colorize photos or folders at full resolution with a trained model"
DESCRIPTION = (
    "Colorize image files, or every image under the given folders, with a trained model. "
    "Each photo is colorized from its L (colour, black-and-white or sepia alike): ab is "
    "predicted at the model's working size, upsampled to the photo's size and joined with "
    "its full-resolution L, so the PNG written to --out keeps the input's size and detail. "
    "EXIF orientation is honoured. A file that cannot be read is reported and skipped; the "
    "exit status is 1 if any failed. --hints gives a model that takes hints (seed16_hints) the "
    "colours you know: a JSON list of points [{\"x\": 120, \"y\": 45, \"color\": \"#b22234\"}] in the "
    "photo's pixels, or a scribble PNG of the photo's size with colour strokes on a transparent "
    "background."
)


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files and/or folders")
    p.add_argument("--model", required=True,
                   help="a run folder (runs/NAME; runs/NAME:best for its epoch with the lowest validation loss), "
                        "NAME:official (colorful:official) or a .keras file")
    p.add_argument("--out", required=True, help="output folder for the colorized PNGs")
    p.add_argument("--size", type=int, help="shorter side at which the model runs (default: the model's own, 224)")
    p.add_argument("--temperature", type=float, help="colorful only: annealed-mean temperature (default 0.38)")
    p.add_argument("--batch-size", type=int, default=8, help="photos decoded and predicted together (default 8)")
    p.add_argument("--saturation", type=float,
                   help="multiply the predicted colours by this (default 1; above 1 bolder, below 1 paler)")
    p.add_argument("--normalize", action="store_true",
                   help="for faded old prints: stretch the photo's lightness to a modern photo's range and remove specks "
                        "before the model sees it (the output keeps the photo's own lightness)")
    p.add_argument("--hints", metavar="FILE",
                   help="colour hints for one photo: a .json list of points or a scribble .png the photo's size")


def run(args) -> int:
    from colorpast.photofiles import find_images

    # The user's mistakes that need no model are found before Keras (and TensorFlow) load: seconds.
    files = find_images(args.paths)
    if args.hints is not None:
        if len(files) != 1:
            raise UserError(f"--hints belong to one photo; {len(files)} were given")
        if not Path(args.hints).is_file():
            raise UserError(f"{args.hints}: no such hints file (give a .json list of points or a scribble .png)")
    out = writable_dir(args.out)
    from colorpast import model_choice
    from colorpast.colorizer import colorize_paths, load_model
    from colorpast.models import spec as model_spec
    model = load_model(args.model)
    if args.hints is not None and not model_spec(model).hints:
        # A model at hand that takes hints (your hint run, the one this project ships, Zhang
        # et al. 2017's once fetched); without one, colorize_paths says what to do.
        other = model_choice.for_hints(model_choice.BEST, log=lambda _: None, fetch=False)
        if other:
            sys.stderr.write(f"colorpast colorize: {args.model} takes no colour hints: using {other}\n")
            model = load_model(other)
    decode = {"temperature": args.temperature} if args.temperature is not None else {}
    if args.normalize:
        decode["normalize"] = True
    if args.saturation is not None:
        decode["saturation"] = args.saturation
    if args.hints is not None:
        decode["hints"] = args.hints

    def log(msg):
        sys.stderr.write(f"colorpast colorize: {msg}\n")

    written, failed = colorize_paths(args.paths, model, out, size=args.size, batch_size=args.batch_size,
                                     log=log, **decode)
    print(f"colorized {len(written)} photo(s) into {out}" + (f"; {len(failed)} failed" if failed else ""))
    return 1 if failed else 0
