"""``colorpast app``: a local web page to colorize photos and paint the colours you know."""

HELP = "a local web page: drop in a photo, paint the colours you know, download the result"
DESCRIPTION = (
    "Start a web page on this machine (http://127.0.0.1:PORT). Drop in a photo: it is colorized at "
    "once and shown before and after. Paint colour strokes on its gray copy, or upload hints (a "
    "scribble PNG the photo's size, or a JSON list of points), press Colorize again, and download "
    "the full-resolution PNG. Only a model that takes hints (effunet_hints, seed16_hints) follows them. "
    "The model chooser offers --model, every trained run under --runs (newest first), the models this "
    "project ships (effunet_cls:bundled, effunet:bundled, effunet_hints:bundled) and published ones "
    "already fetched; it starts on --model, else the one 'colorpast evaluate' measured best, else your "
    "newest run, else effunet_cls:bundled. Needs Gradio: "
    'pip install "colorpast[app]". Nothing is shared beyond --host; no analytics.'
)


def add_arguments(p) -> None:
    p.add_argument("--port", type=int, default=7860, help="port to serve on (default 7860)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for your network)")
    p.add_argument("--model", help="a run folder (runs/NAME, or runs/NAME:best for its best epoch), NAME:bundled "
                        "(effunet_hints:bundled), colorful:official or a .keras file; chosen first")
    p.add_argument("--runs", default="runs", help="folder of training runs to offer (default runs)")


def run(args) -> int:
    # Gradio, Keras and TensorFlow come with the app: imported here so that --help stays fast.
    from colorpast import app

    app.gradio()  # a missing Gradio is one line before any model loads
    app.launch(port=args.port, host=args.host, model=args.model, runs_dir=args.runs)
    return 0
