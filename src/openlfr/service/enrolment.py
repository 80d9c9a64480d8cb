"""Enrolment into the database: each person of an enrolment source (a folder with one
sub-folder per person, or a CSV) becomes a subject with the given category, legal basis
and expiry; each usable photo becomes a sealed reference image with its template; the
subjects join the named watchlist (created when absent).

Every image is judged first and nothing is written until all are judged; a person with no
usable image is not created. A new face that already matches another subject (at or above
the duplicate threshold) is flagged, not refused: a person may rightly be listed twice.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from openlfr.domain.errors import NotFoundError
from openlfr.domain.subjects import Category, ReferenceImageInfo, Subject
from openlfr.gallery.enrol import EnrolmentReport, Sources
from openlfr.store import Store

_JPEG, _PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"


@dataclass
class EnrolledSubject:
    name: str
    subject_id: str
    images: int
    duplicates: list[dict] = field(default_factory=list)  # {subject_id, display_name, score}

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "subject_id": self.subject_id,
            "images": self.images,
            "duplicates": self.duplicates,
        }


@dataclass
class DbEnrolment:
    watchlist: str
    watchlist_id: str
    watchlist_created: bool
    subjects: list[EnrolledSubject]

    def to_json(self) -> dict:
        return {
            "store": "database",
            "watchlist": self.watchlist,
            "watchlist_id": self.watchlist_id,
            "watchlist_created": self.watchlist_created,
            "subjects": [s.to_json() for s in self.subjects],
        }


def stored_image(path: Path) -> bytes:
    """The photo's bytes as stored: JPEG and PNG as they are, anything else the loader reads
    re-encoded as PNG (the store keeps JPEG/PNG only)."""
    data = path.read_bytes()
    if data.startswith((_JPEG, _PNG)):
        return data
    from PIL import Image

    from openlfr.vision.image import load_image

    buf = io.BytesIO()
    Image.fromarray(load_image(path)).save(buf, format="PNG")
    return buf.getvalue()


def _duplicates(
    probe: np.ndarray, refs: list[tuple[str, str, np.ndarray]], threshold: float
) -> list[dict]:
    best: dict[str, tuple[float, str]] = {}
    for subject_id, name, vector in refs:
        score = float(np.clip(np.dot(probe, vector), 0.0, 1.0))
        if score >= threshold and score > best.get(subject_id, (0.0, ""))[0]:
            best[subject_id] = (score, name)
    return [
        {"subject_id": sid, "display_name": name, "score": round(score, 4)}
        for sid, (score, name) in sorted(best.items(), key=lambda kv: -kv[1][0])
    ]


def enrol_into_db(
    store: Store,
    sources: Sources,
    report: EnrolmentReport,
    *,
    watchlist: str,
    category: Category | str,
    legal_basis: str,
    expires_at: datetime,
    actor: str,
    image_source: str | None = None,
    offence: str | None = None,
    duplicate_threshold: float = 0.93,
) -> DbEnrolment:
    """Write the enrolled people of `report` (judged from `sources`) into the database."""
    paths = {img.label: img.path for img in sources.images}
    # Validate every subject and every provenance before the first write.
    planned: list[tuple[Subject, list[tuple[Path, np.ndarray, ReferenceImageInfo]]]] = []
    for name in report.enrolled_subjects:
        subject = Subject(name, category, actor, expires_at, offence=offence)
        images = []
        for v in report.verdicts:
            if v.subject == name and v.verdict.enrolled and v.template is not None:
                info = ReferenceImageInfo(image_source or f"enrolment file {v.source}",
                                          legal_basis, actor)  # fmt: skip
                images.append((paths[v.source], v.template, info))
        planned.append((subject, images))
    try:
        watchlist_id, created = store.watchlists.by_name(watchlist), False
    except NotFoundError:
        watchlist_id, created = store.watchlists.create(watchlist, actor), True
    refs = _reference_templates(store, report.model_id, actor)  # audited: duplicate check
    out: list[EnrolledSubject] = []
    for subject, images in planned:
        sid = store.subjects.add(subject, actor)
        dups: dict[str, dict] = {}
        for path, template, info in images:
            for d in _duplicates(np.asarray(template, np.float32), refs, duplicate_threshold):
                if d["subject_id"] not in dups or d["score"] > dups[d["subject_id"]]["score"]:
                    dups[d["subject_id"]] = d
            store.subjects.add_image(sid, stored_image(path), info, actor, template,
                                     report.model_id)  # fmt: skip
        store.watchlists.add_subject(watchlist_id, sid, actor)
        for _, template, _ in images:
            refs.append((sid, subject.display_name, np.asarray(template, np.float32)))
        out.append(
            EnrolledSubject(
                subject.display_name, sid, len(images),
                sorted(dups.values(), key=lambda d: -d["score"]),
            )
        )  # fmt: skip
    return DbEnrolment(watchlist, watchlist_id, created, out)


def _reference_templates(store: Store, model_id: str, actor: str) -> list:
    from openlfr.store.listing import Listing

    return [
        (r.subject_id, r.display_name, r.vector)
        for r in Listing(store).reference_templates(model_id, actor)
    ]
