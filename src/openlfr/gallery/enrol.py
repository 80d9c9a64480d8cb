"""Enrolment: from a folder or CSV of photos to per-image verdicts and templates.

Every input image gets exactly one verdict: enrolled, or rejected for one named reason.
Nothing is dropped silently: files that cannot belong to a person are listed as skipped.
Only the templates of enrolled faces are ever computed; rejected images leave no template.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np

from openlfr.errors import ConfigError, ImageError
from openlfr.vision.face import Face

# A second face "counts" (and makes the photo ambiguous) when it is at least this wide
# relative to the largest face: a tiny face in the background does not reject a photo.
# Detections flagged "low detector score" do not count either: on real photos they are
# mostly false alarms (e.g. the mission patch on scikit-image's astronaut.png, dlib score
# 0.12 against 1.16 for her face), and the face that is enrolled must be a confident one.
SEVERAL_FACES_RATIO = 0.5
_LOW_SCORE = "low detector score"


class Verdict(StrEnum):
    """One image's enrolment outcome: enrolled, or the one reason it was rejected."""

    ENROLLED = "enrolled"
    UNREADABLE = "unreadable"
    NO_FACE = "no face"
    SEVERAL_FACES = "several faces"
    TOO_SMALL = "too small"
    PROFILE = "profile"
    BLURRED = "blurred"
    TOO_DARK = "too dark"
    TOO_BRIGHT = "too bright"
    LOW_SCORE = "low detector score"
    POOR_QUALITY = "poor quality"  # a quality reason this module does not know by name

    @property
    def enrolled(self) -> bool:
        return self is Verdict.ENROLLED


# Quality reasons (vision/quality.py vocabulary) in the order they are reported when a face
# has several: the root cause first (a small face is also blurred, so "too small" wins).
_QUALITY_ORDER = (
    Verdict.TOO_SMALL,
    Verdict.PROFILE,
    Verdict.BLURRED,
    Verdict.TOO_DARK,
    Verdict.TOO_BRIGHT,
    Verdict.LOW_SCORE,
)


def verdict_for_reasons(reasons: Iterable[str]) -> Verdict:
    """The single rejection verdict for a face's quality reasons (ENROLLED when none)."""
    reasons = set(reasons)
    if not reasons:
        return Verdict.ENROLLED
    for v in _QUALITY_ORDER:
        if v.value in reasons:
            return v
    return Verdict.POOR_QUALITY


class EnrolEngine(Protocol):
    """What enrolment needs of the face engine (`openlfr.vision.engine.FaceEngine`)."""

    @property
    def model_id(self) -> str: ...

    def detect(self, image: np.ndarray) -> list[Face]: ...

    def embed(self, image: np.ndarray, faces: Sequence[Face]) -> list[Face]: ...


@dataclass(frozen=True)
class SourceImage:
    """One photo offered for enrolment: whose it is and where it is."""

    subject: str
    path: Path
    label: str  # how it is shown and recorded: relative to the source, e.g. "Alice/1.jpg"


@dataclass(frozen=True)
class Skipped:
    """Something in the source that is not a person's photo (listed, never silently dropped)."""

    label: str
    reason: str


@dataclass(frozen=True)
class Sources:
    images: list[SourceImage]
    skipped: list[Skipped] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)  # every person named, in order
    unreadable_subjects: dict[str, str] = field(default_factory=dict)  # folder -> error


@dataclass(frozen=True)
class ImageVerdict:
    """The outcome for one image. `template` is set only when enrolled."""

    subject: str
    source: str
    verdict: Verdict
    detail: str = ""
    sha256: str | None = None
    quality: float | None = None
    box: tuple[float, float, float, float] | None = None
    template: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict:
        return {
            "subject": self.subject,
            "source": self.source,
            "verdict": self.verdict.value,
            "enrolled": self.verdict.enrolled,
            "detail": self.detail,
            "sha256": self.sha256,
            "quality": None if self.quality is None else round(float(self.quality), 4),
            "box": None if self.box is None else [round(float(x), 1) for x in self.box],
        }


