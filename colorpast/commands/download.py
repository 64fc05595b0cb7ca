"""``colorpast download``: a Kaggle dataset into ``data/raw/NAME``, through the official client."""

# Imported at the top, unlike the other verbs' working modules: the help lists the aliases,
# and colorpast.data.download imports the Kaggle client only when it fetches.
from colorpast.data.download import ALIASES, download

HELP = "download a Kaggle dataset (flickr30k, anime, art or OWNER/SLUG) into data/raw/NAME"
DESCRIPTION = (
    "Download a Kaggle dataset with the official kaggle client and extract it, nested "
    "folders and all, into DEST/NAME. Aliases for the seed paper's datasets: "
    + ", ".join(f"{k} = {v}" for k, v in ALIASES.items())
    + ". Any OWNER/SLUG works too. Credentials: KAGGLE_API_TOKEN, KAGGLE_USERNAME and "
    "KAGGLE_KEY, a kaggle.json, or Colab secrets. Re-running does nothing once a download "
    "is complete; a truncated or corrupt archive is fetched again."
)


def add_arguments(p) -> None:
    p.add_argument("name", help=f"an alias ({', '.join(ALIASES)}) or OWNER/SLUG")
    p.add_argument("--dest", default="data/raw", help="parent folder (default: data/raw); the dataset lands in DEST/NAME")
    p.add_argument("--keep-archive", action="store_true", help="keep the downloaded zip after extracting it")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--no-extract", action="store_true",
                   help="keep the checked archive as DEST/NAME.zip instead of extracting it (prepare reads zips)")


def run(args) -> int:
    # download() prints where the dataset landed.
    download(args.name, dest=args.dest, keep_archive=args.keep_archive, quiet=args.quiet, unzip=not args.no_extract)
    return 0
