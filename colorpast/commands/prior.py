"""``colorpast prior``: the ab prior over the 313 Colorful bins, from a prepared set."""

HELP = "compute the ab prior over the 313 Colorful bins from a prepared set"
DESCRIPTION = (
    "Count the train split's pixels per Colorful ab bin (at 1/4 resolution, as the loss sees them) "
    "and save the distribution as a .npy for class rebalancing: "
    "colorpast prior --data data/prepared/NAME --out weights/prior_NAME.npy"
)


def add_arguments(p) -> None:
    p.add_argument("--data", required=True, help="a prepared set folder (from colorpast prepare)")
    p.add_argument("--out", required=True, help="the .npy to write, e.g. weights/prior_NAME.npy")
    p.add_argument("--max-images", type=int, default=None, help="count only the first N train images")


def run(args) -> int:
    from colorpast.prior import compute_prior  # Keras comes with it: imported here so that --help stays fast

    prior = compute_prior(args.data, args.out, max_images=args.max_images)
    print(f"prior over {int((prior > 0).sum())} of 313 bins written to {args.out}")
    return 0