@dataclass
class EnrolmentReport:
    """All verdicts of one enrolment run, and the templates of the enrolled images."""

    model_id: str
    dim: int
    verdicts: list[ImageVerdict]
    subjects: list[str]  # every person named in the source, enrolled or not
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def enrolled_subjects(self) -> list[str]:
        got = {v.subject for v in self.verdicts if v.verdict.enrolled}
        return [s for s in self.subjects if s in got]

    @property
    def not_enrolled(self) -> list[str]:
        got = set(self.enrolled_subjects)
        return [s for s in self.subjects if s not in got]

    def templates(self) -> dict[str, np.ndarray]:
        """Per enrolled subject, its (k, dim) float32 templates in source order."""
        out: dict[str, list[np.ndarray]] = {}
        for v in self.verdicts:
            if v.verdict.enrolled and v.template is not None:
                out.setdefault(v.subject, []).append(v.template)
        return {s: np.stack(out[s]).astype(np.float32) for s in self.subjects if s in out}

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.verdicts:
            out[v.verdict.value] = out.get(v.verdict.value, 0) + 1
        return out

    def to_json(self) -> dict:
        return {
            "model_id": self.model_id,
            "subjects": len(self.subjects),
            "enrolled_subjects": self.enrolled_subjects,
            "not_enrolled": self.not_enrolled,
            "counts": self.counts(),
            "images": [v.to_json() for v in self.verdicts],
            "skipped": [{"source": s.label, "reason": s.reason} for s in self.skipped],
        }


# ---- reading the source ----------------------------------------------------------------


def read_sources(source: str | Path) -> Sources:
    """A folder with one sub-folder per person, or a CSV of `name,image` rows."""
    source = Path(source)
    if not source.exists():
        raise ConfigError(f"enrolment source not found: {source}")
    if source.is_dir():
        return _read_folder(source)
    if source.suffix.lower() == ".csv":
        return _read_csv(source)
    raise ConfigError(
        f"enrolment source must be a folder (one sub-folder per person) or a .csv file: {source}"
    )


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _read_folder(root: Path) -> Sources:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise ConfigError(f"cannot read folder {root}: {exc.strerror or exc}") from None
    images: list[SourceImage] = []
    skipped: list[Skipped] = []
    subjects: list[str] = []
    unreadable: dict[str, str] = {}
    for entry in entries:
        if _hidden(entry.name):
            continue
        if not entry.is_dir():
            skipped.append(Skipped(entry.name, "not inside a person's sub-folder"))
            continue
        subject = entry.name.strip()
        subjects.append(subject)
        try:
            files = sorted(os.scandir(entry.path), key=lambda e: e.name)
        except OSError as exc:
            unreadable[subject] = f"cannot read folder: {exc.strerror or exc}"
            continue
        for f in files:
            if _hidden(f.name):
                continue
            label = f"{entry.name}/{f.name}"
            if f.is_dir():
                skipped.append(Skipped(label, "a folder inside a person's folder"))
                continue
            images.append(SourceImage(subject, Path(f.path), label))
    if not subjects:
        raise ConfigError(f"no person sub-folders in {root} (expected one sub-folder per person)")
    return Sources(images, skipped, subjects, unreadable)


def _read_csv(path: Path) -> Sources:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read CSV {path}: {exc}") from None
    images: list[SourceImage] = []
    subjects: list[str] = []
    for lineno, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) != 2:
            raise ConfigError(f"{path}:{lineno}: expected 2 columns (name,image), got {len(row)}")
        name, image = row[0].strip(), row[1].strip()
        if lineno == 1 and (name.lower(), image.lower()) == ("name", "image"):
            continue  # header
        if not name or not image:
            raise ConfigError(f"{path}:{lineno}: empty name or image")
        image_path = Path(image).expanduser()
        if not image_path.is_absolute():
            image_path = path.parent / image_path  # relative to the CSV, not to the cwd
        if name not in subjects:
            subjects.append(name)
        images.append(SourceImage(name, image_path, image))
    if not images:
        raise ConfigError(f"no rows in {path} (expected name,image)")
    return Sources(images, [], subjects, {})


