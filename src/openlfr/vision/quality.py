"""A quality verdict per face: is it good enough to search or enrol?

Five measurements, each from the image and the face's five landmarks (either scheme):
eye distance (pixels between the eye centres), sharpness (variance of the Laplacian of a
grey 112 px chip), yaw (from where the nose sits between the eyes), brightness (mean grey
level of the chip) and the detector's own score.

How the score is made: each measurement maps to a factor in [0, 1] by a straight ramp
from a "reject" value (0) to an "ideal" value (1); the reason's threshold is the middle
of that ramp, so a face flagged for any reason has a factor of at most 0.5 there. The
score is the product of the factors: one bad property sinks a face, and several middling
ones add up. So every face with a reason scores at most 0.5, and a score of 1 means every
measurement was at or past its ideal.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from openlfr.vision import align
from openlfr.vision.face import DLIB5, INSIGHTFACE5, Face, Quality

# The fixed vocabulary of reasons.
TOO_SMALL = "too small"
BLURRED = "blurred"
PROFILE = "profile"
TOO_DARK = "too dark"
TOO_BRIGHT = "too bright"
LOW_SCORE = "low detector score"
REASONS = (TOO_SMALL, BLURRED, PROFILE, TOO_DARK, TOO_BRIGHT, LOW_SCORE)

# Eye distance, pixels. dlib's 150 px chip has ~52 px between the eyes and ArcFace's
# 112 px chip ~35 px; below 24 px a face is blown up over 2x for dlib, inventing the detail
# the network keys on (ISO/IEC 19794-5 asks 60+ px for enrolment; CCTV guidance ~30-40).
# LFW's 250 px images have 29-49 px (1st-99th percentile), median 41.
MIN_EYE_DISTANCE = 24.0
IDEAL_EYE_DISTANCE = 40.0

# Variance of the Laplacian of the grey 112 px ArcFace-style chip (scale-normalised, so
# comparable across face sizes). Measured on 300 random LFW images (deep-funneled JPEGs,
# slightly soft): median 149, 5th percentile 56; the same images Gaussian-blurred by
# sigma 2 px (about eye distance / 20) give median 18, 99th percentile 47. The threshold
# sits between, flagging ~3% of LFW and ~98% of the blurred copies.
MIN_SHARPNESS = 45.0
IDEAL_SHARPNESS = 110.0

# |yaw| in [0, 1], 1 = full profile (90 degrees). 0.45 is ~40 degrees: beyond it the far
# eye is foreshortened and frontal-trained embedders lose accuracy fast. On LFW, 90% of
# faces lie within +-0.37 and ~3% past 0.45.
MAX_YAW = 0.45
IDEAL_YAW = 0.15

# Mean grey level of the chip, 0..255. Under ~50 the face is mostly in shadow and JPEG
# noise dominates; over ~205 skin is clipped to white and its texture is gone. (LFW's
# 1st-99th percentiles: 64-165.)
MIN_BRIGHTNESS = 50.0
IDEAL_MIN_BRIGHTNESS = 80.0
MAX_BRIGHTNESS = 205.0
IDEAL_MAX_BRIGHTNESS = 175.0

# Detector confidence per landmark scheme, since each detector has its own scale.
# dlib HOG: an SVM margin, 0 at dlib's default threshold; on LFW the faces' median is 1.67
# and 1% score under 0.3, while false alarms hover just above 0. SCRFD (insightface5): a
# probability whose usual operating threshold is 0.5.
MIN_DETECTOR_SCORE = {DLIB5: 0.3, INSIGHTFACE5: 0.6}
IDEAL_DETECTOR_SCORE = {DLIB5: 1.0, INSIGHTFACE5: 0.8}

# How far the nose sits in front of the eye centres, in half eye distances: the nose base
# (dlib5) ~20 mm, the tip (insightface5) ~32 mm, over a ~32 mm half eye distance. Turns
# the nose's sideways shift into an angle: shift / half-eye-distance = depth * tan(yaw).
_NOSE_DEPTH = {DLIB5: 0.6, INSIGHTFACE5: 1.0}

_CHIP = 112


def assess(image: np.ndarray, face: Face) -> Quality:
    """Measure one face and give its quality score and reasons."""
    left, right = align.eye_centres(face)
    eye_distance = float(np.linalg.norm(right - left))
    grey = _grey_chip(image, face)
    sharpness = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    brightness = float(grey.mean())
    yaw = estimate_yaw(face)

    factors = {
        TOO_SMALL: _ramp(
            eye_distance, _zero(MIN_EYE_DISTANCE, IDEAL_EYE_DISTANCE), IDEAL_EYE_DISTANCE
        ),
        BLURRED: _ramp(sharpness, _zero(MIN_SHARPNESS, IDEAL_SHARPNESS), IDEAL_SHARPNESS),
        PROFILE: _ramp(abs(yaw), _zero(MAX_YAW, IDEAL_YAW), IDEAL_YAW),
        TOO_DARK: _ramp(
            brightness, _zero(MIN_BRIGHTNESS, IDEAL_MIN_BRIGHTNESS), IDEAL_MIN_BRIGHTNESS
        ),
        TOO_BRIGHT: _ramp(
            brightness, _zero(MAX_BRIGHTNESS, IDEAL_MAX_BRIGHTNESS), IDEAL_MAX_BRIGHTNESS
        ),
    }
    if face.scheme in MIN_DETECTOR_SCORE:
        low, ideal = MIN_DETECTOR_SCORE[face.scheme], IDEAL_DETECTOR_SCORE[face.scheme]
        factors[LOW_SCORE] = _ramp(face.score, _zero(low, ideal), ideal)

    flagged = {
        TOO_SMALL: eye_distance < MIN_EYE_DISTANCE,
        BLURRED: sharpness < MIN_SHARPNESS,
        PROFILE: abs(yaw) > MAX_YAW,
        TOO_DARK: brightness < MIN_BRIGHTNESS,
        TOO_BRIGHT: brightness > MAX_BRIGHTNESS,
        LOW_SCORE: face.scheme in MIN_DETECTOR_SCORE
        and face.score < MIN_DETECTOR_SCORE[face.scheme],
    }
    score = math.prod(factors.values())
    reasons = tuple(r for r in REASONS if flagged[r])
    return Quality(
        score=float(min(1.0, max(0.0, score))),
        reasons=reasons,
        eye_distance=eye_distance,
        sharpness=sharpness,
        yaw=yaw,
        brightness=brightness,
    )


def searchable_live(q: Quality, min_eye_distance: float, max_yaw: float) -> bool:
    """Whether a live shot is worth a search: usable, or flagged only "too small" and/or
    "profile" while within the looser live limits (blurred, dark, bright or low-score
    faces still are not). Enrolment and still images keep the strict verdict: a still
    photo can be retaken, while a passer-by's face is only ever as big as it is now."""
    if q.usable:
        return True
    if not set(q.reasons) <= {TOO_SMALL, PROFILE}:
        return False
    return q.eye_distance >= min_eye_distance and abs(q.yaw) <= max_yaw


