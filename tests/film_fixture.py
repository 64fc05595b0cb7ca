"""Small films the tests make themselves (PyAV): a textured background, a textured square
that moves a known number of pixels a frame, an optional cut to another background, and
an optional sound track of any codec. Their answers are known: where the square is on
every frame, where the cut is."""

from fractions import Fraction

import av
import cv2
import numpy as np

VIDEO_CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx", ".avi": "mjpeg"}


def texture(shape, seed: int, blur: float = 1.5) -> np.ndarray:
    """``H x W x 3`` uint8: blurred noise in colour, stretched to the full range of each
    channel (as much contrast as a photo: two of them differ as two shots do), something
    the optical flow can follow."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.uniform(0, 255, (*shape, 3)).astype(np.float32), (0, 0), blur)
    lo, hi = noise.min(axis=(0, 1)), noise.max(axis=(0, 1))
    return np.clip((noise - lo) / np.maximum(hi - lo, 1e-3) * 255, 0, 255).astype(np.uint8)


def moving_square(n: int, shape=(96, 160), side: int = 20, start=None, step=(1, 0), cut_at: int | None = None,
                  seed: int = 0, colour=None):
    """``(frames, corners)``: ``n`` frames (``H x W x 3`` uint8) of a ``side`` px textured square
    moving ``step`` (dx, dy) px a frame from top-left corner ``start`` (x, y; default: the
    left middle) over a still background; from frame ``cut_at`` on, another background and another texture on the
    square (a cut; the square goes on moving). ``colour``: the square's RGB, else a texture."""
    start = start or (side, shape[0] // 2 - side // 2)
    side = min(side, shape[0] - start[1])
    frames, corners = [], []
    for i in range(n):
        after = cut_at is not None and i >= cut_at
        frame = texture(shape, seed + 100 * after).copy()
        x, y = int(round(start[0] + step[0] * i)), int(round(start[1] + step[1] * i))
        if colour is None:
            patch = texture((side, side), seed + 1 + 100 * after, blur=1.0)
            patch = np.clip(patch.astype(np.int16) + 60, 0, 255).astype(np.uint8)
        else:
            patch = np.broadcast_to(np.asarray(colour, np.uint8), (side, side, 3))
        h, w = frame[y:y + side, x:x + side].shape[:2]  # a square leaving the frame is cut at its edge
        frame[y:y + h, x:x + w] = patch[:h, :w]
        frames.append(frame)
        corners.append((x, y))
    return frames, corners


def write_clip(path, frames, fps=10, sound: str | None = None, seconds: float | None = None, pix_fmt=None):
    """Write ``frames`` into ``path`` (codec by suffix: ``VIDEO_CODECS``) at ``fps``, with a
    440 Hz tone in codec ``sound`` ("aac", "mp3", "vorbis", "pcm_s16le", "libopus") as long
    as the film (or ``seconds``)."""
    path = str(path)
    suffix = path[path.rfind("."):]
    h, w = frames[0].shape[:2]
    with av.open(path, "w") as c:
        v = c.add_stream(VIDEO_CODECS[suffix], rate=Fraction(fps).limit_denominator(1001))
        v.width, v.height = w, h
        v.pix_fmt = pix_fmt or ("yuvj420p" if VIDEO_CODECS[suffix] == "mjpeg" else "yuv420p")
        a = None
        if sound:
            rate = 48000 if sound == "libopus" else 44100
            a = c.add_stream(sound, rate=rate)
            a.layout = "stereo" if sound == "vorbis" else "mono"
            if sound == "vorbis":  # FFmpeg's own Vorbis encoder (the wheel has no libvorbis)
                a.codec_context.options = {"strict": "experimental"}
        for i, f in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, 1) / Fraction(fps).limit_denominator(1001)
            c.mux(v.encode(frame))
        c.mux(v.encode(None))
        if a is not None:
            rate = a.codec_context.sample_rate
            total = int(rate * (seconds if seconds is not None else len(frames) / float(fps)))
            t = np.arange(total) / rate
            samples = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
            for k in range(0, total, 1024):
                chunk = samples[None, k:k + 1024]
                af = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
                af.sample_rate = rate
                af.pts = k
                af.time_base = Fraction(1, rate)
                c.mux(a.encode(af))
            c.mux(a.encode(None))
    return path


def decode_all(path) -> list[np.ndarray]:
    """Every frame of a film as ``H x W x 3`` uint8 RGB, as colorpast reads them."""
    from colorpast.video import reader

    return [f.rgb for f in reader.frames(path)]


def streams(path) -> dict:
    """``{"video": (codec, width, height, frames, rate), "audio": (codec, seconds)}`` of a file."""
    out = {}
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        n = sum(1 for _ in c.demux(v) if _.size)
        out["video"] = (v.codec_context.codec.name, v.width, v.height, n, v.guessed_rate)
    with av.open(str(path)) as c:
        if c.streams.audio:
            a = c.streams.audio[0]
            last = 0.0
            for p in c.demux(a):
                if p.size and p.pts is not None:
                    last = max(last, float((p.pts + (p.duration or 0)) * p.time_base))
            out["audio"] = (a.codec_context.codec.canonical_name, last)
    return out


def register_spreading(name: str = "test_spread_hints", reach: int = 15) -> str:
    """Register a hint model that is its hints and nothing else: each hint's ab spread evenly
    over the ``reach`` x ``reach`` pixels around it (0 where no hint is near), as a trained
    hint model spreads a colour over what the hint is on. Its answer is known, so a test
    can see where the film colorizer put the hints. The caller removes it
    (``registry._REGISTRY.pop(name)``)."""
    import keras
    from keras import layers, ops

    from colorpast.models import registry

    scale = 110.0

    def build(input_shape=(None, None, 1), name=name):
        L = keras.Input(shape=input_shape, name="L")
        maps = keras.Input(shape=(*input_shape[:2], 3), name="hints")
        pool = layers.AveragePooling2D(reach, strides=1, padding="same")
        mask = maps[..., 2:]
        num, den = pool(maps[..., :2] * mask), pool(mask)
        ab = ops.where(den > 1e-4, num / ops.maximum(den, 1e-4), 0.0) + 0.0 * L
        return keras.Model([L, maps], ab / scale, name=name)

    registry.register_regression(name, build, "a test's hint model: its hints spread, nothing learned", scale=scale,
                                 hints=True)
    return name


def register_jittery(name: str = "test_jittery", gain: float = 4.0, base=(12.0, 18.0)) -> str:
    """Register a model that flickers as models do on old film, in a way a test can know:
    one colour over the whole frame, ``base`` ab plus ``gain`` times how far the frame's
    mean lightness is from 50 (a film's exposure flicker moves every guess). The caller
    removes it (``registry._REGISTRY.pop(name)``)."""
    import keras
    from keras import layers, ops

    from colorpast.models import registry

    scale = 110.0

    def build(input_shape=(None, None, 1), name=name):
        L = keras.Input(shape=input_shape, name="L")
        mean = layers.GlobalAveragePooling2D(keepdims=True)(L)  # N x 1 x 1 x 1
        ab = ops.concatenate([base[0] + gain * (mean - 50.0), base[1] + gain * (mean - 50.0)], axis=-1)
        return keras.Model(L, ab / scale + 0.0 * L, name=name)

    registry.register_regression(name, build, "a test's flickering model: one colour that follows the exposure",
                                 scale=scale)
    return name
