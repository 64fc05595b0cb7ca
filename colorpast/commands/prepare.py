"""``colorpast prepare``: a folder, zip or the embedded sample -> training shards (``colorpast.data.prepare``).

Every default comes from ``Settings`` and the constants beside it: this module writes none.
"""

# Imported at the top: the options' defaults come from here, and these modules load Pillow,
# OpenCV and tqdm only when they decode, so `colorpast --help` stays light (tests/data/test_prepare.py).
from colorpast.data.decode import FITS
from colorpast.data.prepare import SHARD_SIZE, Settings, prepare

HELP = f"decode, validate and resize a folder, zip or the embedded sample into {Settings.size}x{Settings.size} training shards"
DESCRIPTION = (
    "Decode every file of SOURCE once (a folder with nested subfolders and mixed formats, a "
    ".zip file, or 'embedded'), apply EXIF orientation, convert to 8-bit RGB, drop "
    "black-and-white images, exact duplicates and every file that is not a usable photo "
    "(each listed with its reason in manifest.csv), resize to SIZE x SIZE, split "
    f"train/val/test by content hash ({100 - Settings.val_percent - Settings.test_percent}/{Settings.val_percent}/"
    f"{Settings.test_percent} by default) and write uint8 RGB NumPy shards. "
    "Uses every core; an interrupted run resumes where it stopped when re-run."
)


def add_arguments(p) -> None:
    d = Settings  # the dataclass's field defaults
    p.add_argument("source", nargs="+",
                   help="a folder, a .zip file, or 'embedded' (the photos shipped with scikit-image and matplotlib); "
                        "several make one set, each photo named SOURCE_NAME/PATH")
    p.add_argument("--out", required=True, help="output folder, e.g. data/prepared/NAME")
    p.add_argument("--size", type=int, default=d.size, help=f"output side in pixels (default: {d.size})")
    p.add_argument("--fit", choices=FITS, default=d.fit,
                   help=f"crop: short side to SIZE, centre crop; pad: long side to SIZE, black borders; "
                        f"squash: ignore the aspect ratio (default: {d.fit})")
    p.add_argument("--workers", type=int, default=None, help="decoding processes (default: one per core)")
    p.add_argument("--shard-size", type=int, default=SHARD_SIZE, help=f"images per shard (default: {SHARD_SIZE})")
    p.add_argument("--val", type=int, default=d.val_percent, dest="val_percent",
                   help=f"validation percentage (default: {d.val_percent})")
    p.add_argument("--test", type=int, default=d.test_percent, dest="test_percent",
                   help=f"test percentage (default: {d.test_percent})")
    p.add_argument("--min-side", type=int, default=d.min_side,
                   help="reject images whose shorter side is under this (default: SIZE / 2)")
    p.add_argument("--max-pixels", type=int, default=d.max_pixels,
                   help=f"reject images over this many pixels (default: {d.max_pixels})")
    p.add_argument("--gray-chroma", type=float, default=d.gray_chroma,
                   help=f"reject images whose mean Lab chroma is under this (default: {d.gray_chroma})")
    p.add_argument("--restart", action="store_true", help="discard what --out holds and prepare again")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    prepare(args.source if len(args.source) > 1 else args.source[0], args.out, size=args.size, fit=args.fit, workers=args.workers, shard_size=args.shard_size,
            val_percent=args.val_percent, test_percent=args.test_percent, min_side=args.min_side,
            max_pixels=args.max_pixels, gray_chroma=args.gray_chroma, restart=args.restart,
            progress=not args.no_progress)
    return 0
