"""Cutting a canonical face chip from an image, given a face's five landmarks.

Two conventions (`ChipSpec.style`):

- "dlib": exactly `dlib.get_face_chip` (the ResNet was trained on it) for dlib5
  landmarks. For insightface5 landmarks, an approximation: a similarity fit of the eye
  centres and nose onto dlib's template.
- "arcface": a least-squares similarity transform (Umeyama, as insightface's
  `norm_crop`) onto ArcFace's 112x112 reference points, scaled for other sizes. `padding`
  is not used. insightface5 landmarks map directly. dlib5 landmarks give no mouth, so we
  use a 3-point fit: the two eye centres (mean of each eye's two corners) and dlib's nose
  base, whose target is where dlib's own template puts the nose base relative to the eyes
  (so the fit neither stretches nor tilts the face to make a nose base into a nose tip).
"""

from __future__ import annotations

import cv2
import numpy as np

from openlfr.errors import ConfigError
from openlfr.vision.backends import ChipSpec
from openlfr.vision.face import DLIB5, INSIGHTFACE5, Face

# ArcFace's reference points in a 112x112 chip: left eye, right eye (image sides), nose
# tip, mouth left, mouth right (insightface.utils.face_align.arcface_dst).
ARCFACE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)

# dlib's 5-point template on the unit square before padding (get_face_chip_details in
# dlib/image_transforms/interpolation.h), in the shape predictor's order: image-right eye
# outer and inner corner, image-left eye outer and inner corner, nose base.
DLIB5_TEMPLATE = np.array(
    [
        [0.8595674595992, 0.2134981538014],
        [0.6460604764104, 0.2289674387677],
        [0.1205750620789, 0.2137274526848],
        [0.3340850613712, 0.2290642403242],
        [0.4901123135679, 0.6277975316475],
    ],
    dtype=np.float64,
)


def eye_centres(face: Face) -> tuple[np.ndarray, np.ndarray]:
    """(image-left eye centre, image-right eye centre) for either landmark scheme."""
    points = _landmarks(face)
    if face.scheme == DLIB5:
        return (points[2] + points[3]) / 2, (points[0] + points[1]) / 2
    if face.scheme == INSIGHTFACE5:
        return points[0], points[1]
    raise ConfigError(f"unknown landmark scheme {face.scheme!r}")


def nose(face: Face) -> np.ndarray:
    """The nose landmark: the base (dlib5) or the tip (insightface5)."""
    return _landmarks(face)[4 if face.scheme == DLIB5 else 2]


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 least-squares similarity (rotation, uniform scale, shift) taking src onto dst.

    Umeyama's estimator (as skimage's SimilarityTransform and insightface use) restricted to
    proper rotations, written with complex numbers: dst ~ a * src + b. A face is never
    mirrored, and this form stays exact for two points, where an SVD's sign is a coin toss.
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    zs = src[:, 0] + 1j * src[:, 1]
    zd = dst[:, 0] + 1j * dst[:, 1]
    zs_c, zd_c = zs - zs.mean(), zd - zd.mean()
    spread = float((np.abs(zs_c) ** 2).sum())
    if spread <= 1e-12:
        raise ValueError("landmarks are degenerate (all at one point)")
    a = (np.conj(zs_c) * zd_c).sum() / spread
    b = zd.mean() - a * zs.mean()
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag]])


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def _dlib_template_in_arcface() -> np.ndarray:
    # Where dlib's template puts its eye centres and nose base, mapped into the ArcFace
    # chip by the similarity that takes dlib's eye centres onto ArcFace's eyes.
    t = DLIB5_TEMPLATE
    dlib_pts = np.array([(t[2] + t[3]) / 2, (t[0] + t[1]) / 2, t[4]])
    to_arcface = similarity(dlib_pts[:2], ARCFACE_112[:2])
    return np.vstack([ARCFACE_112[:2], _apply(to_arcface, dlib_pts[2:])])


# Targets for dlib5's (left eye centre, right eye centre, nose base) in a 112 chip.
_DLIB5_ARCFACE_112 = _dlib_template_in_arcface()


def arcface_matrix(face: Face, size: int = 112) -> np.ndarray:
    """The 2x3 matrix taking image coordinates to an ArcFace-style chip of `size` pixels."""
    left, right = eye_centres(face)
    scale = size / 112.0
    if face.scheme == INSIGHTFACE5:
        return similarity(_landmarks(face), ARCFACE_112 * scale)
    return similarity(np.array([left, right, nose(face)]), _DLIB5_ARCFACE_112 * scale)


def dlib_matrix(face: Face, size: int, padding: float) -> np.ndarray:
    """2x3 matrix onto dlib's template (for faces whose landmarks are not dlib5)."""
    t = (DLIB5_TEMPLATE + padding) / (1 + 2 * padding) * size
    dlib_eyes = np.array([(t[2] + t[3]) / 2, (t[0] + t[1]) / 2])
    # The template's nose base stands for the tip, pulled up by the tip-to-base offset
    # measured in ArcFace's frame (the same offset _DLIB5_ARCFACE_112 encodes).
    offset = (ARCFACE_112[2] - _DLIB5_ARCFACE_112[2]) * (
        np.linalg.norm(dlib_eyes[1] - dlib_eyes[0])
        / np.linalg.norm(ARCFACE_112[1] - ARCFACE_112[0])
    )
    targets = np.vstack([dlib_eyes, t[4] + offset])
    left, right = eye_centres(face)
    return similarity(np.array([left, right, nose(face)]), targets)


def chip(image: np.ndarray, face: Face, spec: ChipSpec) -> np.ndarray:
    """The face cut out, upright and scaled: RGB uint8 (spec.size, spec.size, 3)."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    if spec.style == "dlib":
        if face.scheme == DLIB5:
            return _dlib_chip(image, face, spec)
        matrix = dlib_matrix(face, spec.size, spec.padding)
    elif spec.style == "arcface":
        matrix = arcface_matrix(face, spec.size)
    else:
        raise ConfigError(f"unknown chip style {spec.style!r} (expected 'dlib' or 'arcface')")
    out = cv2.warpAffine(
        np.ascontiguousarray(image),
        matrix,
        (spec.size, spec.size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return np.ascontiguousarray(out)


def _dlib_chip(image: np.ndarray, face: Face, spec: ChipSpec) -> np.ndarray:
    import dlib

    points = _landmarks(face)
    x1, y1, x2, y2 = (int(round(v)) for v in face.box)
    rect = dlib.rectangle(x1, y1, x2 - 1, y2 - 1)  # back to dlib's inclusive corners
    parts = [dlib.point(int(round(x)), int(round(y))) for x, y in points]
    shape = dlib.full_object_detection(rect, parts)
    out = dlib.get_face_chip(np.ascontiguousarray(image), shape, spec.size, spec.padding)
    return np.ascontiguousarray(out, dtype=np.uint8)


def _landmarks(face: Face) -> np.ndarray:
    if face.landmarks is None:
        raise ValueError("the face has no landmarks; alignment needs its five points")
    points = np.asarray(face.landmarks, dtype=np.float64)
    if points.shape != (5, 2) or not np.isfinite(points).all():
        raise ValueError(f"expected five finite (x, y) landmarks, got shape {points.shape}")
    return points
