"""The models this project trained and ships: ``NAME:bundled`` (``effunet:bundled``).

Each is a weights file ``weights/NAME.weights.h5`` (``write``: the model's variables by
their Keras paths, float16 where that moves no figure by more than 0.02, else float32; an
ImageNet-trained encoder that training left as it was is left out and taken from its
pinned PyPI package, one it fine-tuned is held as its change from that package's
weights; at most ``MAX_BYTES``) with a record beside it, ``weights/NAME.json``:
what it was trained on, for how long, with which recipe, at which commit, and its figures
as ``colorpast evaluate`` printed them. They are committed to the repository and installed with the package (a
wheel carries them as the package data of ``colorpast.bundled_weights``, pyproject.toml), so a
new user colours a photo with them offline, before training anything: nothing is
downloaded at run time.

A source checkout (``git clone``, ``pip install -e``) reads them from its ``weights/``
folder; an installed wheel from its package data. ``COLORPAST_WEIGHTS`` moves only the
downloaded official weights (``colorpast.weights``), never these.

Keras is imported inside the functions that build or save models, so that listing the
bundled models costs nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from colorpast.errors import UserError
from colorpast.fsutil import atomic_path, write_text_atomic

SUFFIX = ".weights.h5"
MAX_BYTES = 25 * 2**20  # the repository's limit on a bundled model


ENV = "COLORPAST_BUNDLED"  # another folder to read them from (tests; benchmarks/bundle.py stages one there)


def folder() -> Path | None:
    """Where the bundled files are: ``$COLORPAST_BUNDLED``, else the checkout's ``weights/``,
    else the installed package data."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    here = Path(__file__).resolve().parent.parent / "weights"
    if (here / "README.md").is_file():
        return here
    found = importlib.util.find_spec("colorpast.bundled_weights")
    locations = list(found.submodule_search_locations or []) if found else []
    return Path(locations[0]) if locations else None


def path(name: str) -> Path | None:
    """The bundled weights file of the registered model ``name``, or None when none ships.
    A bundled model is a weights file with its record beside it: the official weights
    converted into a checkout's ``weights/`` (``colorful_eccv16.weights.h5``) have none."""
    d = folder()
    f = d / f"{name}{SUFFIX}" if d else None
    return f if f is not None and f.is_file() and f.with_name(f"{name}.json").is_file() else None


def names() -> list[str]:
    """The models that ship bundled weights."""
    d = folder()
    found = [p.name[: -len(SUFFIX)] for p in d.glob(f"*{SUFFIX}")] if d else []
    return sorted(n for n in found if path(n))


def record(name: str) -> dict:
    """The record beside a bundled model (data, budget, recipe, commit, figures); {} when none."""
    f = path(name)
    r = f.with_name(f"{name}.json") if f else None
    return json.loads(r.read_text()) if r is not None and r.is_file() else {}


FORMAT = "colorpast-variables/1"  # the file's own layout (``write``), not Keras's


def _fingerprint(arrays) -> str:
    """sha256 of float32 arrays' bytes, in order: the encoder a file leaves out, as built."""
    import hashlib

    import numpy as np

    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.float32).tobytes())
    return h.hexdigest()


def load(name: str):
    """The registered model ``name`` with its bundled weights, decoding as its record says
    (a 313-bin model's chosen temperature). One line when ``name`` ships none, or when the
    installed encoder package is not the one the file was trained on."""
    import h5py
    import numpy as np

    from colorpast import models
    from colorpast.models.efficientnet_lite import is_encoder

    f = path(name)
    if f is None:
        shipped = ", ".join(f"{n}:bundled" for n in names()) or "none"
        raise UserError(f"no bundled weights for {name} (bundled: {shipped})")
    with h5py.File(f, "r") as src:
        if src.attrs.get("format") != FORMAT:
            raise UserError(f"{f} is not a bundled model of this colorpast (no {FORMAT!r} layout): "
                            "reinstall colorpast, or make it again with benchmarks/bundle.py")
        stored = {int(k): (src["variables"][k].attrs["path"], src["variables"][k][()]) for k in src["variables"]}
        added = {int(k) for k in src["variables"] if src["variables"][k].attrs.get("of_package", False)}
        left_out = str(src.attrs.get("left_out", ""))
        package = str(src.attrs.get("package_encoder", ""))
    # A file that leaves the ImageNet-trained encoder out, or holds its change, starts from its PyPI package.
    options = {"weights": None} if models.spec(name).encoder and not (left_out or package) else {}
    model = models.build(name, (None, None, 1), **options)
    if package and _fingerprint(np.asarray(v) for v in model.weights if is_encoder(v)) != package:
        raise UserError(f"{name}:bundled was trained on another EfficientNet encoder than the installed one: "
                        "pip install -r requirements.txt (the pinned encoder packages)")
    unfilled = []
    for i, v in enumerate(model.weights):
        if i not in stored:
            unfilled.append(v)
            continue
        saved_path, data = stored.pop(i)
        if saved_path != v.path or tuple(data.shape) != tuple(v.shape):
            raise UserError(f"{f} does not fit {name}: variable {i} is {saved_path} {data.shape} in the file, "
                            f"{v.path} {tuple(v.shape)} in the model")
        data = data.astype(np.float32) if data.dtype == np.float16 else data
        v.assign(np.asarray(v) + data if i in added else data)
    if stored or not all(is_encoder(v) for v in unfilled):
        raise UserError(f"{f} does not fit {name}: {len(stored)} variables too many, "
                        f"{sum(not is_encoder(v) for v in unfilled)} missing")
    if unfilled and _fingerprint(np.asarray(v) for v in unfilled) != left_out:
        raise UserError(f"{name}:bundled was trained on another EfficientNet encoder than the installed one: "
                        "pip install -r requirements.txt (the pinned encoder packages)")
    decode = record(name).get("decode") or {}
    return models.with_decode(model, **decode)


