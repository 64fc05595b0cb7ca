"""Film files out: colour frames encoded in pieces, the pieces and the original sound
joined into one MP4, each file written atomically.

A film is encoded in pieces (``Piece``: H.264 in MP4, a few seconds each, every frame
at its own timestamp from the source), so an interrupted film keeps the pieces it has
finished and resumes after them. ``join`` then copies the pieces' packets, without
re-encoding, into the output beside the source's sound: copied as it is where MP4 takes
its codec and players play it there (AAC, MP3, Opus, AC-3: ``COPIED_SOUND``), else
re-encoded as AAC (Vorbis from a WebM, PCM from an AVI or MOV). Packets are interleaved by time as they are read, so joining costs
a packet's memory, not a film's. The output is MP4 (H.264, yuv420p, BT.709), which
browsers, phones and Colab play; it appears only when complete (``fsutil.atomic_path``).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from colorpast.fsutil import atomic_path, commit, partial_path

CRF = 18  # x264's constant quality: visually lossless for most eyes (x264's default is 23)
PRESET = "veryfast"  # x264's speed: at 480p on the 2-core CPU encoding takes a few ms a frame beside the model
# Sound codecs copied into the MP4 as they are: those browsers and phones play there. Any
# other (Vorbis from a WebM, PCM from an AVI or MOV, FLAC) is re-encoded as AAC.
COPIED_SOUND = {"aac", "mp3", "ac3", "eac3", "alac", "opus"}
AAC_BITRATE = 160_000  # bits/s of sound re-encoded as AAC (stereo), when MP4 cannot take the source's codec
BT709 = 1  # FFmpeg's AVCOL_SPC / AVCOL_PRI / AVCOL_TRC value for BT.709: what the output says its colours are


def even(n: int) -> int:
    """``n`` rounded up to an even number: H.264 in 4:2:0 needs even sides (an odd film gets one edge row or column repeated)."""
    return n + (n % 2)


class Piece:
    """One piece of the output: ``H x W x 3`` uint8 RGB frames encoded as H.264 (no B-frames,
    so pieces join with their timestamps in order) at the source's timestamps
    (``time_base``). Written to a temporary name; :meth:`close` makes it ``path``
    atomically; :meth:`abort` leaves nothing behind."""

    def __init__(self, path, width: int, height: int, fps: Fraction, time_base: Fraction, crf: int = CRF,
                 preset: str = PRESET):
        self.path, self.tmp = Path(path), partial_path(path)
        self.width, self.height = width, height
        self.container = av.open(str(self.tmp), "w", format="mp4")
        # The rate only says what players show as "fps"; the frames keep their own timestamps,
        # counted in the source's time base by the encoder too: a film's average rate can be
        # 537540000/17974409 (a clip joined to itself), and timestamps rounded to ticks of
        # that size collide after a few hundred frames, which the muxer refuses.
        s = self.container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        s.width, s.height, s.pix_fmt = even(width), even(height), "yuv420p"
        s.time_base = time_base
        cc = s.codec_context
        cc.time_base = time_base
        cc.options = {"crf": str(crf), "preset": preset}
        cc.max_b_frames = 0
        cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = BT709, BT709, BT709, 1  # 1: limited range
        self.stream, self.time_base, self.frames = s, time_base, 0

    def write(self, rgb: np.ndarray, pts: int) -> None:
        """Encode one frame at ``pts`` (in ``time_base``)."""
        h, w = rgb.shape[:2]
        if (h, w) != (self.stream.height, self.stream.width):
            rgb = np.pad(rgb, ((0, self.stream.height - h), (0, self.stream.width - w), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(
            format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
        frame.pts, frame.time_base = int(pts), self.time_base
        self.container.mux(self.stream.encode(frame))
        self.frames += 1

    def close(self) -> Path:
        """Flush the encoder, close the file and make it ``path`` (atomically)."""
        self.container.mux(self.stream.encode(None))
        self.container.close()
        return commit(self.tmp, self.path)

    def abort(self) -> None:
        """Close and delete the unfinished piece."""
        try:
            self.container.close()
        except (av.error.FFmpegError, ValueError):
            pass
        self.tmp.unlink(missing_ok=True)


def _seconds(packet) -> float:
    t = packet.dts if packet.dts is not None else packet.pts
    return float(t * packet.time_base) if t is not None else 0.0


def _video_packets(pieces, out_stream):
    for p in pieces:
        with av.open(str(p)) as c:
            for packet in c.demux(c.streams.video[0]):
                if packet.size:
                    packet.stream = out_stream
                    yield packet


def _sound(source, out, until: float | None):
    """The output's sound stream and a generator of its packets: the source's first audio
    stream copied where its codec is in ``COPIED_SOUND``, else re-encoded as AAC; sound
    after ``until`` seconds (a preview's end) is left out. (None, an empty generator) for
    a silent source."""
    c = av.open(str(source))
    if not c.streams.audio:
        c.close()
        return None, iter(())
    a = c.streams.audio[0]
    copy = a.codec_context.codec.canonical_name in COPIED_SOUND
    if copy:
        stream = out.add_stream_from_template(a, opaque=True)
    else:
        stream = out.add_stream("aac", rate=a.codec_context.sample_rate or 48000)
        # by its number of channels (an AVI's PCM names no order); other counts are mixed to stereo
        channels = a.codec_context.layout.nb_channels if a.codec_context.layout else 2
        stream.layout = {1: "mono", 6: "5.1", 8: "7.1"}.get(channels, "stereo")
        stream.bit_rate = AAC_BITRATE
        stream.format = "fltp"  # AAC's own; PyAV converts the decoded sound (PCM's s16) to it

    def packets():
        with c:
            for packet in c.demux(a):
                if copy:
                    if packet.size == 0 or packet.dts is None and packet.pts is None:
                        continue
                    if until is not None and _seconds(packet) >= until:
                        break
                    packet.stream = stream
                    yield packet
                    continue
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError:
                    continue  # a damaged stretch of sound is left out, the film goes on
                for frame in decoded:
                    if until is not None and frame.time is not None and frame.time >= until:
                        decoded = None
                        break
                    frame.pts = None  # the encoder numbers the samples itself
                    yield from stream.encode(frame)
                if decoded is None:
                    break
            if not copy:
                yield from stream.encode(None)

    return stream, packets()


def join(pieces, source, dest, until: float | None = None) -> Path:
    """The ``pieces`` (in order) and ``source``'s sound, up to ``until`` seconds when
    given, into one MP4 at ``dest``, atomically; the pieces' packets are copied, not
    re-encoded. Returns ``dest``."""
    pieces = [Path(p) for p in pieces]
    dest = Path(dest)
    with atomic_path(dest) as tmp:
        out = av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"})
        try:
            with av.open(str(pieces[0])) as first:
                video = out.add_stream_from_template(first.streams.video[0], opaque=True)
            sound, sound_packets = _sound(source, out, until)
            streams = [iter(_video_packets(pieces, video)), iter(sound_packets)]
            heads = [next(s, None) for s in streams]
            while any(h is not None for h in heads):  # the earliest packet first: interleaved by time
                i = min((k for k, h in enumerate(heads) if h is not None), key=lambda k: _seconds(heads[k]))
                out.mux(heads[i])
                heads[i] = next(streams[i], None)
        finally:
            out.close()
    return dest
