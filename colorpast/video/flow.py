"""Optical flow between two frames, where it holds, and scene cuts; NumPy and OpenCV.

What moves where from one frame to the next is measured on gray frames (the film's own
lightness, the one thing a black-and-white film has) by OpenCV's DIS optical flow
(Kroeger et al., ECCV 2016, :class:`Flow`), both ways. A pixel's flow *holds* where the two agree: the
forward-backward check of Sundaram et al. (ECCV 2010), which fails where something is
hidden or revealed, where the flow leaves the frame, and across a cut. A *cut* (a new
shot) is a frame whose flow from the one before holds almost nowhere *and* leaves it
unexplained: what the flow brings from the frame before differs from it everywhere. The
flow alone fails on flat gray sky and fog too, where nothing changes; the difference
alone is large at a flash of light, where the flow holds.

Shapes: gray frames ``h x w`` uint8; a flow ``h x w x 2`` float32 (dx, dy) in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# The forward-backward check (Sundaram et al. 2010): a pixel's flow holds when going
# there and back ends within ALPHA of the two flows' size plus BETA pixels of where it began.
ALPHA, BETA = 0.01, 0.5
# A cut: the flow holds on less than this share of the frame, and what it carries from
# the frame before differs from this one by more than this mean gray level (of 255). On
# the ten shared clips (benchmarks/bench_film.py cuts; RESULTS.md, "Films"), at the model's
# working size: the nine hard cuts hold on 0 to 9 % and differ by 49 to 110; every other
# frame that holds on less than a quarter differs by 9 at most (black titles fading in,
# a flat gray sky), and the most different one (43, a lab's lights switching) holds on 64 %.
CUT_HELD = 0.25
CUT_RESIDUAL = 15.0


def gray8(L: np.ndarray) -> np.ndarray:
    """``h x w`` or ``h x w x 1`` L (0..100) -> ``h x w`` uint8 gray (0..255) for the flow."""
    a = np.asarray(L, np.float32).reshape(L.shape[0], L.shape[1])
    return np.clip(a * 2.55 + 0.5, 0, 255).astype(np.uint8)


class Flow:
    """DIS optical flow (OpenCV's, its ULTRAFAST parameters: patches matched by gradient
    descent, no variational refinement) matched down to ``preset``'s finest scale:
    ``"quarter"``, ``"half"`` (the default) or ``"full"`` the size of the frames given.

    Why these: OpenCV's FAST preset (quarter scale, variational refinement) is smooth but
    shrinks slow motion: a point carried by it along a square moving 1 px a frame at 224 x
    384 lagged 23 px behind after 50 frames; ULTRAFAST at half scale lagged 0.1 px, for 11 ms
    a frame (both ways, the check included) against FAST's 8, and left a smaller gray
    difference on four shared clips (``benchmarks/bench_film.py flow``, RESULTS.md "Films").
    An instance keeps OpenCV's object, which is not thread-safe: one per thread."""

    PRESETS = {"quarter": 2, "half": 1, "full": 0}  # DIS's finest scale: 2 ** -scale of the frame

    def __init__(self, preset: str = "half"):
        self.preset = preset
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self.dis.setFinestScale(self.PRESETS[preset])

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The flow from gray frame ``a`` to ``b``: ``a(p) ~ b(p + flow(p))``."""
        return self.dis.calc(np.ascontiguousarray(a), np.ascontiguousarray(b), None)


class Farneback:
    """OpenCV's Farneback flow (Farneback, SCIA 2003) with OpenCV's documented parameters:
    the temporal measure's flow (``colorpast.video.measure``), another method than the
    DIS flow that carries the colour, so that the measure does not judge the carrying
    by its own flow."""

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 4, 15, 3, 5, 1.2, 0)


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))


def warp(image: np.ndarray, flow: np.ndarray, border=cv2.BORDER_REPLICATE) -> np.ndarray:
    """``image`` (``h x w [x C]``, of the frame the flow points into) pulled along ``flow``
    (``h x w x 2``, from this frame to that one), bilinearly: ``out(p) = image(p + flow(p))``."""
    h, w = flow.shape[:2]
    xs, ys = _grid(h, w)
    out = cv2.remap(np.ascontiguousarray(image), xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR,
                    borderMode=border)
    return out.reshape(image.shape)


def holds(back: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Where the flow holds: ``h x w`` bool, for ``back`` (from this frame to the one
    before) and ``forward`` (from the one before to this one). A pixel holds when its
    way back lands inside the frame before, and the forward flow from there brings it
    home (Sundaram et al.'s check, ``ALPHA`` and ``BETA``)."""
    h, w = back.shape[:2]
    xs, ys = _grid(h, w)
    there_x, there_y = xs + back[..., 0], ys + back[..., 1]
    inside = (there_x >= 0) & (there_x <= w - 1) & (there_y >= 0) & (there_y <= h - 1)
    fwd = warp(forward, back)
    loop = back + fwd
    err = loop[..., 0] ** 2 + loop[..., 1] ** 2
    size = (back ** 2).sum(-1) + (fwd ** 2).sum(-1)
    return inside & (err < ALPHA * size + BETA)


@dataclass
class Step:
    """From one frame to the next: the ``back`` flow (this frame to the one before), the
    ``forward`` flow (the one before to this one), where they ``held`` (``h x w`` bool),
    the ``share`` that held, the mean gray ``residual`` between this frame and the one
    before carried along ``back``, and whether this frame is a ``cut``."""

    back: np.ndarray
    forward: np.ndarray
    held: np.ndarray
    share: float
    residual: float
    cut: bool


def step(flow, before: np.ndarray, now: np.ndarray) -> Step:
    """The motion from gray frame ``before`` to ``now`` (both ``h x w`` uint8), measured both
    ways by ``flow`` (a :class:`Flow` or :class:`Farneback`), where it holds, and whether
    ``now`` starts a new shot."""
    back, forward = flow(now, before), flow(before, now)
    held = holds(back, forward)
    share = float(held.mean())
    residual = float(cv2.absdiff(warp(before, back), now).mean())
    return Step(back, forward, held, share, residual, share < CUT_HELD and residual > CUT_RESIDUAL)
