"""``colorpast evaluate``: every model and the gray baseline on the same photos, same metrics."""

from colorpast.errors import UserError
from colorpast.fsutil import writable_dir

HELP = "compare models and the gray baseline on the same photos: tables, per-image CSV, grids, chart"
DESCRIPTION = (
    "Colorize the same photos with every model given (run folders, RUN:best for a run's epoch with the "
    "lowest validation loss, NAME:bundled such as effunet_cls:bundled, NAME:official such as "
    "colorful:official, .keras files) and always the gray baseline (ab = 0), score each with "
    "every metric of colorpast.metrics (name 'sepia' for a second baseline: one warm colour, the "
    "median of ImageNet photos, everywhere; a model that does not beat it has learned only the "
    "average colour), and write metrics.md, metrics.csv, per_image.csv, "
    "grid.png (gray input | each model | ground truth) and chart.png into --out. --data is a "
    "prepared set (its --split) or a folder of photos, used at full resolution. --fid adds FID "
    "(needs colorpast weights fetch fid-inception); --protocol paper evaluates as the "
    "colorization papers do: 256 x 256 centre crops, FID, colourfulness CF, ΔCF and PSNR. "
    "--hints 0 1 5 10 50 runs every model that takes colour hints with that many true colours "
    "revealed at random points of each photo (hints.png draws the curve); --aged colorizes aged "
    "copies of the photos (faded, grainy, blurred, scratched, toned) and scores them against the "
    "clean ones. --data may also be a colour film or a folder of films (mp4, mov, mkv, webm, avi ...): "
    "every model colours each film from its gray frames twice, frame by frame and with colour carried "
    "along the optical flow, and films.md gives beside CIEDE2000 and colourfulness the temporal "
    "difference (flicker) of each, of the gray video and of the true video; --limit N then takes the "
    "first N frames of each film."
)


def add_arguments(p) -> None:
    p.add_argument("--data", required=True, help="prepared set (colorpast prepare) or a folder of photos")
    p.add_argument("--models", nargs="+", default=["gray"], metavar="MODEL",
                   help="run folders (RUN:best: its best epoch), NAME:bundled (the models this project ships, "
                        "effunet_cls:bundled), NAME:official or .keras files; 'gray' is always "
                        "included, 'sepia' (ImageNet's median colour on every pixel) when named")
    p.add_argument("--split", default="test", choices=["train", "val", "test"], help="split of a prepared set (default: test)")
    p.add_argument("--out", required=True, help="report folder (e.g. reports/NAME)")
    p.add_argument("--limit", type=int, help="evaluate on the first N photos only (films: the first N frames of each)")
    p.add_argument("--size", type=int, help="shorter side at which models run (default: each model's own)")
    p.add_argument("--temperature", type=float,
                   help="313-bin models (colorful, *_cls): annealed-mean temperature "
                        "(default: the run's decode.json, else 0.38)")
    p.add_argument("--grid", type=int, default=6, help="photos shown in grid.png (default 6)")
    p.add_argument("--fid", action="store_true",
                   help="add FID against the evaluated photos (FID Inception weights: colorpast weights fetch fid-inception)")
    p.add_argument("--hints", type=int, nargs="+", metavar="N",
                   help="reveal N true colours at random points of each photo to the models that take hints "
                        "(several N: a row each, and hints.png)")
    p.add_argument("--raw-hints", action="store_true",
                   help="score the hint models' colours as the network gives them, without honouring each hint "
                        "around it afterwards (the 2017 paper's protocol; colorpast.hints.honour)")
    p.add_argument("--saturation", type=float,
                   help="multiply the predicted colours by this (default 1; above 1 bolder, below 1 paler)")
    p.add_argument("--normalize", action="store_true",
                   help="for faded old prints: stretch the photo's lightness to a modern photo's range and remove specks "
                        "before the model sees it (the output keeps the photo's own lightness)")
    p.add_argument("--aged", action="store_true",
                   help="colorize aged copies of the photos (colorpast.ageing) and score them against the clean photos")
    p.add_argument("--seed", type=int, default=0, help="seed of the revealed hints and of the ageing (default 0)")
    p.add_argument("--protocol", default="full", choices=["full", "paper"],
                   help="full: photos at their size, every metric (default); paper: 256 x 256 centre crops, "
                        "FID, CF, ΔCF and PSNR first, as DDColor and others report on ImageNet val")


def _films(data: str) -> bool:
    """Whether ``--data`` names a film, or a folder of films and no photos (not a prepared set)."""
    from pathlib import Path

    from colorpast.photofiles import find_images
    from colorpast.video.reader import find_films, is_film

    p = Path(data)
    if p.is_file():
        return is_film(p)
    return p.is_dir() and not (p / "prepared.json").is_file() and bool(find_films([p])) and not find_images([p])


def run(args) -> int:
    out = writable_dir(args.out)  # a mistake in --out is one line before Keras (and TensorFlow) load: seconds
    decode = {"temperature": args.temperature} if args.temperature is not None else {}
    if args.normalize:
        decode["normalize"] = True
    if args.saturation is not None:
        decode["saturation"] = args.saturation
    if args.raw_hints:
        decode["raw_hints"] = True
    if _films(args.data):
        photos_only = [o for o, on in (("--hints", args.hints), ("--raw-hints", args.raw_hints), ("--aged", args.aged),
                                       ("--fid", args.fid), ("--protocol paper", args.protocol == "paper"),
                                       ("sepia", "sepia" in args.models))
                       if on]
        if photos_only:
            raise UserError(f"{', '.join(photos_only)}: for photos; {args.data} is a film")
        from colorpast.video.evaluate import evaluate_films  # Keras comes with it, as below

        evaluate_films([args.data], [m for m in args.models if m != "gray"], out, size=args.size, limit=args.limit,
                       **decode)
        return 0
    from colorpast.evaluate import evaluate  # Keras comes with it: imported here so that --help stays fast

    evaluate(args.data, args.models, out, split=args.split, limit=args.limit, size=args.size,
             grid_count=args.grid, protocol=args.protocol, with_fid=args.fid, hints=args.hints, aged=args.aged,
             seed=args.seed, **decode)
    return 0
