"""What ``colorpast prepare`` may change about the pixels and the splits: ``Settings``, the
one home of its defaults, and the constants they come from.

Its own module, below ``decode``, ``ingest`` and ``prepare`` (which all take a
``Settings``), so none of them imports another to know it, and a decoding worker
process unpickles it without importing the pipeline. Nothing here imports Pillow,
OpenCV or TensorFlow: every ``colorpast`` command line reads these defaults for its help.
"""

from __future__ import annotations

from dataclasses import dataclass

from colorpast.errors import UserError, say

FITS = ("crop", "pad", "squash")

# Black-and-white threshold: mean chroma sqrt(a^2 + b^2) over the resized image, in CIE
# Lab units. Measured on ../shared/data/imagenet1k-256 at 224 px: its R=G=B photos (24
# decoded with Pillow; its README says 23) score 0.01-0.04 (JPEG rounding), a near-gray
# one (hook, channel spread at most 2) 0.03, and a black-and-white street scene with a coloured watermark 0.13;
# the least colourful colour photo (a brown beetle on white) scores 1.07, the next
# ones 1.19-2.5. 0.5 sits in that gap. Sepia-toned prints are NOT caught: the two in
# ../shared/data/legacy-bw score 7.6 and 12.3, above many real colour photos (a
# toaster 2.6, an otter 2.2), and no single statistic we tried (mean chroma, ab spread,
# ab residual after a per-lightness tint) separated them from colour photos.
GRAY_CHROMA = 0.5

MAX_PIXELS = 100_000_000  # decompression-bomb guard: 100 MP (a 50 MP camera fits twice)
MAX_BYTES = 512 * 2**20  # larger files are not photos; reading them would only fill memory


@dataclass(frozen=True)
class Settings:
    """Everything that changes the pixels or the splits; a prepared folder keeps one
    (``settings`` in ``prepared.json``), and preparing it again with others needs ``--restart``.

    Raises UserError for values ``prepare`` cannot use.
    """

    size: int = 224  # output side in pixels
    fit: str = "crop"  # one of FITS (see colorpast.data.decode)
    val_percent: int = 5  # of the content-hash space
    test_percent: int = 5
    gray_chroma: float = GRAY_CHROMA
    min_side: int | None = None  # None: size // 2, so images are upscaled at most 2x
    max_pixels: int = MAX_PIXELS

    def __post_init__(self):
        if self.min_side is None:
            object.__setattr__(self, "min_side", self.size // 2)  # frozen: set once, here
        if self.fit not in FITS:
            raise UserError(f"unknown --fit {self.fit!r}; choose one of {', '.join(FITS)}")
        if self.size < 8:
            raise UserError(f"{say('--size', 'SIZE')} {self.size} is too small (at least 8)")
        if not (0 <= self.val_percent and 0 <= self.test_percent and self.val_percent + self.test_percent < 100):
            raise UserError(say("--val and --test", "VAL_PERCENT and TEST_PERCENT") + " must be percentages that leave some training data")

    def split_of(self, key: str) -> str:
        """train / val / test from a hex content hash (fractions in percent)."""
        bucket = int(key[:8], 16) % 100
        if bucket < 100 - self.val_percent - self.test_percent:
            return "train"
        return "val" if bucket < 100 - self.test_percent else "test"
