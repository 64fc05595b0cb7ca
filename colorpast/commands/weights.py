"""``colorpast weights fetch NAME``: official weights, downloaded, checked and converted to Keras."""

# Imported at the top, unlike the other verbs' working modules: RELEASES names the choices,
# and colorpast.weights imports Keras only inside its converters. The module, not its
# names: ``weights.fetch`` is looked up when the command runs, so what replaces it (a test's
# stand-in, a mirror's wrapper) is what runs, whenever this module was first imported.
from colorpast import weights

HELP = "download official weights and convert them to Keras"
DESCRIPTION = (
    "colorpast weights fetch colorful: download the ECCV 2016 Colorful weights released with "
    "richzhang/colorization (PyTorch, 129 MB), check their sha256, convert them once to "
    "weights/colorful_eccv16.weights.h5; then models.build('colorful', weights='official') loads them. "
    "colorpast weights fetch fid-inception: pytorch-fid's FID Inception (91 MB), converted to "
    "weights/fid_inception.weights.h5 for colorpast evaluate --fid."
)


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    f = sub.add_parser("fetch", help="download, verify and convert", description=DESCRIPTION)
    f.add_argument("name", choices=sorted(weights.RELEASES), help="which model's official weights")
    f.add_argument("--out", default=None,
                   help="Keras weights file (default: weights/colorful_eccv16.weights.h5 or weights/fid_inception.weights.h5)")
    f.add_argument("--url", default=None, help="download from this mirror instead (same sha256 required)")
    f.add_argument("--force", action="store_true", help="convert again even if the Keras file exists")


def run(args) -> int:
    out = weights.fetch(args.name, out=args.out, url=args.url, force=args.force)
    print(f"{args.name}: official weights ready in {out}")
    return 0
