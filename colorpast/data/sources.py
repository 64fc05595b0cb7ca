"""Where photos come from. For now: the embedded sample that ships inside installed packages.

The embedded sample needs no network and no download: real colour photographs bundled
with scikit-image (``skimage.data``) and matplotlib (its sample data). It is the
default dataset of ``colorpast demo``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Photo:
    name: str
    rgb: np.ndarray  # H x W x 3 uint8
    credit: str


def _skimage(name: str):
    import skimage.data

    def load():
        img = getattr(skimage.data, name)()
        return img[0] if isinstance(img, tuple) else img  # stereo_motorcycle: (left, right, disparity)

    return load


def _grace_hopper():
    import matplotlib.cbook
    from PIL import Image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(Image.open(f).convert("RGB"))


# name -> (loader, credit). Only natural colour photographs: scikit-image's microscopy,
# astronomy and synthetic images would teach the model colours old photos never have.
_EMBEDDED = {
    "astronaut": (_skimage("astronaut"), "Eileen Collins, NASA (scikit-image)"),
    "chelsea": (_skimage("chelsea"), "Stefan van der Walt (scikit-image)"),
    "coffee": (_skimage("coffee"), "Rachel Michetti (scikit-image)"),
    "rocket": (_skimage("rocket"), "SpaceX, public domain (scikit-image)"),
    "motorcycle": (_skimage("stereo_motorcycle"), "Middlebury stereo dataset (scikit-image)"),
    "grace_hopper": (_grace_hopper, "U.S. Navy, public domain (matplotlib)"),
}

# Held out from demo training and used to evaluate it: a cat and a portrait, subjects
# the training photos do not contain, so the scores say something about generalization.
EMBEDDED_HELD_OUT = ("chelsea", "grace_hopper")


def embedded_names() -> list[str]:
    return list(_EMBEDDED)


def embedded_sample(names=None) -> list[Photo]:
    """Load the embedded photos (all, or those named) as uint8 RGB, in a fixed order.

    A photo that cannot be loaded offline in this installation is skipped, so a newer
    scikit-image that moves a file to its download cache does not break the demo; an
    empty result raises RuntimeError.
    """
    photos = []
    for name in names or _EMBEDDED:
        loader, credit = _EMBEDDED[name]
        try:
            rgb = np.ascontiguousarray(loader()[..., :3], dtype=np.uint8)
        except Exception:  # noqa: BLE001 - a missing optional file must not stop the demo
            continue
        photos.append(Photo(name, rgb, credit))
    if not photos:
        raise RuntimeError("none of the embedded sample photos could be loaded from scikit-image or matplotlib")
    return photos
