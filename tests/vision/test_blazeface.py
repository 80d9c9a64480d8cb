"""BlazeFace back: anchor layout and decoding on hand-made numbers, then the real network."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.errors import ConfigError, ImageError
from openlfr.vision import blazeface
from openlfr.vision.face import DLIB5


def _iou(a, b) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_anchor_layout_is_mediapipes():
    a = blazeface.anchors()
    assert a.shape == (896, 2)
    # 16x16 cells of 16 px, 2 anchors each, row by row; then 8x8 cells of 32 px, 6 each.
    np.testing.assert_array_equal(a[:4], [[8, 8], [8, 8], [24, 8], [24, 8]])
    np.testing.assert_array_equal(a[32], [8, 24])  # second row of the 16x16 grid
    np.testing.assert_array_equal(a[511], [248, 248])
    np.testing.assert_array_equal(a[512:519], [[16, 16]] * 6 + [[48, 16]])
    np.testing.assert_array_equal(a[-1], [240, 240])


def test_decode_adds_offsets_to_anchor_centres():
    logits = np.full(896, -10.0, np.float32)
    raw = np.zeros((896, 16), np.float32)
    logits[600] = 2.0  # anchor (600 - 512) // 6 = cell 14 of the 8x8 grid: x 6, y 1
    raw[600, :4] = [3.0, -2.0, 40.0, 50.0]
    raw[600, 4:6] = [-10.0, -5.0]  # first keypoint, relative to the anchor centre
    boxes, scores, points = blazeface.decode(logits, raw, 0.5)
    cx, cy = 6.5 * 32 + 3, 1.5 * 32 - 2
    np.testing.assert_allclose(boxes, [[cx - 20, cy - 25, cx + 20, cy + 25]])
    np.testing.assert_allclose(scores, [1 / (1 + np.exp(-2.0))], rtol=1e-6)
    np.testing.assert_allclose(points[0, 0], [6.5 * 32 - 10, 1.5 * 32 - 5])
    np.testing.assert_allclose(points[0, 1], [6.5 * 32, 1.5 * 32])


def test_weighted_nms_averages_a_group_and_keeps_apart_boxes():
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.3, 0.6], np.float32)
    points = np.zeros((3, 6, 2), np.float32)
    points[1] += 4
    out = blazeface.weighted_nms(boxes, scores, points, 0.3)
    assert [s for _, s, _ in out] == pytest.approx([0.9, 0.6])
    np.testing.assert_allclose(out[0][0], [0.5, 0, 10.5, 10])  # (0*0.9 + 2*0.3) / 1.2
    np.testing.assert_allclose(out[0][2], 1.0)
    np.testing.assert_allclose(out[1][0], boxes[2])


def test_square_tiles_cover_the_image():
    tiles = blazeface.square_tiles(1000, 600, 400, 0.25)
    assert (0, 0) in tiles and (600, 200) in tiles
    covered = np.zeros((600, 1000), bool)
    for x, y in tiles:
        covered[y : y + 400, x : x + 400] = True
    assert covered.all()
    assert blazeface.square_tiles(300, 200, 400, 0.25) == [(0, 0)]


@pytest.fixture(scope="module")
def detector():
    return blazeface.BlazeFaceDetector(tile=None, device="cpu", threads=1)


def test_finds_the_faces_of_a_group_photo(shared_data, detector):
    from openlfr.vision.dlib_backend import DlibDetector
    from openlfr.vision.image import load_image

    image = load_image(shared_data / "small-sets" / "group-photos" / "multiface.jpg")
    hog = DlibDetector(upsample=1, cnn_fallback=False).detect(image)
    assert len(hog) == 6
    tiled = blazeface.BlazeFaceDetector(tile=400, device="cpu", threads=1)
    for faces in (detector.detect(image), tiled.detect(image)):
        assert len(faces) == 6
        for h in hog:  # each of HOG's faces, with a box like HOG's
            assert max(_iou(h.box, f.box) for f in faces) >= 0.5
        for f in faces:
            assert f.scheme == DLIB5 and f.landmarks.shape == (5, 2)
            assert 0.5 <= f.score <= 1.0
            x1, y1, x2, y2 = f.box
            assert (f.landmarks[:, 0] > x1).all() and (f.landmarks[:, 0] < x2).all()
            assert (f.landmarks[:, 1] > y1).all() and (f.landmarks[:, 1] < y2).all()
            keypoints = f.extras["keypoints"]
            assert keypoints.shape == (6, 2)
            # The subject's right eye is on the image's left of the left eye.
            assert keypoints[0, 0] < keypoints[1, 0]


def test_nothing_in_blank_images(detector):
    assert detector.detect(np.zeros((480, 640, 3), np.uint8)) == []
    assert detector.detect(np.full((300, 300, 3), 200, np.uint8)) == []


def test_bad_input_is_a_typed_error(detector):
    with pytest.raises(ImageError, match="uint8"):
        detector.detect(np.zeros((64, 64, 3), np.float32))
    with pytest.raises(ImageError, match="shape"):
        detector.detect(np.zeros((64, 64), np.uint8))
    with pytest.raises(ImageError):
        detector.detect("not an image")
    with pytest.raises(ConfigError, match="min_score"):
        blazeface.BlazeFaceDetector(min_score=1.5)
    with pytest.raises(ConfigError, match="tile"):
        blazeface.BlazeFaceDetector(tile=10)
