"""The host side of training: deterministic batches of uint8 RGB crops, and nothing more.

The loader reads and crops; everything else (the seed's augmentations, RGB -> Lab, the
split into L and target) runs inside the compiled train step, on the accelerator
(``colorpast.train_step``). It needs NumPy alone, no TensorFlow, so it feeds every Keras
backend: a Python generator for JAX and PyTorch, a ``tf.data`` wrapper for TensorFlow's
distribution strategies.

Determinism and resume: element ``e`` of the training stream (image ``e % B`` of batch
``e // B``) is a pure function of ``(seed, e)``. Pass ``p = e // N`` over the N images
visits them in the permutation drawn from ``(seed, p)``; the crop position and the
augmentation of element ``e`` come from ``uniforms(seed, e)``, a counter-based hash
(SplitMix64) computed for a whole batch at once in NumPy. So batch ``k`` is the same
whenever it is asked for, and a resumed run reads exactly the batches it would have
read. (A NumPy generator seeded per element cost 10 us of Python an element, and the
transform drawn from it 8 us more: most of the loader's time. benchmarks/RESULTS.md.)

Memory: images are read from the shards (``colorpast.data.shards.Split``, one
``pread`` an image) one at a time, so a batch costs O(batch); only the current pass's
permutation (8 bytes an image) is held.

Every element comes with an 8-number projective transform (the form
``keras.ops.image.affine_transform`` takes: output pixel (x, y) samples the input at
``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``, ``k = c0 x + c1 y + 1``), the
identity when not augmenting.
"""

from __future__ import annotations

import collections
import itertools
import math
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

IDENTITY = np.array([1, 0, 0, 0, 1, 0, 0, 0], np.float32)


DRAWS = 7  # uniforms an element uses: crop y, crop x, rotation, shear, zoom x, zoom y, flip
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: a bijection of uint64 that scrambles every bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


# Independent streams of uniforms per element: the crop and transform (0), the
# simulated hints (1), the ageing (2). Adding a stream never changes another's draws.
STREAM_CROP, STREAM_HINTS, STREAM_AGEING = 0, 1, 2
_STREAM_STEP = np.uint64(0xD1B54A32D192ED03)


