"""Quality verdicts on a real face and on versions of it made worse in known ways."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from openlfr.vision import align, quality
from openlfr.vision.dlib_backend import DlibDetector
from openlfr.vision.face import DLIB5, INSIGHTFACE5, Face
from openlfr.vision.image import load_image


@pytest.fixture(scope="module")
def good(shared_data: Path) -> tuple[np.ndarray, Face]:
    image = load_image(shared_data / "lfw" / "Aaron_Peirsol" / "Aaron_Peirsol_0002.jpg")
    faces = DlibDetector().detect(image)
    assert len(faces) == 1
    return image, faces[0]


def _check_shape(q) -> None:
    assert 0.0 <= q.score <= 1.0
    assert set(q.reasons) <= set(quality.REASONS)
    if q.reasons:
        assert q.score <= 0.5  # documented: any reason caps the score at 0.5
        assert not q.usable


@pytest.mark.data
def test_a_good_lfw_face_has_no_reasons(good) -> None:
    image, face = good
    q = quality.assess(image, face)
    _check_shape(q)
    assert q.reasons == ()
    assert q.usable
    assert q.score > 0.6
    assert 30 < q.eye_distance < 60
    assert abs(q.yaw) < quality.MAX_YAW
    assert q.sharpness > quality.MIN_SHARPNESS
    assert quality.MIN_BRIGHTNESS < q.brightness < quality.MAX_BRIGHTNESS


@pytest.mark.data
def test_blur_is_flagged(good) -> None:
    image, face = good
    sharp = quality.assess(image, face)
    blurred = quality.assess(cv2.GaussianBlur(image, (0, 0), 2.5), face)
    _check_shape(blurred)
    assert quality.BLURRED in blurred.reasons
    assert blurred.sharpness < sharp.sharpness / 3
    assert blurred.score < sharp.score


@pytest.mark.data
def test_dark_and_bright_are_flagged(good) -> None:
    image, face = good
    dark = quality.assess((image // 5).astype(np.uint8), face)
    bright = quality.assess((image * 0.2 + 215).astype(np.uint8), face)
    _check_shape(dark)
    _check_shape(bright)
    assert quality.TOO_DARK in dark.reasons and quality.TOO_BRIGHT not in dark.reasons
    assert quality.TOO_BRIGHT in bright.reasons and quality.TOO_DARK not in bright.reasons


@pytest.mark.data
def test_small_face_is_flagged(good) -> None:
    image, face = good
    scale = 0.4
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    shrunk = face.with_(box=tuple(v * scale for v in face.box), landmarks=face.landmarks * scale)
    q = quality.assess(small, shrunk)
    _check_shape(q)
    assert quality.TOO_SMALL in q.reasons
    assert q.eye_distance < quality.MIN_EYE_DISTANCE


@pytest.mark.data
def test_low_detector_score_is_flagged(good) -> None:
    image, face = good
    q = quality.assess(image, face.with_(score=0.05))
    _check_shape(q)
    assert q.reasons == (quality.LOW_SCORE,)


@pytest.mark.data
def test_works_for_insightface_landmarks(good) -> None:
    image, face = good
    # Insightface-style points for the same face: eye centres, and the nose tip and mouth
    # corners where the dlib5 fit places ArcFace's reference ones.
    to_image = cv2.invertAffineTransform(align.arcface_matrix(face, 112))
    rest = align.ARCFACE_112[2:] @ to_image[:, :2].T + to_image[:, 2]
    points = np.vstack([*align.eye_centres(face), rest])
    insight = Face(box=face.box, score=0.85, landmarks=points, scheme=INSIGHTFACE5)
    a, b = quality.assess(image, face), quality.assess(image, insight)
    _check_shape(b)
    assert b.reasons == ()
    assert abs(a.eye_distance - b.eye_distance) < 1e-6
    assert abs(a.brightness - b.brightness) < 3
    assert abs(b.yaw) < 0.1  # the reference nose tip is central, by construction
    assert quality.LOW_SCORE in quality.assess(image, insight.with_(score=0.5)).reasons


def _synthetic(nose_shift: float, roll_deg: float = 0.0, scheme: str = DLIB5) -> Face:
    # A frontal face with 60 px between the eye centres; the nose moved sideways by
    # nose_shift half eye distances, then the whole thing rolled in the image plane.
    if scheme == DLIB5:
        points = np.array(
            [[130, 100], [110, 100], [50, 100], [70, 100], [90 + 30 * nose_shift, 140]], float
        )
    else:
        points = np.array(
            [[60, 100], [120, 100], [90 + 30 * nose_shift, 130], [65, 160], [115, 160]], float
        )
    angle = np.radians(roll_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = np.array([90.0, 120.0])
    points = (points - centre) @ rotation.T + centre
    return Face(box=(30, 60, 150, 200), score=2.0, landmarks=points, scheme=scheme)


@pytest.mark.parametrize("scheme", [DLIB5, INSIGHTFACE5])
def test_yaw_from_landmarks(scheme: str) -> None:
    assert quality.estimate_yaw(_synthetic(0.0, scheme=scheme)) == pytest.approx(0, abs=1e-9)
    # Rolling the head in the image plane is not a turn.
    assert quality.estimate_yaw(_synthetic(0.0, 30, scheme)) == pytest.approx(0, abs=1e-9)
    right = quality.estimate_yaw(_synthetic(0.3, scheme=scheme))
    left = quality.estimate_yaw(_synthetic(-0.3, scheme=scheme))
    assert 0 < right < 1 and right == pytest.approx(-left)
    assert quality.estimate_yaw(_synthetic(0.3, 25, scheme)) == pytest.approx(right)
    # Nose out past the eye: well into profile; monotone in the shift.
    assert quality.estimate_yaw(_synthetic(1.2, scheme=scheme)) > right
    assert quality.estimate_yaw(_synthetic(1.2, scheme=DLIB5)) > quality.MAX_YAW


def test_profile_is_flagged_on_a_synthetic_face() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(60, 200, (260, 200, 3), dtype=np.uint8)  # textured, mid-grey
    frontal = quality.assess(image, _synthetic(0.0))
    turned = quality.assess(image, _synthetic(1.2))
    _check_shape(frontal)
    _check_shape(turned)
    assert quality.PROFILE not in frontal.reasons
    assert quality.PROFILE in turned.reasons
    assert turned.score < frontal.score


@pytest.mark.parametrize(
    ("reasons", "eye", "yaw", "expected"),
    [
        ((), 40.0, 0.1, True),  # usable: always
        ((quality.TOO_SMALL,), 21.0, 0.1, True),
        ((quality.TOO_SMALL,), 19.0, 0.1, False),
        ((quality.PROFILE,), 40.0, -0.48, True),
        ((quality.PROFILE,), 40.0, 0.55, False),
        ((quality.TOO_SMALL, quality.PROFILE), 21.0, 0.48, True),
        ((quality.BLURRED,), 40.0, 0.1, False),  # only size and turn are relaxed
        ((quality.TOO_SMALL, quality.TOO_DARK), 22.0, 0.1, False),
    ],
)
def test_live_search_relaxes_only_size_and_turn(reasons, eye, yaw, expected):
    from openlfr.vision.face import Quality

    q = Quality(0.2 if reasons else 0.9, reasons, eye_distance=eye, yaw=yaw)
    assert quality.searchable_live(q, min_eye_distance=20.0, max_yaw=0.5) is expected
