"""Calibrate a model from a folder of faces (and optionally fit its normaliser first)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openlfr.errors import CalibrationError
from openlfr.evaluation.cache import EngineSpec, embed_images, primary_face
from openlfr.evaluation.datasets import has_identities, scan_images, scan_people, spread
from openlfr.gallery.calibration import Calibration, calibrate_from_templates
from openlfr.vision.face import Template
from openlfr.vision.normaliser import Normaliser


@dataclass(frozen=True)
class CalibrationRun:
    calibration: Calibration
    normaliser: Normaliser | None  # fitted in this run, or None
    base_calibration: Calibration | None  # the un-normalised model's, when one was fitted
    faces: int
    missed: int


def faces_by_identity(faces_dir: Path) -> dict[str, list[Path]]:
    """`<person>/<image>` folders, or a flat folder where every image is its own person."""
    if has_identities(faces_dir):
        return scan_people(faces_dir)
    return {p.name: [p] for p in scan_images(faces_dir)}


def calibrate_folder(
    faces_dir: Path,
    spec: EngineSpec,
    *,
    max_images: int | None = None,
    workers: int = 1,
    progress: bool = True,
    fit_normaliser: bool = False,
) -> CalibrationRun:
    people = faces_by_identity(faces_dir)
    items = [(name, p) for name, imgs in people.items() for p in imgs]
    if max_images:
        items = spread(items, max_images)
    if len({name for name, _ in items}) < 2:
        raise CalibrationError(f"{faces_dir}: calibration needs photos of at least two people")
    if fit_normaliser:
        spec = EngineSpec(spec.backend, spec.options, normaliser="none")
    results = embed_images(spec, [p for _, p in items], workers=workers, progress=progress)
    groups: dict[str, list[Template]] = {}
    for (name, _), result in zip(items, results, strict=True):
        face = primary_face(result)
        if face is not None and face.template is not None:
            groups.setdefault(name, []).append(face.template)
    if not groups:
        raise CalibrationError(f"no face found in the photos under {faces_dir}")
    model_id = next(iter(groups.values()))[0].model_id
    found = sum(len(ts) for ts in groups.values())
    source = str(faces_dir)
    normaliser = base = None
    if fit_normaliser:
        base = calibrate_from_templates(model_id, groups, source=source)
        vectors = np.stack([t.vector for ts in groups.values() for t in ts])
        normaliser = Normaliser.fit(model_id, vectors, fitted_on=source)
        groups = {
            name: [
                Template(v, normaliser.model_id)
                for v in normaliser.apply(np.stack([t.vector for t in ts]))
            ]
            for name, ts in groups.items()
        }
        model_id = normaliser.model_id
    cal = calibrate_from_templates(model_id, groups, source=source)
    return CalibrationRun(cal, normaliser, base, found, len(items) - found)