# ---- judging each image ----------------------------------------------------------------


def file_sha256(path: Path) -> str | None:
    try:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    except OSError:
        return None


def _confident(face: Face) -> bool:
    return face.quality is None or _LOW_SCORE not in face.quality.reasons


def main_faces(faces: Sequence[Face], ratio: float = SEVERAL_FACES_RATIO) -> list[Face]:
    """The faces that could be the photo's subject, largest first: the confident faces at
    least `ratio` as wide as the largest confident one (all faces if none is confident).
    More than one means the photo is ambiguous."""
    confident = [f for f in faces if _confident(f)] or list(faces)
    if not confident:
        return []
    widest = max(f.width for f in confident)
    main = [f for f in confident if f.width >= ratio * widest]
    return sorted(main, key=lambda f: f.width * f.height, reverse=True)


def judge(
    engine: EnrolEngine, image: np.ndarray, subject: str, source: str, sha256: str | None
) -> ImageVerdict:
    """The verdict for one decoded image; embeds only a face that passes every check."""
    faces = engine.detect(image)
    if not faces:
        return ImageVerdict(subject, source, Verdict.NO_FACE, "no face found", sha256)
    main = main_faces(faces)
    if len(main) > 1:
        return ImageVerdict(
            subject,
            source,
            Verdict.SEVERAL_FACES,
            f"{len(main)} faces of comparable size",
            sha256,
        )
    face = main[0]
    q = face.quality
    reasons = q.reasons if q is not None else ()
    verdict = verdict_for_reasons(reasons)
    score = None if q is None else float(q.score)
    if not verdict.enrolled:
        return ImageVerdict(subject, source, verdict, ", ".join(reasons), sha256, score, face.box)
    (embedded,) = engine.embed(image, [face])
    assert embedded.template is not None
    vector = np.asarray(embedded.template.vector, dtype=np.float32)
    return ImageVerdict(subject, source, verdict, "", sha256, score, face.box, vector)


def _default_loader() -> Callable[[Path], np.ndarray]:
    from openlfr.vision.image import load_image

    return load_image


def enrol(
    sources: Sources,
    engine: EnrolEngine,
    *,
    dim: int | None = None,
    load: Callable[[Path], np.ndarray] | None = None,
    progress: Callable[[int, int, ImageVerdict], None] | None = None,
) -> EnrolmentReport:
    """Judge every source image; the report holds the verdicts and the enrolled templates.

    Writes nothing: saving is the store's job (all or nothing, see `watchlist.save`).
    """
    load = load or _default_loader()
    verdicts: list[ImageVerdict] = []
    for subject, error in sources.unreadable_subjects.items():
        verdicts.append(ImageVerdict(subject, f"{subject}/", Verdict.UNREADABLE, error))
    total = len(sources.images)
    for i, item in enumerate(sources.images):
        sha = file_sha256(item.path)
        try:
            image = load(item.path)
        except ImageError as exc:
            # The row already names the file: keep only why it could not be read.
            why = str(exc).removeprefix(f"cannot read image {item.path}: ")
            v = ImageVerdict(item.subject, item.label, Verdict.UNREADABLE, why, sha)
        else:
            v = judge(engine, image, item.subject, item.label, sha)
        verdicts.append(v)
        if progress is not None:
            progress(i + 1, total, v)
    dims = {len(v.template) for v in verdicts if v.template is not None}
    if dim is None:
        dim = dims.pop() if dims else int(getattr(getattr(engine, "embedder", None), "dim", 0))
    return EnrolmentReport(engine.model_id, int(dim), verdicts, sources.subjects, sources.skipped)
