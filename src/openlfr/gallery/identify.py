"""1:N identification of the faces in still images against a watchlist.

Every face found gets the watchlist's candidates at or above the threshold, best first,
or none: "unknown". The threshold is given, or read from the model's calibration for a
target FPIR at this watchlist's size, or (with no calibration) a documented per-model
fallback. Nothing of a face that matched no one is written anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from openlfr.errors import CalibrationError, ConfigError, ImageError
from openlfr.gallery.enrol import EnrolEngine
from openlfr.gallery.watchlist import Watchlist

DEFAULT_TARGET_FPIR = 1e-3
DEFAULT_TOP_K = 3

# Thresholds used when a model has no calibration file. Similarity is cosine clipped to
# [0, 1] on L2-normalised templates.
# dlib-resnet-v1: dlib documents Euclidean distance 0.6 on its raw descriptors as its
# same-person threshold; their norms are ~1.41 (median on LFW), so that is cosine
# 1 - 0.6^2 / (2 * 1.41^2) ~ 0.91, where we measured a false-match rate of 0.8% per
# comparison: too loose for 1:N. 0.93 is the false-match rate 1e-3 point, measured on
# LFW (149 people with 2+ images, first two images each, seed 7: 11,026 non-mated pairs,
# FMR 1.0e-3; 149 mated pairs, FNMR 4%). Calibrate (`openlfr calibrate`) for anything real.
FALLBACK_THRESHOLDS: dict[str, float] = {
    "dlib-resnet-v1": 0.93,
}


@dataclass(frozen=True)
class Threshold:
    value: float
    source: str  # how it was chosen, in words, for the output
    expected_fpir: float | None = None


def fallback_threshold(model_id: str) -> float | None:
    # Exact ids only: "+flip" or "+jitter" variants shift the score distribution.
    return FALLBACK_THRESHOLDS.get(model_id)


def comparison_threshold(model_id: str, fmr: float = 1e-3) -> float:
    """The similarity at which two different people's templates match with probability
    `fmr` (one comparison), from the model's calibration, else the per-model fallback: the
    service's default for deployments and duplicate checks, where the watchlist size is
    not yet known."""
    calibration = _load_calibration(model_id)
    if calibration is not None:
        return round(float(calibration.threshold_for_p(fmr)), 3)
    value = fallback_threshold(model_id)
    if value is None:
        raise CalibrationError(
            f"no default threshold for model {model_id!r}: set one or run `openlfr calibrate`"
        )
    return value


def resolve_threshold(
    model_id: str,
    n_templates: int,
    threshold: float | None = None,
    target_fpir: float = DEFAULT_TARGET_FPIR,
) -> Threshold:
    """--threshold if given; else the calibrated threshold for `target_fpir` against this
    many templates (max fusion: every template is a chance of a false match); else the
    per-model fallback; else a CalibrationError."""
    if threshold is not None:
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"--threshold must be in [0, 1], got {threshold}")
        return Threshold(float(threshold), "given")
    if not 0.0 < target_fpir < 1.0:
        raise ConfigError(f"--target-fpir must be in (0, 1), got {target_fpir}")
    why = "no calibration"
    calibration = _load_calibration(model_id)
    if calibration is not None:
        try:
            value = float(calibration.threshold_for_fpir(target_fpir, n_templates))
            value = min(1.0, max(0.0, value))
            note = " (extrapolated tail)" if calibration.extrapolated(value) else ""
            return Threshold(
                value,
                f"calibrated for FPIR {target_fpir:g} against {n_templates} templates{note}",
                target_fpir,
            )
        except CalibrationError as exc:
            why = f"calibration cannot answer: {exc}"
    value = fallback_threshold(model_id)
    if value is None:
        raise CalibrationError(
            f"no threshold for model {model_id!r} ({why}); give --threshold or run "
            "`openlfr calibrate` first"
        )
    return Threshold(value, f"fallback for {model_id} ({why})")


def _load_calibration(model_id: str):
    from openlfr.gallery.calibration import load_calibration

    try:
        return load_calibration(model_id)
    except CalibrationError:
        return None


@dataclass(frozen=True)
class Match:
    subject: str
    similarity: float


@dataclass(frozen=True)
class FaceResult:
    box: tuple[float, float, float, float]
    quality: float | None
    reasons: tuple[str, ...]
    candidates: list[Match]
    nearest: Match | None = None  # best listed subject below the threshold (demo, opt-in)

    @property
    def subject(self) -> str | None:
        return self.candidates[0].subject if self.candidates else None

    @property
    def similarity(self) -> float | None:
        return self.candidates[0].similarity if self.candidates else None

    def to_json(self) -> dict:
        return {
            "box": [round(float(x), 1) for x in self.box],
            "quality": None if self.quality is None else round(self.quality, 4),
            "quality_reasons": list(self.reasons),
            "subject": self.subject,
            "similarity": None if self.similarity is None else round(self.similarity, 4),
            "candidates": [
                {"subject": c.subject, "similarity": round(c.similarity, 4)}
                for c in self.candidates
            ],
        }


@dataclass(frozen=True)
class ImageResult:
    image: str
    faces: list[FaceResult] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict:
        return {
            "image": self.image,
            "error": self.error,
            "faces": [f.to_json() for f in self.faces],
        }


class Identifier:
    """A watchlist's index and a threshold, ready to search faces."""

    def __init__(
        self,
        watchlist: Watchlist,
        threshold: Threshold,
        top_k: int = DEFAULT_TOP_K,
        index_kind: str = "auto",
    ) -> None:
        if top_k < 1:
            raise ConfigError(f"--top-k must be at least 1, got {top_k}")
        self.watchlist = watchlist
        self.threshold = threshold
        self.top_k = top_k
        self.index = watchlist.index(kind=index_kind)

    def check_model(self, model_id: str) -> None:
        if model_id != self.watchlist.model_id:
            raise ConfigError(
                f"watchlist {self.watchlist.name!r} was enrolled with model "
                f"{self.watchlist.model_id!r}, but the engine uses {model_id!r}"
            )

    def search(self, vectors: np.ndarray) -> list[list[Match]]:
        if len(vectors) == 0:
            return []
        found = self.index.search_batch(vectors, self.threshold.value, self.top_k)
        return [[Match(c.subject_id, float(c.similarity)) for c in cands] for cands in found]

    def identify_array(
        self, engine: EnrolEngine, image: np.ndarray, name: str, nearest: bool = False
    ) -> ImageResult:
        """Search every face in one image. `nearest` also reports, for a face that matched
        no one, the closest listed subject and its (below-threshold) similarity."""
        faces = engine.detect(image)
        faces = engine.embed(image, faces) if faces else []
        vectors = np.stack([f.template.vector for f in faces]) if faces else np.zeros((0, 1))
        results = []
        for face, vector, cands in zip(faces, vectors, self.search(vectors), strict=True):
            q = face.quality
            near = None
            if nearest and not cands:
                best = self.index.search(vector, 0.0, 1)
                near = Match(best[0].subject_id, float(best[0].similarity)) if best else None
            results.append(
                FaceResult(
                    box=tuple(float(x) for x in face.box),
                    quality=None if q is None else float(q.score),
                    reasons=() if q is None else tuple(q.reasons),
                    candidates=cands,
                    nearest=near,
                )
            )
        return ImageResult(name, results)

    def identify_files(
        self,
        engine: EnrolEngine,
        images: Sequence[str | Path],
        load: Callable[[Path], np.ndarray] | None = None,
    ) -> list[ImageResult]:
        self.check_model(engine.model_id)
        if load is None:
            from openlfr.vision.image import load_image as load
        out = []
        for path in images:
            try:
                array = load(Path(path))
            except ImageError as exc:
                out.append(ImageResult(str(path), [], str(exc)))
                continue
            out.append(self.identify_array(engine, array, str(path)))
        return out
