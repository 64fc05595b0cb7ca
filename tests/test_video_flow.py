"""Optical flow, where it holds, cuts, and hints carried through a shot (colorpast.video.flow,
.points), on made-up frames whose answer is known."""

import json

import cv2
import numpy as np
import pytest

from colorpast.errors import UserError
from colorpast.video import flow, points
from film_fixture import moving_square, texture


def gray(rgb):
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def test_the_flow_carries_a_moving_square_and_does_not_hold_where_it_uncovers():
    frames, (c0, c1) = moving_square(2, shape=(192, 320), side=48, step=(4, 0))
    s = flow.step(flow.Flow(), gray(frames[0]), gray(frames[1]))
    assert not s.cut and s.share > 0.85
    carried = flow.warp(gray(frames[0]), s.back)
    assert np.abs(carried.astype(int) - gray(frames[1]))[s.held].mean() < 4
    x, y = c1
    assert np.median(s.back[y + 8:y + 40, x + 8:x + 40, 0]) == pytest.approx(-4, abs=0.3)  # it came from 4 px left
    assert np.median(np.abs(s.back[:, 150:])) < 0.1  # the background is still
    uncovered = s.held[y + 4:y + 44, c0[0]:c0[0] + 4]  # where the square was: seen in neither direction the same
    assert uncovered.mean() < 0.5


def test_a_cut_is_found_and_a_flash_or_a_flat_sky_is_not():
    f = flow.Flow()
    a, b = gray(texture((96, 160), 1)), gray(texture((96, 160), 2))
    assert flow.step(f, a, b).cut
    moved = np.roll(a, 3, axis=1)
    assert not flow.step(f, a, moved).cut
    flash = np.clip(a.astype(int) * 1.3 + 10, 0, 255).astype(np.uint8)  # the lights go up: the flow holds
    assert not flow.step(f, a, flash).cut
    rng = np.random.default_rng(0)
    sky = [np.clip(128 + rng.normal(0, 2, (96, 160)), 0, 255).astype(np.uint8) for _ in range(2)]
    s = flow.step(f, *sky)  # nothing to follow, so the flow holds on little, and nothing changed
    assert not s.cut and s.residual < 5


def _track(frames, given, size=None):
    """Run a Tracker over ``frames`` as the film colorizer does; positions per frame."""
    h, w = frames[0].shape[:2]
    size = size or (h, w)
    f = flow.Flow()
    tracker = points.Tracker(given, (h, w), size)
    out, before = [], None
    for i, rgb in enumerate(frames):
        g = cv2.resize(gray(rgb), size[::-1], interpolation=cv2.INTER_AREA)
        if before is not None:
            s = flow.step(f, before, g)
            tracker.cut() if s.cut else tracker.move(s.forward)
        tracker.begin(i)
        out.append(tracker.positions())
        before = g
    return out


def test_a_point_stays_on_what_it_was_put_on_for_50_frames_and_ends_at_the_cut():
    """A square moves 1 px a frame to the right and a little down; a point given on it at
    frame 0 is still on the same spot of it 50 frames later (the answer is known: the
    square's corner moved 50 px), and it ends at the cut at frame 60 though the square
    goes on."""
    frames, corners = moving_square(66, shape=(192, 320), side=40, step=(1, 0.2), start=(30, 60), cut_at=60)
    given = [points.FilmPoint(0, 30 + 20, 60 + 20, (60.0, 40.0))]
    at = _track(frames, given)
    for i in (10, 30, 50, 59):
        (x, y), = at[i]
        cx, cy = corners[i][0] + 20, corners[i][1] + 20
        assert abs(x - cx) < 3 and abs(y - cy) < 3, (i, (x, y), (cx, cy))
    assert at[60] == [] and at[65] == []
    # the flow measured at a smaller size than the film's (as at a model's working size): as close, in the film's pixels
    (x, y), = _track(frames[:51], given, size=(144, 240))[50]
    assert abs(x - corners[50][0] - 20) < 4 and abs(y - corners[50][1] - 20) < 4


def test_a_point_begins_on_its_frame_and_ends_where_it_leaves_the_frame():
    frames, _ = moving_square(60, shape=(160, 240), side=40, step=(4, 0), start=(10, 60))
    at = _track(frames, [points.FilmPoint(5, 10 + 20 + 20, 80, (0.0, 50.0))])  # on the square, at frame 5
    assert [len(p) for p in at[:6]] == [0, 0, 0, 0, 0, 1]
    gone = [i for i in range(6, 60) if not at[i]]  # the square (and the point) leave the frame on the right
    assert gone and at[gone[0] - 1][0][0] > 240 - 4 * 3


def test_film_points_are_read_and_checked(tmp_path):
    good = tmp_path / "h.json"
    good.write_text(json.dumps([{"frame": 12, "x": 10, "y": 5, "color": "red"},
                                {"frame": 0, "x": 3.5, "y": 7, "color": "#0000ff"}]))
    got = points.load(good, (48, 64), frames=20)
    assert [(p.frame, p.x, p.y) for p in got] == [(0, 3.5, 7.0), (12, 10.0, 5.0)]
    assert got[1].ab[0] > 50  # red: a is large
    bad = {
        '[{"x": 1, "y": 1, "color": "red"}]': "point 1 needs frame, x, y and color",
        '[{"frame": -1, "x": 1, "y": 1, "color": "red"}]': "point 1 has frame -1",
        '[{"frame": 3, "x": 1, "y": 1, "color": "red"}, {"frame": 20, "x": 1, "y": 1, "color": "red"}]':
            "point 2 is on frame 20, but the film has 20 frames",
        '[{"frame": 0, "x": 64, "y": 1, "color": "red"}]': "point 1 .x=64, y=1. is outside the 64 x 48 film",
        '[{"frame": 0, "x": 1, "y": 1, "color": "reddish"}]': "point 1: colour 'reddish' does not parse",
        '{"frame": 0}': "expected a list of points",
        "[{": "not valid JSON",
    }
    for text, message in bad.items():
        good.write_text(text)
        with pytest.raises(UserError, match=message):
            points.load(good, (48, 64), frames=20)
    (tmp_path / "s.png").write_bytes(b"")
    with pytest.raises(UserError, match="a film's hints are a .json list"):
        points.load(tmp_path / "s.png", (48, 64))
