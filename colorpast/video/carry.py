"""The film colorizer: the model's colour on some frames, carried along the optical flow
to the others, a new start at every cut.

A model colours each frame alone, and a frame differs from the one before in grain,
blur and a few pixels of motion; its guesses differ with them, so colours coloured one
by one flicker (DeOldify's most reported defect). Here colour moves with what it is on:

- each frame's colour starts as the colour of the frame before, carried along the
  optical flow between their gray frames (``colorpast.video.flow``), at the model's
  working size;
- every ``every``-th frame of a shot the model colours the frame too, and where the flow
  held, the two are blended: ``keep`` of the carried colour, the rest the model's; a
  colour is thus the model's guesses averaged along the path of what it is on, and where
  the flow failed (something revealed) it is the model's alone;
- a cut (a new shot, ``flow.step``) starts over from the model's colour alone, and so do
  the frames where colour hints begin; hints (``colorpast.video.points``) move with the
  flow and end at the cut.

``FRAME_BY_FRAME`` (every frame, nothing kept) is the model on each frame alone, the
baseline the temporal measure compares with. Each frame's output is its own full-
resolution L with this ab upsampled, as for a photo (``colorizer``). What each setting
buys, in flicker, accuracy and speed, is measured in benchmarks/RESULTS.md ("Films").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from colorpast import bands, colorizer, hints as hint_tools
from colorpast.errors import UserError
from colorpast.models import predict_ab, spec as model_spec
from colorpast.video import flow as flow_tools
from colorpast.video.points import FilmPoint, Tracker


@dataclass(frozen=True)
class Carry:
    """How colour is carried between frames.

    every: the model colours every ``every``-th frame of a shot (and the first, and
        those where hints begin); the frames between carry the colour alone.
    keep: at a frame the model colours, the share of the carried colour kept where the
        flow held (0: the model's alone).
    cuts: start over at a detected cut (else colour is carried across it too).
    flow: the finest scale of the DIS flow (``flow.Flow``: ``quarter``, ``half``, ``full``).

    The defaults (every 3rd frame, 0.8 kept: a colour settles over about 15 frames) halved
    the flicker of frame-by-frame colouring on the shared clips at no cost in CIEDE2000
    (benchmarks/RESULTS.md, "Films", with the figures of the other settings).
    """

    every: int = 3
    keep: float = 0.8
    cuts: bool = True
    flow: str = "half"

    def check(self) -> "Carry":
        if not (isinstance(self.every, int) and self.every >= 1):
            raise UserError(f"the model colours every N-th frame, N from 1; got {self.every!r}")
        if not 0.0 <= self.keep < 1.0:
            raise UserError(f"the share of colour kept from the frame before is from 0 to below 1; got {self.keep!r}")
        if self.flow not in flow_tools.Flow.PRESETS:
            raise UserError(f"flow preset {self.flow!r}: choose one of {', '.join(flow_tools.Flow.PRESETS)}")
        return self


DEFAULT = Carry()
FRAME_BY_FRAME = Carry(every=1, keep=0.0)


class FilmColorizer:
    """Colours one film's frames, in order: ``colorizer(index, rgb) -> H x W x 3 uint8``.

    model: a Keras model (``colorizer.load_model``); shape: the film's (H, W);
    size: the shorter side the model runs at (default: its own); points: the film's
    hints (``points.load``), for a model that takes hints; carry: :class:`Carry`;
    normalize, saturation, decode: as ``colorizer.colorize`` takes them.
    """

    def __init__(self, model, shape: tuple[int, int], size: int | None = None, points: list[FilmPoint] | None = None,
                 carry: Carry = DEFAULT, normalize: bool = False, saturation: float = 1.0, **decode):
        colorizer.check_saturation(saturation)
        self.spec = model_spec(model)
        if points and not self.spec.hints:
            raise UserError(f"{model.name} takes no colour hints; {colorizer.train_hints_model()}")
        self.model, self.shape, self.carry = model, tuple(shape), carry.check()
        self.size = colorizer.working_size(shape[0], shape[1], size or self.spec.default_size, self.spec.multiple)
        self.normalize, self.saturation, self.decode = normalize, np.float32(saturation), decode
        self.flow = flow_tools.Flow(carry.flow)
        self.tracker = Tracker(points or [], self.shape, self.size)
        self.gray = None  # the frame before: h x w uint8
        self.ab = None  # its colour: h x w x 2 float32, Lab units
        self.since = 0  # frames since the model last coloured one
        self.last = None  # the frame before's output (a frame that does not decode shows it again)
        self.counts = {"frames": 0, "model": 0, "cuts": 0}

    def _predict(self, L_small: np.ndarray) -> np.ndarray:
        """The model's ab for one frame's small L (``h x w x 1``), with this frame's hints."""
        L_in = colorizer.normalize_L(L_small) if self.normalize else L_small
        maps, given = None, None
        if self.spec.hints:
            given = self.tracker.hints()
            maps = (given.to_map(self.size) if given is not None else hint_tools.empty_map(self.size))[None]
        self.counts["model"] += 1
        ab = predict_ab(self.model, L_in[None], hints=maps, **self.decode)[0]
        if given is not None:  # each hint's miss added back around it, as for a photo
            ab = hint_tools.honour(ab, L_in, maps[0])
        return ab * self.saturation

    def colour(self, index: int, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frame ``index``'s ab at the working size (``h x w x 2``) and its full-resolution
        L, the state moved on to it; :meth:`__call__` composes the two."""
        L = bands.full_res_L(rgb)
        L_small = bands.resize_area(L, self.size)
        gray = flow_tools.gray8(L_small)
        step = None
        if self.gray is not None:
            step = flow_tools.step(self.flow, self.gray, gray)
        cut = step is None or (self.carry.cuts and step.cut)
        if cut:
            self.tracker.cut()
            self.counts["cuts"] += step is not None
            carried = None
        else:
            self.tracker.move(step.forward)
            carried = flow_tools.warp(self.ab, step.back)
        began = self.tracker.begin(index)
        if carried is None or began or self.since + 1 >= self.carry.every:
            ab = self._predict(L_small)
            if carried is not None and not began and self.carry.keep > 0:
                k = np.float32(self.carry.keep) * step.held[..., None]
                ab = k * carried + (1 - k) * ab
            self.since = 0
        else:
            ab = carried
            self.since += 1
        self.gray, self.ab = gray, ab.astype(np.float32)
        self.counts["frames"] += 1
        return self.ab, L

    def __call__(self, index: int, rgb: np.ndarray | None) -> np.ndarray | None:
        """Frame ``index`` (``H x W x 3`` uint8 RGB) coloured, ``H x W x 3`` uint8. A frame
        that did not decode (``rgb`` None) shows the one before again (None before any)."""
        if rgb is None:
            return self.last
        ab, L = self.colour(index, rgb)
        # a photo's own last step (bands, as colorizer does): its L with the ab upsampled to it, band by band
        self.last = bands._compose(rgb, ab, np.uint8, L=L)
        return self.last

    def state(self) -> tuple[dict, dict]:
        """(arrays, JSON-able) that let a resumed film go on exactly from here."""
        arrays = {} if self.gray is None else {"gray": self.gray, "ab": self.ab, "last": self.last}
        return arrays, {"since": self.since, "counts": self.counts, "points": self.tracker.state(),
                        "carry": asdict(self.carry)}

    def restore(self, arrays: dict, info: dict) -> None:
        if "gray" in arrays:
            self.gray, self.ab, self.last = arrays["gray"], arrays["ab"], arrays["last"]
        self.since, self.counts = int(info["since"]), dict(info["counts"])
        self.tracker.restore(info["points"])
