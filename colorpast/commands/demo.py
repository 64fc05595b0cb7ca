"""``colorpast demo``: train seed16 on the embedded photos and colorize held-out ones."""

from colorpast.fsutil import writable_dir

HELP = "train seed16 on the embedded photos and colorize held-out ones (about 5 minutes on a 2-core CPU)"
DESCRIPTION = (
    "Train the seed paper's 16-layer model on real colour photos that ship with "
    "scikit-image and matplotlib (no download), then colorize two held-out photos "
    "and the training photos at full resolution, and compare with the gray baseline. "
    "Writes grid.png, metrics.md, metrics.csv, per_image.csv and the run (checkpoints, "
    "history, model.keras) into --out. Re-running reuses a finished run and resumes "
    "an interrupted one."
)


def add_arguments(p) -> None:
    p.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    p.add_argument("--smoke", action="store_true", help="tiny crops and a few steps: seconds, for tests")
    p.add_argument("--restart", action="store_true", help="discard a previous run in --out and train again")


def run(args) -> int:
    writable_dir(args.out)  # a mistake in --out is one line before Keras (and TensorFlow) load: seconds
    from colorpast.demo import demo  # Keras comes with it: imported here so that --help stays fast

    demo(out=args.out, smoke=args.smoke, restart=args.restart)  # it prints its tables and files as it goes
    return 0