def unchanged_encoder(model, reference=None) -> set[int]:
    """The indices of ``model.weights`` a bundled file leaves out: those of an
    ImageNet-trained encoder that training left exactly as its PyPI package builds it
    (all of the encoder's or none). ``reference``: the model as the package builds it."""
    import numpy as np

    from colorpast import models
    from colorpast.models.efficientnet_lite import is_encoder

    variables = list(model.weights)
    if not models.spec(model.name).encoder:
        return set()
    if reference is None:  # the encoder as its package builds it
        reference = models.build(model.name, (None, None, 1))
    same = {i for i, (v, r) in enumerate(zip(variables, reference.weights))
            if is_encoder(v) and np.array_equal(np.asarray(v), np.asarray(r))}
    if any(not is_encoder(variables[i]) for i in same) or len(same) not in (0, sum(is_encoder(v) for v in variables)):
        return set()  # the encoder trained (in part): the file holds it whole
    return same


def holds_encoder(model) -> bool:
    """Whether a bundled file of ``model`` holds an ImageNet-trained encoder (one training
    changed): ``half="encoder"`` then halves most of the file."""
    from colorpast import models

    return bool(models.spec(model.name).encoder) and not unchanged_encoder(model)


def write(model, out, record: dict, half: bool | str = True) -> Path:
    """Write ``model``'s weights as float16 (``half``; ``"encoder"``: only a trained
    encoder's, the rest float32; False: all float32) to ``out`` (``DIR/NAME.weights.h5``)
    and its ``record`` beside it (``DIR/NAME.json``), each atomically; returns the weights
    file. Raises UserError when the file would be over ``MAX_BYTES``.

    The file holds the model's variables in order, each with its Keras path, less those
    of an ImageNet-trained encoder that training left exactly as its PyPI package builds
    it (effunet's frozen one: three quarters of its weights, 13.7 MB in float32): ``load``
    takes those from the package, and checks they are the same by their sha256, kept in
    the file's ``left_out``. An encoder that training changed (fine-tuned) goes in whole;
    in float16 as its difference from the package's weights (``of_package``), which
    fine-tuning keeps small, so that float16 rounds the change and not the weight, and
    ``load`` adds it to the package's encoder, checked by its sha256 (``package_encoder``)."""
    import h5py
    import numpy as np

    from colorpast import models
    from colorpast.models.efficientnet_lite import is_encoder

    if half not in (True, False, "encoder"):
        raise ValueError(f"half is True, False or 'encoder', not {half!r}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    variables = list(model.weights)
    reference = models.build(model.name, (None, None, 1)) if models.spec(model.name).encoder else None
    skipped = unchanged_encoder(model, reference)
    # A trained encoder in float16: as its difference from the package's weights.
    as_difference = bool(half) and reference is not None and not skipped
    with atomic_path(out) as tmp:
        with h5py.File(tmp, "w") as dst:
            dst.attrs["format"] = FORMAT
            dst.attrs["model"] = model.name
            dst.attrs["left_out"] = _fingerprint(np.asarray(variables[i]) for i in sorted(skipped)) if skipped else ""
            dst.attrs["package_encoder"] = _fingerprint(
                np.asarray(r) for r in reference.weights if is_encoder(r)) if as_difference else ""
            group = dst.create_group("variables")
            for i, v in enumerate(variables):
                if i in skipped:
                    continue
                data = np.asarray(v)
                if as_difference and is_encoder(v) and data.dtype == np.float32:
                    d = group.create_dataset(f"{i:04d}", data=(data - np.asarray(reference.weights[i])).astype(np.float16))
                    d.attrs["of_package"] = True
                else:
                    d = group.create_dataset(f"{i:04d}", data=data.astype(np.float16) if half is True and
                                             data.dtype == np.float32 else data)
                d.attrs["path"] = v.path
        size = Path(tmp).stat().st_size
        if size > MAX_BYTES:
            raise UserError(f"{out.name} would be {size / 2**20:.1f} MB, over the {MAX_BYTES // 2**20} MB a "
                            "bundled model may take")
    write_text_atomic(out.with_name(out.name[: -len(SUFFIX)] + ".json"), json.dumps(record, indent=1) + "\n")
    return out
