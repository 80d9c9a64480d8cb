"""MMOD on ONNX Runtime finds dlib's own faces: same boxes (IoU >= 0.95), same scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openlfr.errors import ConfigError
from openlfr.vision.backends import get_backend
from openlfr.vision.dlib_backend import MMOD, model_path
from openlfr.vision.engine import FaceEngine
from openlfr.vision.image import load_image
from openlfr.vision.mmod_onnx import (
    OUTER_PADDING,
    HogMmodDetector,
    MmodOnnxDetector,
    load_model,
    pyramid_rects,
    resize_bilinear,
    scores_to_detections,
)

N_LFW = 30


@pytest.fixture(scope="module")
def detector() -> MmodOnnxDetector:
    return MmodOnnxDetector(device="cpu", landmarks=False)


@pytest.fixture(scope="module")
def dlib_mmod():
    import dlib

    return dlib.cnn_face_detection_model_v1(str(model_path(MMOD)))


def _iou(a, b) -> float:
    # Inclusive dlib rects.
    iw = min(a[2], b[2]) - max(a[0], b[0]) + 1
    ih = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if iw <= 0 or ih <= 0:
        return 0.0
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return iw * ih / (area(a) + area(b) - iw * ih)


def _assert_same_faces(dlib_mmod, detector, image, upsample: int, label: str) -> int:
    theirs = [
        ((d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()), d.confidence)
        for d in dlib_mmod(image, upsample)
    ]
    detector.upsample = upsample
    ours = detector.detect_rects(image)
    assert len(ours) == len(theirs), label
    for rect, score in theirs:
        best = max(ours, key=lambda o: _iou(o[0], rect))
        assert _iou(best[0], rect) >= 0.95, label
        assert best[1] == pytest.approx(score, abs=1e-3), label
    return len(theirs)


# --- dlib's geometry, no data needed -------------------------------------------------------


def test_pyramid_layout_follows_dlib() -> None:
    rects, rows, cols = pyramid_rects(250, 250)
    sizes = [(b - t + 1, r - left + 1) for left, t, r, b in rects]
    assert sizes[0] == (250, 250)
    for (h0, w0), (h1, w1) in zip(sizes, sizes[1:], strict=False):
        assert (h1, w1) == (h0 * 5 // 6, w0 * 5 // 6)  # floor(5/6 * n)
    assert sizes[-1][0] >= 5
    assert cols == 250 + 22  # outer padding 11 on both sides
    # Inside the tiled image and never overlapping each other.
    for i, a in enumerate(rects):
        assert a[0] >= 0 and a[1] >= 0 and a[2] < cols and a[3] < rows
        for b in rects[i + 1 :]:
            assert min(a[2], b[2]) < max(a[0], b[0]) or min(a[3], b[3]) < max(a[1], b[1])


def test_resize_is_corner_aligned() -> None:
    src = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    out = resize_bilinear(src, 5, 7)
    assert out.shape == (1, 5, 7)
    assert out[0, 0, 0] == 0 and out[0, -1, -1] == 11  # the corners coincide
    assert out[0, 2, 3] == pytest.approx(5.5)  # the centre of a linear ramp


def test_nms_keeps_the_best_of_overlapping_windows() -> None:
    model = load_model(str(model_path(MMOD)))
    rects, _, _ = pyramid_rects(200, 200)
    scores = np.full((23, 23), -1.0, np.float32)
    scores[10, 10], scores[10, 11], scores[2, 20] = 0.9, 0.5, 0.3  # neighbours, and apart
    found = scores_to_detections(scores, rects, model, 0.0)
    assert [round(s, 1) for _, s in found] == [0.9, 0.3]
    rect = found[0][0]
    assert rect[2] - rect[0] + 1 == model.window[0]  # level 0: dlib's 80 px window
    # Output point 10 -> tiled input 8 * 10 + 14, less level 0's offset (outer padding).
    centre = model.map_a * 10 + model.map_b - OUTER_PADDING
    assert (rect[0] + rect[2]) / 2 == pytest.approx(centre, abs=0.5)
    assert scores_to_detections(scores, rects, model, 1.0) == []


def test_bad_input_and_options_fail_clearly(detector: MmodOnnxDetector) -> None:
    with pytest.raises(TypeError):
        detector.detect(np.zeros((50, 50, 3), np.float32))
    with pytest.raises(ValueError):
        detector.detect(np.zeros((50, 50), np.uint8))
    with pytest.raises(ConfigError):
        MmodOnnxDetector(upsample=-1)
    with pytest.raises(ConfigError):
        MmodOnnxDetector(scale=0)
    with pytest.raises(ConfigError):
        get_backend("dlib-onnx").make_detector(detector="nope")
    assert detector.detect(np.zeros((3, 3, 3), np.uint8)) == []
    assert detector.detect(np.full((120, 160, 3), 128, np.uint8)) == []


def test_selectable_as_a_backend_option_and_by_name() -> None:
    engine = FaceEngine.from_backend("dlib-onnx", detector="mmod", device="cpu")
    assert isinstance(engine.detector, MmodOnnxDetector)
    named = get_backend("dlib-onnx-mmod").make_detector(upsample=0, cnn_fallback=False)
    assert isinstance(named, MmodOnnxDetector) and named.upsample == 0
    assert type(get_backend("dlib-onnx").make_detector()).__name__ == "DlibDetector"
    hybrid = get_backend("dlib-onnx").make_detector(detector="hog+mmod", fallback_max_pixels=9)
    assert isinstance(hybrid, HogMmodDetector) and hybrid.fallback_max_pixels == 9


# --- against dlib itself, on shared data ---------------------------------------------------


@pytest.mark.data
def test_same_faces_as_dlib_on_lfw(shared_data: Path, dlib_mmod, detector) -> None:
    files = sorted((shared_data / "lfw").glob("*/*.jpg"))
    step = len(files) // N_LFW
    found = sum(
        _assert_same_faces(dlib_mmod, detector, load_image(p), 0, p.name)
        for p in files[::step][:N_LFW]
    )
    assert found >= N_LFW - 2  # LFW images hold a face: a sanity check on the reference


@pytest.mark.data
def test_same_faces_as_dlib_on_group_photos(shared_data: Path, dlib_mmod, detector) -> None:
    photos = sorted((shared_data / "small-sets" / "group-photos").glob("*.jpg"))
    assert photos
    found = sum(_assert_same_faces(dlib_mmod, detector, load_image(p), 0, p.name) for p in photos)
    assert found >= 4
    # dlib's upsampling too (pyramid_up and rect_down), on the smaller photo's half.
    image = load_image(photos[-1])
    _assert_same_faces(dlib_mmod, detector, np.ascontiguousarray(image[::2, ::2]), 1, "up")


@pytest.mark.data
def test_faces_get_landmarks_and_scale_maps_back(shared_data: Path) -> None:
    image = load_image(sorted((shared_data / "lfw").glob("*/*.jpg"))[100])
    plain = MmodOnnxDetector(upsample=0, device="cpu").detect(image)
    assert len(plain) == 1
    face = plain[0]
    assert face.landmarks.shape == (5, 2) and face.extras["detector"] == "mmod"
    x1, y1, x2, y2 = face.box
    assert np.all((face.landmarks >= (x1, y1)) & (face.landmarks <= (x2, y2)))
    # Scanned at half size (the face is then ~50 px: too small), and at 1.5x: same place.
    assert MmodOnnxDetector(upsample=0, scale=0.5, device="cpu").detect(image) == []
    bigger = MmodOnnxDetector(upsample=0, scale=1.5, device="cpu").detect(image)
    assert len(bigger) == 1
    a, b = face.box, bigger[0].box
    assert _iou((a[0], a[1], a[2] - 1, a[3] - 1), (b[0], b[1], b[2] - 1, b[3] - 1)) > 0.6


@pytest.mark.data
def test_hybrid_falls_back_to_mmod_only_in_small_images(shared_data: Path) -> None:
    # Two LFW faces dlib's HOG misses (upsample 0) and its CNN finds, and one both find.
    lfw = shared_data / "lfw"
    hybrid = HogMmodDetector(upsample=0, device="cpu")
    for name in ("John_Paul_II/John_Paul_II_0002.jpg", "Phil_Gramm/Phil_Gramm_0002.jpg"):
        image = load_image(lfw / name)
        assert hybrid.hog.detect(image) == [], name
        faces = hybrid.detect(image)
        assert len(faces) == 1 and faces[0].extras["detector"] == "mmod", name
        assert faces[0].landmarks.shape == (5, 2)
        # Above the size limit (live tiles) there is no fallback.
        assert (
            HogMmodDetector(upsample=0, fallback_max_pixels=1000, device="cpu").detect(image) == []
        )
    plain = load_image(sorted(lfw.glob("*/*.jpg"))[100])
    faces = hybrid.detect(plain)
    assert len(faces) == 1 and "hog_filter" in faces[0].extras  # HOG's, no fallback needed
