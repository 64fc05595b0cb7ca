"""The models this project trained and ships: ``NAME:bundled`` (``effunet:bundled``).

Each is a Keras weights file ``weights/NAME.weights.h5`` (float16 arrays where that moves
no figure by more than 0.02, else float32; at most ``MAX_BYTES``) with a record beside it, ``weights/NAME.json``: what it was trained on, for
how long, with which recipe, at which commit, and its figures as ``colorpast evaluate``
printed them. They are committed to the repository and installed with the package (a
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
import tempfile
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


def load(name: str):
    """The registered model ``name`` with its bundled weights, decoding as its record says
    (a 313-bin model's chosen temperature). One line when ``name`` ships none."""
    from colorpast import models

    f = path(name)
    if f is None:
        shipped = ", ".join(f"{n}:bundled" for n in names()) or "none"
        raise UserError(f"no bundled weights for {name} (bundled: {shipped})")
    options = {"weights": None} if models.spec(name).encoder else {}  # the file holds the encoder too
    model = models.build(name, (None, None, 1), **options)
    model.load_weights(str(f))
    decode = record(name).get("decode") or {}
    return models.with_decode(model, **decode)


def write(model, out, record: dict, half: bool = True) -> Path:
    """Write ``model``'s weights as float16 (``half``; else float32) to ``out``
    (``DIR/NAME.weights.h5``) and its ``record`` beside it (``DIR/NAME.json``), each
    atomically; returns the weights file. Raises UserError when the file would be over
    ``MAX_BYTES``."""
    import h5py
    import numpy as np

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, atomic_path(out) as tmp:
        full = Path(scratch) / f"model{SUFFIX}"
        model.save_weights(str(full))  # float32, Keras's layout
        with h5py.File(full, "r") as src, h5py.File(tmp, "w") as dst:
            def copy(name, obj):  # the same tree, float32 arrays as float16 (Keras casts them back on load)
                if isinstance(obj, h5py.Dataset):
                    data = obj[()]
                    dst.create_dataset(name, data=data.astype(np.float16) if half and data.dtype == np.float32 else data)
                else:
                    dst.require_group(name)
                dst[name].attrs.update(dict(obj.attrs))

            dst.attrs.update(dict(src.attrs))
            src.visititems(copy)
        size = Path(tmp).stat().st_size
        if size > MAX_BYTES:
            raise UserError(f"{out.name} would be {size / 2**20:.1f} MB, over the {MAX_BYTES // 2**20} MB a "
                            "bundled model may take")
    write_text_atomic(out.with_name(out.name[: -len(SUFFIX)] + ".json"), json.dumps(record, indent=1) + "\n")
    return out
