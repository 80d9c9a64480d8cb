"""The demo's scenarios: enrol a small watchlist, identify probes, count what happened.

Two scenarios, the same scoring:
- `run_shipped_demo`: only photos that installed packages ship (see `openlfr.demo`).
  Listed people are probed with altered renderings of their own enrolment photo.
- `run_lfw_demo`: an LFW-layout folder (one sub-folder per person): the first photo of a
  few people is enrolled, their other photos are probes, and people not enrolled are
  searched too.

Nothing is written to the data directory: the watchlist lives in memory only.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from openlfr.errors import ConfigError, ImageError, WatchlistError
from openlfr.gallery.enrol import EnrolmentReport, SourceImage, Sources, enrol, file_sha256
from openlfr.gallery.identify import (
    DEFAULT_TARGET_FPIR,
    Identifier,
    ImageResult,
    Threshold,
    resolve_threshold,
)
from openlfr.gallery.watchlist import Watchlist

# Outcomes of one searched face (or of a probe photo in which no face was found).
TRUE_MATCH = "true match"
MISSED = "missed"  # a listed person shown as unknown (or not found at all)
WRONG_PERSON = "false match (wrong person)"
CORRECT_UNKNOWN = "unknown (correct)"
FALSE_MATCH = "false match"  # someone not on the list matched a listed person
NO_FACE = "no face found (correct)"

NOTE = (
    "Listed people are shown as altered renderings of their enrolment photo: their matches "
    "show the pipeline working end to end, not how well it recognises a person across "
    "different photos (try `openlfr demo --faces DIR` with an LFW-layout folder)."
)


@dataclass(frozen=True)
class DemoRow:
    probe: str
    how: str  # which rendering, or where the photo came from
    truth: str | None  # the listed person shown; None when nobody listed is shown
    result: str | None  # the best candidate, None for unknown / no face
    similarity: float | None
    outcome: str
    found_face: bool = True
    nearest: tuple[str, float] | None = None  # for an unknown: closest listed, below threshold


@dataclass
class DemoResult:
    title: str
    report: EnrolmentReport
    threshold: Threshold
    rows: list[DemoRow] = field(default_factory=list)
    sections: list[tuple[str, list[DemoRow]]] = field(default_factory=list)
    note: str = ""

    def all_rows(self) -> list[DemoRow]:
        return self.rows + [r for _, rows in self.sections for r in rows]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.all_rows() if r.outcome == outcome)

    def figures(self) -> dict[str, int]:
        rows = self.all_rows()
        listed = sum(1 for r in rows if r.truth is not None)
        unlisted = sum(1 for r in rows if r.truth is None and r.outcome != NO_FACE)
        return {
            "listed probes": listed,
            "true matches": self.count(TRUE_MATCH),
            "missed": self.count(MISSED),
            "unlisted faces": unlisted,
            "correct unknowns": self.count(CORRECT_UNKNOWN),
            "false matches": self.count(FALSE_MATCH) + self.count(WRONG_PERSON),
            "photos with no face": self.count(NO_FACE),
        }


def score(result: ImageResult, truth: str | None, how: str, expect_face: bool) -> list[DemoRow]:
    """Rows for one probe photo. Its largest face is the one the truth is about; any other
    face in it is someone not on the list."""
    if not result.faces:
        if truth is None and not expect_face:
            outcome = NO_FACE
        else:
            outcome = MISSED if truth is not None else CORRECT_UNKNOWN
        return [DemoRow(result.image, how, truth, None, None, outcome, found_face=False)]
    rows = []
    for i, face in enumerate(result.faces):  # largest first
        t = truth if i == 0 else None
        got = face.subject
        if t is not None:
            outcome = TRUE_MATCH if got == t else MISSED if got is None else WRONG_PERSON
        else:
            outcome = CORRECT_UNKNOWN if got is None else FALSE_MATCH
        name = result.image if i == 0 else f"{result.image} (face {i + 1})"
        near = (face.nearest.subject, face.nearest.similarity) if face.nearest else None
        rows.append(DemoRow(name, how, t, got, face.similarity, outcome, True, near))
    return rows


def _identifier(
    report: EnrolmentReport, threshold: float | None, target_fpir: float
) -> tuple[Identifier, Threshold]:
    wl = Watchlist.from_report("demo", report)
    if not wl.template_subjects:
        raise WatchlistError("the demo could not enrol anyone (see the enrolment table)")
    chosen = resolve_threshold(wl.model_id, len(wl.template_subjects), threshold, target_fpir)
    return Identifier(wl, chosen, index_kind="exact"), chosen


def run_shipped_demo(
    engine,
    threshold: float | None = None,
    target_fpir: float = DEFAULT_TARGET_FPIR,
) -> DemoResult:
    """Enrol Grace Hopper and Eileen Collins; search renderings of them, unlisted faces and
    photos with no face; then take Grace Hopper off the list and search her again."""
    from openlfr.demo import assets

    listed = [assets.grace_hopper(), assets.eileen_collins()]
    by_path = {}
    images = []
    for a in listed:
        key = Path(f"{a.path}#{a.name}")  # one source per asset, even from a shared file
        by_path[key] = a.image
        images.append(SourceImage(a.subject, key, a.origin))
    sources = Sources(images, [], [a.subject for a in listed], {})
    report = enrol(sources, engine, load=lambda p: by_path[p])
    # The enrolment records carry the package file's SHA-256 (the key above is no file).
    report.verdicts = [
        replace(v, sha256=file_sha256(a.path)) for v, a in zip(report.verdicts, listed, strict=True)
    ]
    identifier, chosen = _identifier(report, threshold, target_fpir)

    rows: list[DemoRow] = []
    for a in listed:
        for how, image in assets.renderings(a):
            r = identifier.identify_array(engine, image, a.name, nearest=True)
            rows.extend(score(r, a.subject, how, expect_face=True))
    for a in assets.unlisted_faces():
        r = identifier.identify_array(engine, a.image, a.name, nearest=True)
        rows.extend(score(r, None, a.origin, expect_face=True))
    for a in assets.no_face_photos():
        r = identifier.identify_array(engine, a.image, a.name, nearest=True)
        rows.extend(score(r, None, a.origin, expect_face=False))

    # Open-set: the same photos of someone taken off the list must now come back unknown.
    gone = listed[0]
    identifier.index.remove(gone.subject)
    delisted: list[DemoRow] = []
    for how, image in assets.renderings(gone):
        r = identifier.identify_array(engine, image, gone.name, nearest=True)
        delisted.extend(score(r, None, how, expect_face=True))
    result = DemoResult(
        "OpenLFR demo: photos shipped with matplotlib and scikit-image",
        report,
        chosen,
        rows,
        [(f"{gone.subject} taken off the watchlist, her renderings searched again", delisted)],
        NOTE,
    )
    return result


def lfw_people(root: Path) -> list[tuple[str, list[Path]]]:
    """(person, sorted photos) for every sub-folder of an LFW-layout folder."""
    if not root.is_dir():
        raise ConfigError(f"face folder not found: {root}")
    try:
        people = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as exc:
        raise ConfigError(f"cannot read {root}: {exc.strerror or exc}") from None
    out = []
    for p in people:
        try:
            photos = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
        except OSError:
            continue
        if photos:
            out.append((p.name, photos))
    if not out:
        raise ConfigError(f"no person sub-folders with photos in {root}")
    return out


def run_lfw_demo(
    engine,
    root: Path,
    people: int = 5,
    probes: int = 2,
    seed: int = 0,
    threshold: float | None = None,
    target_fpir: float = DEFAULT_TARGET_FPIR,
    load: Callable[[Path], np.ndarray] | None = None,
) -> DemoResult:
    """Enrol the first photo of `people` people (with 2+ photos, chosen by `seed`); probe
    with up to `probes` of their other photos and with the first photo of as many others."""
    if people < 1 or probes < 1:
        raise ConfigError("--people and --probes must be at least 1")
    everyone = lfw_people(Path(root))
    rng = random.Random(seed)
    multi = [p for p in everyone if len(p[1]) >= 2]
    if not multi:
        raise ConfigError(f"no one in {root} has two or more photos to probe with")
    chosen = rng.sample(multi, min(people, len(multi)))
    names = {name for name, _ in chosen}
    others = [p for p in everyone if p[0] not in names]
    strangers = rng.sample(others, min(len(chosen), len(others)))

    sources = Sources(
        [SourceImage(name, photos[0], f"{name}/{photos[0].name}") for name, photos in chosen],
        [],
        [name for name, _ in chosen],
        {},
    )
    report = enrol(sources, engine, load=load)
    identifier, chosen_t = _identifier(report, threshold, target_fpir)
    enrolled = set(report.enrolled_subjects)
    paths: list[tuple[Path, str | None, str]] = []
    for name, photos in chosen:
        truth = name if name in enrolled else None  # a rejected enrolment is not listed
        for photo in photos[1 : 1 + probes]:
            paths.append((photo, truth, "another photo" if truth else "not enrolled"))
    for _name, photos in strangers:
        paths.append((photos[0], None, "not on the list"))
    if load is None:
        from openlfr.vision.image import load_image as load
    rows: list[DemoRow] = []
    for photo, truth, how in paths:
        label = f"{photo.parent.name}/{photo.name}"
        try:
            image = load(photo)
        except ImageError:
            outcome = MISSED if truth else CORRECT_UNKNOWN
            rows.append(DemoRow(label, f"{how}; unreadable", truth, None, None, outcome, False))
            continue
        r = identifier.identify_array(engine, image, label, nearest=True)
        rows.extend(score(r, truth, how, expect_face=True))
    return DemoResult(f"OpenLFR demo: faces from {root}", report, chosen_t, rows, [], "")
