"""Flicker, measured: how much a video's colour changes from one frame to the next where
nothing it shows has changed colour, beside its accuracy and colourfulness.

The temporal difference of a video (the warping error of Lai et al., ECCV 2018, in
CIEDE2000): for each frame and the one before it, the flow between them is measured on
the *true* video's gray frames (OpenCV's Farneback flow, both ways: another method than
the DIS flow the film colorizer carries colour with, so that the measure does not judge
the carrying by its own flow); the frame before is carried to this one along it, and the
CIEDE2000 between the two is averaged over the pixels where the flow holds (the
forward-backward check, ``flow.holds``). Both are taken with this frame's own lightness,
so only colour (a, b) counts: every video compared shares the true one's L. Pairs
across a cut are left out (found as the film colorizer finds them, ``flow.step`` with
DIS at 224 px: Farneback's smooth flow holds on a third of a cut). Then the mean over
pairs.

The same figure of the true colour video is the floor a colorization should come near:
it is not 0 (lights change, the flow errs, a codec's noise), and a colorization far below
it has frozen the colour. The gray video scores 0: no colour, no flicker. Hence accuracy
(CIEDE2000 against the truth, each frame) and colourfulness (Hasler and Suesstrunk,
``metrics.colorfulness``) beside it, as for photos.

Everything is measured at ``MEASURE_SHORT`` px on the shorter side (area-averaged): the
colour is predicted at 224 px and flicker is a matter of regions, not of pixels; it
keeps a minute of film to minutes of measuring (CIEDE2000 is scikit-image's, 60 ms for
a 640 x 360 frame on the 2-core CPU).
"""

from __future__ import annotations

import cv2
import numpy as np
import skimage.color

from colorpast import color, metrics
from colorpast.video import flow as flow_tools

MEASURE_SHORT = 256
CUT_SHORT = 224  # the size cuts are found at: the film colorizer's


def measuring_size(height: int, width: int, short: int = MEASURE_SHORT) -> tuple[int, int]:
    """(h, w): the frame's size with its shorter side ``short`` (the frame's own when smaller)."""
    scale = min(1.0, short / min(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _lab(rgb8: np.ndarray) -> np.ndarray:
    return color.rgb_to_lab(rgb8.astype(np.float32) / 255.0).astype(np.float64)


class FilmScores:
    """Scores of several videos of the same film (the truth and colorizations of it), fed
    frame by frame: ``add(truth, {name: frame})``, then :meth:`summary`. Frames are
    ``H x W x 3`` uint8 RGB of the film's size."""

    def __init__(self):
        self.flow, self.cut_flow = flow_tools.Farneback(), flow_tools.Flow()
        self.size = self.cut_size = None
        self.gray = self.cut_gray = None
        self.before: dict[str, np.ndarray] = {}  # name -> the frame before's Lab at the measuring size
        self.sums: dict[str, dict[str, float]] = {}
        self.frames = self.pairs = self.cuts = 0

    @staticmethod
    def _small(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        h, w = size
        return cv2.resize(np.ascontiguousarray(a), (w, h), interpolation=cv2.INTER_AREA)

    def add(self, truth: np.ndarray, outputs: dict[str, np.ndarray]) -> None:
        """One frame: the true frame and each video's frame (the truth is scored as "truth")."""
        if self.size is None:
            self.size = measuring_size(*truth.shape[:2])
            self.cut_size = measuring_size(*truth.shape[:2], CUT_SHORT)
        frames = {"truth": self._small(truth, self.size), **{k: self._small(v, self.size) for k, v in outputs.items()}}
        labs = {k: _lab(v) for k, v in frames.items()}
        gray = flow_tools.gray8(labs["truth"][..., 0])
        cut_gray = self._small(gray, self.cut_size)
        step = None
        if self.gray is not None:
            if flow_tools.step(self.cut_flow, self.cut_gray, cut_gray).cut:
                self.cuts += 1
            else:
                step = flow_tools.step(self.flow, self.gray, gray)
                self.pairs += 1
        L = labs["truth"][..., :1]
        for name, lab in labs.items():
            s = self.sums.setdefault(name, {"temporal": 0.0, "ciede2000": 0.0, "colorfulness": 0.0})
            s["ciede2000"] += float(np.mean(skimage.color.deltaE_ciede2000(labs["truth"], lab)))
            s["colorfulness"] += metrics.colorfulness(frames[name].astype(np.float64) / 255.0)
            if step is not None and step.held.any():
                carried = flow_tools.warp(self.before[name][..., 1:].astype(np.float32), step.back)
                now = np.concatenate([L, lab[..., 1:]], -1)[step.held]  # n x 3: the pixels where the flow held
                then = np.concatenate([L, carried.astype(np.float64)], -1)[step.held]
                s["temporal"] += float(np.mean(skimage.color.deltaE_ciede2000(now, then)))
            self.before[name] = lab
        self.gray, self.cut_gray = gray, cut_gray
        self.frames += 1

    def summary(self) -> dict[str, dict[str, float]]:
        """``{name: {"temporal", "ciede2000", "colorfulness"}}``: the temporal difference
        (mean over pairs within shots), the mean CIEDE2000 against the truth and the mean
        colourfulness (over frames); plus "frames", "pairs" and "cuts"."""
        out = {}
        for name, s in self.sums.items():
            out[name] = {"temporal": s["temporal"] / max(self.pairs, 1), "ciede2000": s["ciede2000"] / max(self.frames, 1),
                         "colorfulness": s["colorfulness"] / max(self.frames, 1),
                         "frames": self.frames, "pairs": self.pairs, "cuts": self.cuts}
        return out
