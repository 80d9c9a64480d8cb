"""Tracker: one face moving across frames is one track; two faces stay two tracks."""

from __future__ import annotations

import numpy as np

from openlfr.live.tracker import Tracker, iou, nms
from openlfr.vision.face import Face


def face(x: float, y: float, w: float = 60, score: float = 1.0) -> Face:
    return Face(box=(x, y, x + w, y + w), score=score)


def test_iou_and_nms():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert abs(iou((0, 0, 10, 10), (5, 0, 15, 10)) - 50 / 150) < 1e-9
    kept = nms([face(0, 0, score=1), face(2, 2, score=2), face(300, 0)])
    assert len(kept) == 2 and kept[0].score == 2


def test_walking_face_is_one_track_even_when_it_moves_more_than_its_width():
    t = Tracker()
    ids = set()
    # Moves 70 px (more than its 60 px width) between detection rounds three frames apart,
    # so only the constant-velocity prediction can keep it.
    for step in range(10):
        matches, ended = t.update([face(100 + 70 * step, 200)], step * 3)
        assert not ended
        ids |= {tr.id for tr, _ in matches}
    assert ids == {1}
    assert t.started == 1


def test_two_faces_two_tracks_and_missing_face_ends_its_track():
    t = Tracker(max_misses=2)
    for i in range(5):
        t.update([face(100 + 5 * i, 100), face(600 - 5 * i, 100)], i)
    assert t.started == 2
    ended_all = []
    for i in range(5, 9):  # only the first face is still there
        _, ended = t.update([face(100 + 5 * i, 100)], i)
        ended_all += ended
    assert [tr.id for tr in ended_all] == [2]
    assert list(t.tracks) == [1]
    assert [tr.id for tr in t.end_all()] == [1] and not t.tracks


def test_a_face_far_from_every_prediction_starts_a_new_track():
    t = Tracker()
    t.update([face(100, 100)], 0)
    t.update([face(900, 500)], 1)
    assert t.started == 2


def test_prediction_follows_velocity():
    t = Tracker()
    t.update([face(0, 0)], 0)
    t.update([face(10, 0)], 1)
    (track,) = t.tracks.values()
    np.testing.assert_allclose(track.predict(3)[:2], (30, 0))


def test_a_track_unseen_for_longer_than_max_gap_does_not_take_the_next_face():
    # An overloaded pipeline drops most frames: seconds can pass between two detection
    # rounds. A track that old ends; the face now where it was starts a new track (it may
    # be someone else), rather than joining the old one and mixing two people's shots.
    t = Tracker(max_gap_frames=15, stale_frames=50)
    t.update([face(100, 100)], 0)
    t.update([face(100, 100)], 3)
    matches, ended = t.update([face(104, 100)], 100)
    assert [tr.id for tr in ended] == [1]
    assert [tr.id for tr, _ in matches] == [2]
    # Within stale_frames a track still matches (a round that missed it, a short stall).
    t.update([face(104, 100)], 103)
    matches, ended = t.update([face(106, 100)], 140)
    assert not ended and [tr.id for tr, _ in matches] == [2]


def test_a_much_smaller_face_over_a_tracked_one_is_someone_else():
    # A close face leaves; a far one walks in behind it, overlapping its box (IoU 0.39).
    t = Tracker()
    t.update([face(100, 100, w=140)], 0)
    t.update([face(100, 100, w=140)], 3)
    matches, _ = t.update([face(110, 110, w=87)], 6)
    assert [tr.id for tr, _ in matches] == [2]
    assert t.started == 2
