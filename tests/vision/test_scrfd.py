"""SCRFD arithmetic on hand-computed numbers: letterbox, anchors, distance decoding, NMS."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.errors import ModelNotFoundError
from openlfr.vision import scrfd


def test_letterbox_keeps_aspect_and_pads_right_and_bottom():
    image = np.full((100, 200, 3), 255, np.uint8)
    box = scrfd.letterbox(image, (64, 64))
    assert box.scale == pytest.approx(32 / 100)
    assert box.blob.shape == (1, 3, 64, 64) and box.blob.dtype == np.float32
    white, black = (255 - 127.5) / 128, (0 - 127.5) / 128
    assert np.allclose(box.blob[0, :, :32, :], white)  # the image: 64 wide, 32 tall
    assert np.allclose(box.blob[0, :, 32:, :], black)  # padding below
    np.testing.assert_allclose(box.to_image(np.array([[64.0, 32.0]])), [[200.0, 100.0]])


def test_letterbox_keeps_channel_order():
    image = np.zeros((32, 32, 3), np.uint8)
    image[..., 0] = 255  # red
    blob = scrfd.letterbox(image, (32, 32)).blob[0]
    assert blob[0].mean() > 0.99 and blob[1].mean() < -0.99 and blob[2].mean() < -0.99


def test_anchor_centres_repeat_each_cell_per_anchor_in_row_major_order():
    centres = scrfd.anchor_centres(2, 3, 8, 2)
    expected = [[0, 0], [0, 0], [8, 0], [8, 0], [16, 0], [16, 0], [0, 8], [0, 8]]
    np.testing.assert_array_equal(centres[:8], expected)
    assert centres.shape == (12, 2)


def test_distance_decoding():
    points = np.array([[10.0, 20.0]])
    np.testing.assert_array_equal(
        scrfd.distance2bbox(points, np.array([[1.0, 2.0, 3.0, 4.0]])), [[9, 18, 13, 24]]
    )
    kps = scrfd.distance2kps(points, np.array([[1.0, -1.0, 0.0, 5.0]]))
    np.testing.assert_array_equal(kps, [[[11, 19], [10, 25]]])


def test_nms_keeps_the_best_of_overlapping_boxes_and_distant_ones():
    boxes = np.array([[0, 0, 9, 9], [1, 1, 10, 10], [50, 50, 59, 59], [0, 0, 9, 4]], float)
    scores = np.array([0.8, 0.9, 0.7, 0.95])
    # Box 1 overlaps box 0 by 81/119 = 0.68 > 0.4; box 3 overlaps box 0 by 0.5.
    assert scrfd.nms(boxes, scores, 0.4).tolist() == [3, 1, 2]
    assert scrfd.nms(boxes, scores, 0.7).tolist() == [3, 1, 0, 2]


def _outputs(rows: dict[int, int], kps: bool = True) -> list[np.ndarray]:
    outs = [np.zeros((rows[s], 1), np.float32) for s in (8, 16, 32)]
    outs += [np.zeros((rows[s], 4), np.float32) for s in (8, 16, 32)]
    if kps:
        outs += [np.zeros((rows[s], 10), np.float32) for s in (8, 16, 32)]
    return outs


def test_decode_places_one_scored_anchor():
    rows = {8: 8 * 8 * 2, 16: 4 * 4 * 2, 32: 2 * 2 * 2}
    outs = _outputs(rows)
    cell = (3 * 8 + 5) * 2 + 1  # row 3, column 5, anchor 1 at stride 8
    outs[0][cell] = 0.8
    outs[3][cell] = [1, 1, 2, 2]
    found = scrfd.decode(outs, (64, 64))
    assert found.scores.tolist() == pytest.approx([0.8])
    np.testing.assert_allclose(found.boxes, [[40 - 8, 24 - 8, 40 + 16, 24 + 16]])
    np.testing.assert_allclose(found.keypoints, np.full((1, 5, 2), [40, 24]))


def test_decode_refuses_outputs_that_are_not_scrfd():
    with pytest.raises(ModelNotFoundError, match="gave 2 outputs"):
        scrfd.decode([np.zeros((1, 1))] * 2, (64, 64))
    rows = {8: 128, 16: 32, 32: 8}
    outs = _outputs(rows)
    outs[1] = np.zeros((33, 1), np.float32)
    with pytest.raises(ModelNotFoundError, match="does not fit SCRFD"):
        scrfd.decode(outs, (64, 64))
