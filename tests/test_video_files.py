"""Film files in and out (colorpast.video.reader, .writer) on small films the tests make:
what a film holds, its frames, a frame that does not decode, colours and sound kept."""

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from colorpast.errors import UserError
from colorpast.video import reader, writer
from film_fixture import decode_all, moving_square, streams, write_clip


@pytest.mark.parametrize("suffix, sound", [(".mp4", "aac"), (".mkv", "mp3"), (".webm", "vorbis"),
                                           (".avi", "pcm_s16le"), (".mov", None)])
def test_probe_says_size_rate_length_and_sound(tmp_path, suffix, sound):
    frames, _ = moving_square(12, shape=(48, 80))
    path = write_clip(tmp_path / f"clip{suffix}", frames, fps=12, sound=sound)
    info = reader.probe(path)
    assert (info.width, info.height, float(info.fps)) == (80, 48, 12.0)
    assert abs(info.frames - 12) <= 1 and abs(info.duration - 1.0) < 0.1
    assert info.audio == {"aac": "aac", "mp3": "mp3float", "vorbis": "vorbis", "pcm_s16le": "pcm_s16le", None: None}[sound]
    got = decode_all(path)
    assert len(got) == 12 and got[0].shape == (48, 80, 3) and got[0].dtype == np.uint8
    # the frames are the frames written (lossy codecs on a 80 px film of noise: close in their 5 x 5 means)
    smooth = lambda a: cv2.blur(a.astype(np.float32), (5, 5))  # noqa: E731
    assert np.abs(smooth(got[5]) - smooth(frames[5])).mean() < 6 < np.abs(smooth(got[5]) - smooth(frames[0])).mean()


def test_what_is_not_a_film_is_said_in_one_line(tmp_path):
    (tmp_path / "notes.mp4").write_text("not a video at all")
    with pytest.raises(UserError, match="notes.mp4: not a video FFmpeg can read"):
        reader.probe(tmp_path / "notes.mp4")
    with av.open(str(tmp_path / "sound.mp4"), "w") as c:  # an mp4 with sound and no picture
        a = c.add_stream("aac", rate=44100)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 44100, 0
        c.mux(a.encode(frame))
        c.mux(a.encode(None))
    with pytest.raises(UserError, match=r"sound.mp4: no video stream in it \(it holds audio\)"):
        reader.probe(tmp_path / "sound.mp4")
    from PIL import Image

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "photo.png")
    (tmp_path / "photo.png").rename(tmp_path / "photo.mov")
    with pytest.raises(UserError, match="a still image, not a film"):
        reader.probe(tmp_path / "photo.mov")
    with pytest.raises(UserError, match="no such file"):
        reader.probe(tmp_path / "missing.mkv")


def _corrupt_packet(path, index: int) -> None:
    """Overwrite the ``index``-th video packet of ``path`` with zeros (a damaged stretch of film)."""
    with av.open(str(path)) as c:
        packets = [(p.pos, p.size) for p in c.demux(video=0) if p.size]
    pos, size = packets[index]
    data = bytearray(path.read_bytes())
    data[pos:pos + size] = bytes(size)
    path.write_bytes(data)


def test_a_frame_that_does_not_decode_is_named_and_the_rest_go_on(tmp_path):
    frames, _ = moving_square(10, shape=(48, 64))
    path = tmp_path / "damaged.avi"
    write_clip(path, frames, fps=10)
    _corrupt_packet(path, 5)
    got = list(reader.frames(path))
    assert [f.index for f in got] == list(range(10))
    assert [f.index for f in got if f.rgb is None] == [5] and "Invalid data" in got[5].error
    assert all(f.rgb is not None for f in got if f.index != 5)


def test_frames_from_the_middle_by_seeking_or_counting(tmp_path):
    frames, _ = moving_square(30, shape=(48, 64))
    path = write_clip(tmp_path / "c.mp4", frames, fps=10)
    every = list(reader.frames(path))
    by_count = list(reader.frames(path, start=17))
    by_seek = list(reader.frames(path, start=17, after_pts=every[16].pts))
    for got in (by_count, by_seek):
        assert [f.index for f in got] == list(range(17, 30))
        assert [f.pts for f in got] == [f.pts for f in every[17:]]
        assert all(np.array_equal(a.rgb, b.rgb) for a, b in zip(got, every[17:]))


