"""The one value that flows through the face engine's stages: a `Face`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from openlfr.errors import ModelMismatchError

# Landmark schemes: which five points a detector gives, in which order.
# dlib5: image-right eye outer corner, its inner corner, image-left eye outer corner, its
#        inner corner, nose base (the order of dlib's shape_predictor_5_face_landmarks;
#        the image-right eye is the subject's left eye).
# insightface5: left eye centre, right eye centre, nose tip, mouth left, mouth right
#        (image left/right, as SCRFD and ArcFace's reference points use).
DLIB5 = "dlib5"
INSIGHTFACE5 = "insightface5"


@dataclass(frozen=True)
class Template:
    """A biometric template: an L2-normalised vector and the model that made it."""

    vector: np.ndarray
    model_id: str

    def similarity(self, other: Template) -> float:
        """Cosine similarity clipped to [0, 1]; comparing two models' templates is an error."""
        check_same_model(self.model_id, other.model_id)
        return float(max(0.0, float(np.dot(self.vector, other.vector))))


def check_same_model(a: str, b: str) -> None:
    if a != b:
        raise ModelMismatchError(f"cannot compare templates of model {a!r} with model {b!r}")


@dataclass(frozen=True)
class Quality:
    """A quality verdict: a score in [0, 1] and the named reasons that lowered it."""

    score: float
    reasons: tuple[str, ...] = ()
    eye_distance: float = 0.0  # pixels between the eye centres
    sharpness: float = 0.0  # variance of the Laplacian of the chip
    yaw: float = 0.0  # -1 (profile one way) .. 1 (other way), 0 = frontal
    brightness: float = 0.0  # mean grey level of the chip, 0..255

    @property
    def usable(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class Face:
    """One face in one image. Stages fill it in: detect -> landmarks -> quality -> template."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels
    score: float  # detector confidence (backend-specific scale)
    landmarks: np.ndarray | None = None  # (5, 2) float, see `scheme`
    scheme: str = DLIB5
    quality: Quality | None = None
    template: Template | None = None
    extras: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)

    def with_(self, **changes) -> Face:
        return replace(self, **changes)