def estimate_yaw(face: Face) -> float:
    """Head turn from the landmarks: -1..1, 0 frontal, +-1 full profile.

    Positive when the nose has moved towards the image's right (the subject turned to
    their left). The nose's shift along the eye line, in half eye distances, is
    depth * tan(angle) with the nose depth of `_NOSE_DEPTH`; we return angle / 90 deg.
    """
    left, right = align.eye_centres(face)
    axis = right - left
    half = float(np.linalg.norm(axis)) / 2
    if half < 1e-6:
        return 0.0
    shift = float(np.dot(align.nose(face) - (left + right) / 2, axis / (2 * half))) / half
    angle = math.atan(shift / _NOSE_DEPTH.get(face.scheme, 0.6))
    return float(max(-1.0, min(1.0, angle / (math.pi / 2))))


def _grey_chip(image: np.ndarray, face: Face) -> np.ndarray:
    matrix = align.arcface_matrix(face, _CHIP)
    # Replicate the border: black fill past the image's edge would read as sharp edges.
    chip = cv2.warpAffine(
        np.ascontiguousarray(image),
        matrix,
        (_CHIP, _CHIP),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)


def _zero(threshold: float, ideal: float) -> float:
    # The ramp's zero point, mirrored through the threshold from the ideal.
    return 2 * threshold - ideal


def _ramp(value: float, zero: float, one: float) -> float:
    """0 at `zero`, 1 at `one`, linear between (works either way round)."""
    if one == zero:
        return 1.0
    return float(min(1.0, max(0.0, (value - zero) / (one - zero))))