def test_find_films_by_suffix_under_folders(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/x.MP4", "a/y.mkv", "a/z.jpg", "a/.hidden.mp4", "w.webm"):
        (tmp_path / name).write_bytes(b"")
    assert reader.find_films([tmp_path / "a", tmp_path / "w.webm"]) == [tmp_path / "a/x.MP4", tmp_path / "a/y.mkv",
                                                                          tmp_path / "w.webm"]
    with pytest.raises(UserError, match="no such file"):
        reader.find_films([tmp_path / "gone.mov"])


def test_pieces_keep_colours_size_and_timestamps_and_say_bt709(tmp_path):
    """A colour frame encoded and decoded again is the same colour (the output says which
    YUV matrix it used, and the reader uses the one it says); an odd size is padded to even."""
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 256, (3, 5, 3), dtype=np.uint8)
    frame = np.repeat(np.repeat(blocks, 16, 0), 16, 1)  # 48 x 80: 15 flat blocks of random colours
    p = writer.Piece(tmp_path / "p.mp4", 80, 48, fps=25, time_base=Fraction(1, 25))
    for i in range(3):
        p.write(frame, pts=i * 2)  # every other tick: timestamps are kept as given
    assert p.close() == tmp_path / "p.mp4" and not list(tmp_path.glob(".partial-*"))
    with av.open(str(tmp_path / "p.mp4")) as c:
        decoded = list(c.decode(video=0))
        assert [round(f.time, 3) for f in decoded] == [0, 0.08, 0.16]
        assert decoded[0].colorspace == writer.BT709

    def centres(rgb):  # each block's mean colour away from its edges (4:2:0 shares colour between pixels)
        return rgb.astype(float).reshape(3, 16, 5, 16, 3)[:, 4:12, :, 4:12].mean(axis=(1, 3))

    assert np.abs(centres(reader.to_rgb(decoded[0])) - blocks).max() < 5
    # read with the other matrix, the same file is visibly off: the check above can fail
    other = decoded[0].to_ndarray(format="rgb24", src_colorspace="ITU601", src_color_range="MPEG")
    assert np.abs(centres(other) - blocks).max() > 15
    odd = writer.Piece(tmp_path / "odd.mp4", 81, 47, fps=25, time_base=Fraction(1, 25))
    odd.write(np.zeros((47, 81, 3), np.uint8), 0)
    odd.close()
    assert reader.probe(tmp_path / "odd.mp4").width == 82


@pytest.mark.parametrize("sound, kept", [("aac", "aac"), ("vorbis", "aac"), ("pcm_s16le", "aac"), ("mp3", "mp3"),
                                         (None, None)])
def test_join_copies_or_reencodes_the_sound_and_trims_it_to_a_preview(tmp_path, sound, kept):
    frames, _ = moving_square(20, shape=(48, 64))
    suffix = {"vorbis": ".webm", "pcm_s16le": ".avi", "mp3": ".mkv"}.get(sound, ".mp4")
    source = write_clip(tmp_path / f"s{suffix}", frames, fps=10, sound=sound)
    info = reader.probe(source)
    pieces = []
    for k in range(2):  # two pieces of 10 frames, as colorize_film writes them
        p = writer.Piece(tmp_path / f"piece-{k}.mp4", 64, 48, info.fps, info.time_base)
        for f in list(reader.frames(source))[10 * k:10 * k + 10]:
            p.write(f.rgb, f.pts)
        pieces.append(p.close())
    out = writer.join(pieces, source, tmp_path / "out.mp4")
    s = streams(out)
    assert s["video"][:4] == ("h264", 64, 48, 20) and float(s["video"][4]) == 10.0
    if kept is None:
        assert "audio" not in s
    else:
        assert s["audio"][0] == kept and abs(s["audio"][1] - 2.0) < 0.15, s
    preview = writer.join(pieces[:1], source, tmp_path / "preview.mp4", until=1.0)
    s = streams(preview)
    assert s["video"][3] == 10
    if kept is not None:
        assert abs(s["audio"][1] - 1.0) < 0.15, s


def test_a_phone_films_rotation_is_applied(tmp_path):
    """A phone stores a portrait film lying down with a rotation to show it by: frames come
    out as shown (FFmpeg's display matrix: counter-clockwise by the angle), and the film's
    size is the size shown."""
    path = tmp_path / "phone.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 32, "yuv420p"
        s.set_display_rotation(90)
        for i in range(3):
            a = np.zeros((32, 64, 3), np.uint8)
            a[:, :16] = 255  # white on the left, as stored
            f = av.VideoFrame.from_ndarray(a, format="rgb24")
            f.pts = i
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    info = reader.probe(path)
    assert (info.rotation, info.width, info.height) == (90, 32, 64)
    shown = decode_all(path)[0]
    assert shown.shape == (64, 32, 3)
    assert shown[56:].mean() > 200 and shown[:40].mean() < 30  # turned a quarter counter-clockwise: left goes down


def test_a_film_of_an_odd_average_rate_keeps_its_timestamps(tmp_path):
    """A film's average rate can be 537540000/17974409 (a 29.97 fps clip joined to itself);
    its frames' own timestamps (in 1/30000 s) must not be rounded to ticks of that rate,
    where they collided at frame 245 and the muxer refused the file."""
    p = writer.Piece(tmp_path / "odd.mp4", 64, 48, fps=Fraction(537540000, 17974409), time_base=Fraction(1, 30000))
    for i in range(300):
        p.write(np.zeros((48, 64, 3), np.uint8), i * 1001)
    p.close()
    with av.open(str(tmp_path / "odd.mp4")) as c:
        assert [f.pts * f.time_base for f in c.decode(video=0)][-2:] == [Fraction(298 * 1001, 30000),
                                                                          Fraction(299 * 1001, 30000)]
