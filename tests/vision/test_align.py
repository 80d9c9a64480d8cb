"""Chip alignment: dlib's exact chip, the ArcFace similarity fit, for both landmark schemes."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import dlib
import numpy as np
import pytest

from openlfr.errors import ConfigError
from openlfr.vision import align
from openlfr.vision.backends import ChipSpec
from openlfr.vision.dlib_backend import DlibDetector, shape_predictor
from openlfr.vision.face import DLIB5, INSIGHTFACE5, Face
from openlfr.vision.image import load_image

ARCFACE = ChipSpec(112, "arcface")
DLIB = ChipSpec(150, "dlib", 0.25)


def _known_similarity(angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    a = math.radians(angle_deg)
    c, s = scale * math.cos(a), scale * math.sin(a)
    return np.array([[c, -s, shift[0]], [s, c, shift[1]]])


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def test_similarity_recovers_a_known_transform() -> None:
    truth = _known_similarity(25, 1.7, (40, -12))
    src = np.random.default_rng(0).uniform(0, 100, (5, 2))
    assert np.allclose(align.similarity(src, _apply(truth, src)), truth, atol=1e-9)
    # Two points determine it too, with no mirror image.
    assert np.allclose(align.similarity(src[:2], _apply(truth, src[:2])), truth, atol=1e-9)


def test_similarity_never_mirrors() -> None:
    src = np.array([[0.0, 0], [10, 0], [5, 8]])
    mirrored = src * [-1, 1]
    matrix = align.similarity(src, mirrored)
    assert np.linalg.det(matrix[:, :2]) > 0


def test_similarity_rejects_degenerate_points() -> None:
    with pytest.raises(ValueError, match="degenerate"):
        align.similarity(np.ones((5, 2)), align.ARCFACE_112)


def _marked_insightface_face() -> tuple[np.ndarray, Face]:
    # A synthetic picture: the ArcFace reference points, rotated, scaled and shifted, drawn
    # as coloured dots on a grey image. The chip must put each dot back on its reference.
    truth = _known_similarity(-20, 2.5, (150, 60))
    points = _apply(truth, align.ARCFACE_112)
    image = np.full((480, 520, 3), 90, np.uint8)
    for x, y in points:
        cv2.circle(image, (round(x), round(y)), 4, (255, 255, 0), -1)
    return image, Face(box=(100, 50, 450, 420), score=0.9, landmarks=points, scheme=INSIGHTFACE5)


def _dot_centres(chip: np.ndarray) -> np.ndarray:
    mask = ((chip[..., 0] > 200) & (chip[..., 2] < 80)).astype(np.uint8)
    count, _, _, centroids = cv2.connectedComponentsWithStats(mask)
    return centroids[1:]


def test_arcface_chip_puts_insightface_points_on_the_reference() -> None:
    image, face = _marked_insightface_face()
    out = align.chip(image, face, ARCFACE)
    assert out.shape == (112, 112, 3) and out.dtype == np.uint8 and out.flags["C_CONTIGUOUS"]
    matrix = align.arcface_matrix(face, 112)
    assert np.allclose(_apply(matrix, face.landmarks), align.ARCFACE_112, atol=1e-6)
    dots = _dot_centres(out)
    assert len(dots) == 5
    for ref in align.ARCFACE_112:
        assert np.min(np.linalg.norm(dots - ref, axis=1)) < 1.0


def test_arcface_chip_scales_for_other_sizes() -> None:
    image, face = _marked_insightface_face()
    out = align.chip(image, face, ChipSpec(224, "arcface"))
    assert out.shape == (224, 224, 3)
    assert np.allclose(
        _apply(align.arcface_matrix(face, 224), face.landmarks), align.ARCFACE_112 * 2, atol=1e-6
    )


@pytest.fixture(scope="module")
def lfw_face(shared_data: Path) -> tuple[np.ndarray, Face]:
    image = load_image(shared_data / "lfw" / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg")
    faces = DlibDetector().detect(image)
    assert len(faces) == 1
    return image, faces[0]


@pytest.mark.data
def test_dlib_style_is_exactly_dlib_get_face_chip(lfw_face) -> None:
    image, face = lfw_face
    x1, y1, x2, y2 = (int(v) for v in face.box)
    shape = shape_predictor()(image, dlib.rectangle(x1, y1, x2 - 1, y2 - 1))
    expected = dlib.get_face_chip(image, shape, 150, 0.25)
    out = align.chip(image, face, DLIB)
    assert out.shape == (150, 150, 3) and out.dtype == np.uint8
    assert np.array_equal(out, expected)
    assert np.array_equal(align.chip(image, face, ChipSpec(200, "dlib", 0.4)),
                          dlib.get_face_chip(image, shape, 200, 0.4))  # fmt: skip


@pytest.mark.data
def test_arcface_chip_from_dlib5_landmarks(lfw_face) -> None:
    image, face = lfw_face
    out = align.chip(image, face, ARCFACE)
    assert out.shape == (112, 112, 3)
    matrix = align.arcface_matrix(face, 112)
    left, right = align.eye_centres(face)
    mapped_left, mapped_right = _apply(matrix, np.array([left, right]))
    # The eyes land within a couple of pixels of ArcFace's reference eyes...
    assert np.linalg.norm(mapped_left - align.ARCFACE_112[0]) < 3
    assert np.linalg.norm(mapped_right - align.ARCFACE_112[1]) < 3
    # ...and the nose base sits below ArcFace's nose tip, between the mouth and the tip.
    nose_y = _apply(matrix, align.nose(face)[None])[0, 1]
    assert align.ARCFACE_112[2, 1] < nose_y < align.ARCFACE_112[3, 1]
    assert out[40:80, 30:80].std() > 10  # a face, not an empty border


@pytest.mark.data
def test_dlib_style_from_insightface5_approximates_dlibs_chip(lfw_face) -> None:
    # Rebuild insightface-style points from the dlib5 face (eye centres; nose tip where the
    # dlib5->ArcFace fit says it is; mouth corners from the ArcFace reference), then cut a
    # dlib-style chip: it should nearly equal dlib's own.
    image, face = lfw_face
    to_image = cv2.invertAffineTransform(align.arcface_matrix(face, 112))
    left, right = align.eye_centres(face)
    tip, mouth_l, mouth_r = _apply(to_image, align.ARCFACE_112[2:])
    points = np.array([left, right, tip, mouth_l, mouth_r])
    insight = Face(box=face.box, score=0.9, landmarks=points, scheme=INSIGHTFACE5)
    ours = align.chip(image, insight, DLIB).astype(np.float64)
    exact = align.chip(image, face, DLIB).astype(np.float64)
    assert ours.shape == exact.shape
    assert np.abs(ours - exact).mean() < 8  # same framing: a few grey levels apart
    # Closer than dlib's own chip shifted sideways by 2 px.
    shifted = np.roll(exact, 2, axis=1)
    assert np.abs(ours - exact).mean() < np.abs(shifted - exact).mean()


def test_eye_centres_by_scheme() -> None:
    dlib_points = np.array([[60, 40], [50, 40], [20, 42], [30, 42], [40, 60]], float)
    face = Face(box=(0, 0, 80, 80), score=1, landmarks=dlib_points, scheme=DLIB5)
    left, right = align.eye_centres(face)
    assert np.allclose(left, [25, 42]) and np.allclose(right, [55, 40])
    assert np.allclose(align.nose(face), [40, 60])
    insight = Face(box=(0, 0, 80, 80), score=1, landmarks=dlib_points, scheme=INSIGHTFACE5)
    assert np.allclose(align.eye_centres(insight)[0], [60, 40])
    assert np.allclose(align.nose(insight), [20, 42])


def test_bad_input_is_refused() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    bare = Face(box=(10, 10, 90, 90), score=1.0)
    with pytest.raises(ValueError, match="no landmarks"):
        align.chip(image, bare, ARCFACE)
    points = np.array([[30, 40], [70, 40], [50, 60], [35, 75], [65, 75]], float)
    face = Face(box=(10, 10, 90, 90), score=1.0, landmarks=points, scheme=INSIGHTFACE5)
    with pytest.raises(ConfigError, match="chip style"):
        align.chip(image, face, ChipSpec(112, "mystery"))
    with pytest.raises(ValueError, match="RGB uint8"):
        align.chip(image[..., 0], face, ARCFACE)
    with pytest.raises(ValueError, match="five finite"):
        align.chip(image, face.with_(landmarks=points[:3]), ARCFACE)
    with pytest.raises(ConfigError, match="scheme"):
        align.chip(image, face.with_(scheme="68point"), ARCFACE)