def uniforms(seed: int, elements, draws: int = DRAWS, stream: int = STREAM_CROP) -> np.ndarray:
    """``len(elements) x draws`` float64 uniforms in [0, 1): draw ``j`` of element ``e`` in
    ``stream`` is a pure function of ``(seed, stream, e, j)`` (SplitMix64 of a counter),
    computed for all at once."""
    e = np.asarray(elements, np.uint64).reshape(-1, 1)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        key = _mix64(np.asarray([seed], np.uint64) * _GOLDEN + np.uint64(1) + np.uint64(stream) * _STREAM_STEP)
        z = _mix64(key + (e * np.uint64(draws) + np.arange(draws, dtype=np.uint64)) * _GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def seed_transforms(u: np.ndarray, h: int, w: int, rotation=20.0, zoom=0.2, shear=0.2) -> np.ndarray:
    """``n x 8`` transforms of the seed paper's augmentations from ``n x 5`` uniforms
    (rotation, shear, zoom x, zoom y, flip), vectorized.

    As Keras's ImageDataGenerator(rotation_range=20, zoom_range=0.2, shear_range=0.2,
    horizontal_flip=True) that the seed used: rotation uniform in +-20 degrees, zoom
    uniform in [0.8, 1.2] independently on x and y, shear uniform in +-0.2 *degrees*
    (ImageDataGenerator's unit for shear_range), a flip with probability 1/2, about the
    image centre; pixels outside the source take the nearest edge value (the train step
    samples with fill_mode="nearest", ImageDataGenerator's default).
    """
    u = np.asarray(u, np.float64).reshape(-1, 5)
    deg = math.pi / 180.0
    theta = (2.0 * u[:, 0] - 1.0) * rotation * deg
    phi = (2.0 * u[:, 1] - 1.0) * shear * deg
    zx = 1.0 - zoom + 2.0 * zoom * u[:, 2]
    zy = 1.0 - zoom + 2.0 * zoom * u[:, 3]
    fl = np.where(u[:, 4] < 0.5, -1.0, 1.0)
    # Output pixel (x, y) samples the input at M @ (x - cx, y - cy) + (cx, cy), with
    # M = Rotate(theta) @ Shear(phi) @ Zoom(zx, zy) @ Flip.
    c, s = np.cos(theta), np.sin(theta)
    sh_a, sh_b = -np.sin(phi), np.cos(phi)  # Shear = [[1, -sin phi], [0, cos phi]]
    m00 = c * zx * fl
    m01 = (c * sh_a - s * sh_b) * zy
    m10 = s * zx * fl
    m11 = (s * sh_a + c * sh_b) * zy
    cx, cy = (w - 1.0) / 2.0, (h - 1.0) / 2.0
    zero = np.zeros_like(m00)
    t = [m00, m01, cx - m00 * cx - m01 * cy, m10, m11, cy - m10 * cx - m11 * cy, zero, zero]
    return np.stack(t, axis=1).astype(np.float32)


def seed_transform(rng: np.random.Generator, h: int, w: int, rotation=20.0, zoom=0.2, shear=0.2) -> np.ndarray:
    """One transform of :func:`seed_transforms`, its uniforms drawn from ``rng``."""
    return seed_transforms(rng.uniform(size=5), h, w, rotation, zoom, shear)[0]


class Loader:
    """Batches of ``crop x crop`` uint8 RGB crops and their transforms from ``images``.

    Args:
        images: a ``colorpast.data.shards.Split`` (equal-sized, read image by image) or a list
            of ``H x W x 3`` uint8 arrays of any sizes, each side at least ``crop``.
        crop: square crop size; None for the images' own (equal) size.
        train: True for the endless, shuffled, randomly cropped and augmented training
            stream; False for one pass in order, centre crops, identity transforms.
        augment: the seed's augmentations (default: when training), False, or "flip"
            for horizontal flips alone.
        worker, workers: this process's share of every global batch (elements
            ``j % workers == worker``) when several processes train together.
        hints: also draw simulated colour hints for each element (``colorpast.hints.draw``:
            which patches of the crop reveal their colour; the train step computes them).
        age: the share of elements to age (``colorpast.ageing.draw``: the parameters of
            an old print; the train step applies them); 0 for none.

    Hints and ageing come from their own streams of uniforms (``STREAM_HINTS``,
    ``STREAM_AGEING``), so switching them on changes no crop or transform, and an
    evaluation loader draws them too (the same for an element every time).
    """

    def __init__(self, images, batch_size: int, crop: int | None = None, *, train: bool = True, augment: bool | None = None,
                 seed: int = 0, worker: int = 0, workers: int = 1, hints: bool = False, age: float = 0.0):
        self.images = images
        self.n = len(images)
        if self.n == 0:
            raise ValueError("a loader needs at least one image")
        # A prepared split knows its (square) size; a list of arrays is looked at.
        shapes = {(images.size, images.size)} if hasattr(images, "counts") else {im.shape[:2] for im in images}
        small = min(min(s) for s in shapes)
        self.crop = int(crop or small)
        if small < self.crop:
            raise ValueError(f"every image must be at least {self.crop} px on each side; the smallest has {small}")
        if crop is None and len(shapes) > 1:
            raise ValueError("images of different sizes need a crop size")
        self.batch_size, self.train, self.seed = int(batch_size), train, int(seed)
        self.augment = train if augment is None else augment
        self.worker, self.workers = int(worker), int(workers)
        if self.batch_size % self.workers:
            raise ValueError(f"the global batch {batch_size} does not split over {workers} workers")
        self._perm: dict[int, np.ndarray] = {}
        self.hints, self.age = bool(hints), float(age)
        if not 0.0 <= self.age <= 1.0:
            raise ValueError(f"age is a share of the crops, from 0 to 1; got {age}")
        # Imported only when asked for: they bring Keras, and the plain loader needs NumPy alone.
        if self.hints:
            from colorpast import hints as _hints
            self._hints = _hints
        if self.age:
            from colorpast import ageing as _ageing
            self._ageing = _ageing

    def __len__(self) -> int:
        """Batches in one pass (the number of batches of a finite, evaluation loader)."""
        return math.ceil(self.n / self.batch_size)

    def _order(self, p: int) -> np.ndarray:
        """Pass ``p``'s permutation; the last few are cached (reader threads share them)."""
        order = self._perm.get(p)
        if order is None:
            order = np.random.default_rng([self.seed, p, 1]).permutation(self.n)
            if len(self._perm) > 2:
                self._perm.clear()
            self._perm[p] = order
        return order

    def _draw(self, elements) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Image index, crop corner and transform of each training element, all at once."""
        e = np.asarray(elements, np.int64)
        p, r = np.divmod(e, self.n)
        index = np.empty(len(e), np.int64)
        for pp in np.unique(p):  # a batch spans one pass, or two at a pass's end
            at = p == pp
            index[at] = self._order(int(pp))[r[at]]
        u = uniforms(self.seed, e)
        if self.augment == "flip":  # horizontal flips alone (the demo)
            t = seed_transforms(u[:, 2:], self.crop, self.crop, rotation=0.0, zoom=0.0, shear=0.0)
        elif self.augment:
            t = seed_transforms(u[:, 2:], self.crop, self.crop)
        else:
            t = np.broadcast_to(IDENTITY, (len(e), 8))
        return index, u[:, :2], t

    def _crop(self, i: int, corner, out: np.ndarray) -> None:
        """Crop image ``i`` into ``out``: at ``corner`` (two uniforms) or, for None, the centre."""
        im = self.images[int(i)]
        c = self.crop
        if corner is None:
            y, x = (im.shape[0] - c) // 2, (im.shape[1] - c) // 2
        else:
            y = int(corner[0] * (im.shape[0] - c + 1))
            x = int(corner[1] * (im.shape[1] - c + 1))
        out[...] = im[y : y + c, x : x + c]

    def element(self, e: int) -> tuple[np.ndarray, ...]:
        """Element ``e`` of the stream: (``crop x crop x 3`` uint8, 8-float32 transform),
        then its hint patches and ageing parameters when the loader draws them."""
        b = self._elements([int(e)])
        return tuple(b[k][0] for k in ("rgb", "transform", "hints", "age") if k in b)

    def _elements(self, elements) -> dict:
        out = np.empty((len(elements), self.crop, self.crop, 3), np.uint8)
        if not self.train:
            for k, e in enumerate(elements):
                self._crop(e, None, out[k])
            batch = {"rgb": out, "transform": np.tile(IDENTITY, (len(elements), 1))}
        else:
            index, corners, t = self._draw(elements)
            for k in range(len(elements)):
                self._crop(index[k], corners[k], out[k])
            batch = {"rgb": out, "transform": np.ascontiguousarray(t, np.float32)}
        if self.hints:
            u = uniforms(self.seed, elements, self._hints.DRAWS, stream=STREAM_HINTS)
            batch["hints"] = self._hints.draw(u, self.crop)
        if self.age:
            u = uniforms(self.seed, elements, self._ageing.DRAWS, stream=STREAM_AGEING)
            batch["age"] = self._ageing.draw(u, self.age)
        return batch

    def batch(self, k: int) -> dict:
        """Batch ``k``: ``{"rgb": B x crop x crop x 3 uint8, "transform": B x 8 float32}``,
        this worker's share of it when there are several. An evaluation loader's last
        batch may be short."""
        start = int(k) * self.batch_size
        stop = start + self.batch_size if self.train else min(self.n, start + self.batch_size)
        return self._elements(range(start + self.worker, stop, self.workers))

    def stream(self, start_step: int = 0, steps: int | None = None, threads: int = 0):
        """Batches ``start_step``, ``start_step + 1``, ... for ever when training.

        An evaluation loader cycles over its first ``steps`` batches (all by default),
        so every validation pass sees the same images however ``fit`` iterates.
        ``threads`` > 0 reads that many batches ahead in background threads (NumPy
        copies release the GIL), so reading overlaps the device's work; the order is
        the same, since every batch is a function of its step.
        """
        if self.train:
            steps_iter = itertools.count(int(start_step))
        else:
            steps_iter = itertools.cycle(range(min(steps or len(self), len(self))))
        if threads <= 0:
            yield from map(self.batch, steps_iter)
            return
        with ThreadPoolExecutor(threads, thread_name_prefix="colorpast-loader") as pool:
            ahead = collections.deque(pool.submit(self.batch, k) for k in itertools.islice(steps_iter, threads))
            try:
                while ahead:
                    batch = ahead.popleft().result()
                    ahead.extend(pool.submit(self.batch, k) for k in itertools.islice(steps_iter, 1))
                    yield batch
            finally:
                for f in ahead:
                    f.cancel()

    def tf_dataset(self, start_step: int = 0, steps: int | None = None):
        """The same stream as a ``tf.data.Dataset`` (for TensorFlow's distribution strategies).

        Elements are read one by one through ``numpy_function`` and batched by tf.data,
        so a multi-worker strategy's DATA sharding hands each worker its slice of every
        global batch; the order stays the loader's.
        """
        import tensorflow as tf  # here, not at the top: the loader itself needs no TensorFlow

        c = self.crop
        first = int(start_step) * self.batch_size if self.train else 0
        last = np.iinfo(np.int64).max if self.train else min(self.n, (steps or len(self)) * self.batch_size)

        shapes = {"rgb": [c, c, 3], "transform": [8]}
        if self.hints:
            shapes["hints"] = [self._hints.MAX_POINTS, 4]
        if self.age:
            shapes["age"] = [len(self._ageing.PARAMS)]
        types = tuple(tf.uint8 if k == "rgb" else tf.float32 for k in shapes)

        def read(e):
            parts = tf.numpy_function(self.element, [e], types, stateful=False)
            return {k: tf.ensure_shape(v, shapes[k]) for k, v in zip(shapes, parts)}

        ds = tf.data.Dataset.range(first, last).map(read, num_parallel_calls=2, deterministic=True)
        ds = ds.batch(self.batch_size, drop_remainder=self.train)
        if not self.train:
            ds = ds.repeat()  # cycles, as stream() does
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return ds.prefetch(2).with_options(options)


def resize_short_side(rgb: np.ndarray, short: int) -> np.ndarray:
    """Resize ``H x W x 3`` uint8 so its shorter side is ``short`` pixels (area filter, OpenCV)."""
    h, w = rgb.shape[:2]
    scale = short / min(h, w)
    size = (max(short, round(w * scale)), max(short, round(h * scale)))
    return cv2.resize(np.ascontiguousarray(rgb), size, interpolation=cv2.INTER_AREA)
