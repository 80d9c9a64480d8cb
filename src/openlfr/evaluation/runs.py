"""Whole evaluations from folders to results: read the set, embed (cached), score.

The CLI calls these; each returns the result object and the JSON dict other tools read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openlfr.errors import ConfigError
from openlfr.evaluation import demographics, identification, verification
from openlfr.evaluation.cache import EngineSpec, ImageResult, embed_images, primary_face
from openlfr.evaluation.datasets import (
    Probe,
    Split,
    has_identities,
    heldout_split,
    identification_split,
    limit_pairs,
    read_labels,
    read_pairs,
    scan_images,
    scan_people,
    select_people,
    spread,
)


@dataclass(frozen=True)
class Embedded:
    """Templates per path (None: no face found) and the engine's model id."""

    model: str
    templates: dict[Path, np.ndarray | None]
    results: dict[Path, ImageResult]

    def missed(self, paths: Sequence[Path]) -> int:
        return sum(self.templates.get(Path(p)) is None for p in paths)

    def unreadable(self, paths: Sequence[Path]) -> int:
        return sum(self.results[Path(p)].error is not None for p in paths)

    def matrix(self, paths: Sequence[Path]) -> tuple[np.ndarray, np.ndarray]:
        vecs = [self.templates.get(Path(p)) for p in paths]
        dim = next((len(v) for v in vecs if v is not None), 0)
        out = np.zeros((len(vecs), dim), dtype=np.float32)
        present = np.array([v is not None for v in vecs], dtype=bool)
        for i, v in enumerate(vecs):
            if v is not None:
                out[i] = v
        return out, present


def embed(
    spec: EngineSpec,
    paths: Sequence[Path],
    *,
    workers: int = 1,
    progress: bool = True,
    use_fallback: bool = False,
) -> Embedded:
    """Embed unique paths; each image's template is its primary (most central) face's,
    or with `use_fallback`, where the detector found none, the detector's centre-box face
    (`cache.embed_fallback`) or else the mean face of the set (`fallback.py`)."""
    unique = list(dict.fromkeys(Path(p) for p in paths))
    engine = spec.build()
    results = embed_images(engine, unique, workers=workers, progress=progress, spec=spec)
    mean = {}
    if use_fallback:
        from openlfr.evaluation.fallback import embed_mean_faces

        mean = embed_mean_faces(engine, results)
    templates: dict[Path, np.ndarray | None] = {}
    for r in results:
        face = primary_face(r)
        if face is None and use_fallback:
            face = r.fallback or mean.get(r.path)
        templates[r.path] = face.template.vector if face is not None else None
    return Embedded(engine.model_id, templates, {r.path: r for r in results})


def run_verification(
    spec: EngineSpec,
    faces: Path,
    pairs_file: Path,
    *,
    workers: int = 1,
    limit: int | None = None,
    progress: bool = True,
) -> tuple[verification.VerificationResult, dict]:
    pairs = read_pairs(pairs_file, faces)
    if limit is not None:
        pairs = limit_pairs(pairs, limit)
    paths = [p for pair in pairs for p in (pair.a, pair.b)]
    missing = [p for p in dict.fromkeys(paths) if not p.is_file()]
    if missing:
        raise ConfigError(
            f"{len(missing)} images named in {pairs_file} are not under {faces} "
            f"(first: {missing[0]})"
        )
    emb = embed(spec, paths, workers=workers, progress=progress, use_fallback=True)
    scores = verification.pair_scores(pairs, emb.templates)
    result = verification.evaluate_scores(
        scores, np.array([p.same for p in pairs]), np.array([p.fold for p in pairs])
    )
    unique = list(dict.fromkeys(paths))
    fallbacks = sum(
        primary_face(emb.results[p]) is None and emb.templates[p] is not None for p in unique
    )
    extra = {
        "images": len(unique),
        "missed_detections": sum(primary_face(emb.results[p]) is None for p in unique),
        "fallback_faces": fallbacks,
        "unreadable": emb.unreadable(unique),
        "folds_used": len({p.fold for p in pairs}),
    }
    return result, result.to_json(emb.model, extra)


def _search(emb: Embedded, split: Split) -> identification.SearchScores:
    g, gp = emb.matrix([p.path for p in split.gallery])
    m, mp = emb.matrix([p.path for p in split.mated])
    n, np_ = emb.matrix([p.path for p in split.nonmated])
    dim = max(g.shape[1], m.shape[1], n.shape[1])
    pad = [_pad(x, dim) for x in (g, m, n)]
    return identification.search(
        pad[0],
        gp,
        [p.person for p in split.gallery],
        pad[1],
        mp,
        [p.person for p in split.mated],
        pad[2],
        np_,
    )


def _pad(x: np.ndarray, dim: int) -> np.ndarray:
    # A set where no image had a face has zero columns; give it the common width.
    return x if x.shape[1] == dim else np.zeros((len(x), dim), dtype=np.float32)


def _missed(emb: Embedded, split: Split) -> dict:
    return {
        "gallery": emb.missed([p.path for p in split.gallery]),
        "mated": emb.missed([p.path for p in split.mated]),
        "nonmated": emb.missed([p.path for p in split.nonmated]),
    }


def _all_paths(split: Split) -> list[Path]:
    return [p.path for p in (*split.gallery, *split.mated, *split.nonmated)]


def run_identification(
    spec: EngineSpec,
    faces: Path,
    *,
    workers: int = 1,
    limit: int | None = None,
    progress: bool = True,
    people: set[str] | None = None,
) -> tuple[identification.IdentificationResult, dict]:
    """`people`: only these names (e.g. a split disjoint from the one a fusion was fit on)."""
    split = identification_split(select_people(scan_people(faces), people, faces), limit)
    emb = embed(spec, _all_paths(split), workers=workers, progress=progress)
    scores = _search(emb, split)
    missed = _missed(emb, split)
    n_gallery = len(split.gallery) - missed["gallery"]
    result = identification.evaluate(scores, n_gallery, missed)
    extra = {"unreadable": emb.unreadable(_all_paths(split)), "people": len(split.gallery)}
    return result, result.to_json(emb.model, extra)


def watchlist_split(watchlist: Path, size: int | None) -> list[Probe]:
    """Enrolment images from a separate folder: the first image of every person (or every
    image of a flat folder), at most `size`, spread evenly over the sorted names."""
    if has_identities(watchlist):
        enrol = [Probe(imgs[0], name) for name, imgs in scan_people(watchlist).items()]
    else:
        enrol = [Probe(p, p.name) for p in scan_images(watchlist)]
    if size is not None:
        enrol = spread(enrol, size)
    if not enrol:
        raise ConfigError(f"no images in the watchlist folder {watchlist}")
    return enrol


def run_demographics(
    spec: EngineSpec,
    faces: Path,
    labels_file: Path,
    group_by: str,
    *,
    threshold: float | None = None,
    watchlist: Path | None = None,
    watchlist_size: int | None = 1000,
    workers: int = 1,
    limit: int | None = None,
    progress: bool = True,
) -> tuple[demographics.DemographicsResult, dict]:
    """FPIR per group. Watchlist: `watchlist` (another folder) when given; else, for a
    `<person>/<image>` folder, the identification gallery (with FNIR per group too);
    else (a flat folder, every image a different person) a held-out half of the images."""
    labels = read_labels(labels_file, group_by)
    if has_identities(faces):
        split = identification_split(scan_people(faces), limit)
        design = "identification gallery"
    else:
        images = scan_images(faces)
        if limit is not None:
            images = spread(images, limit)
        split = heldout_split(images)
        design = "held-out half of the images"
    if watchlist is not None:
        # Every search is non-mated against a folder of other people.
        searches = [Probe(p.path, None) for p in (*split.gallery, *split.mated, *split.nonmated)]
        if has_identities(faces):
            searches = [Probe(p.path, None) for p in split.nonmated]
        split = Split(watchlist_split(watchlist, watchlist_size), [], searches)
        design = f"{watchlist} ({len(split.gallery)} enrolled)"
    emb = embed(spec, _all_paths(split), workers=workers, progress=progress)
    scores = _search(emb, split)
    missed = _missed(emb, split)
    nm_groups = [labels.get(p.path.name) for p in split.nonmated]
    m_groups = [labels.get(p.path.name) for p in split.mated] if split.mated else None
    try:
        result = demographics.evaluate(scores, nm_groups, m_groups, threshold)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if not result.fpir:
        raise ConfigError(f"no search image has a {group_by!r} label in {labels_file}")
    extra = {
        "model": emb.model,
        "group_by": group_by,
        "watchlist": design,
        "n_gallery": len(split.gallery) - missed["gallery"],
        "missed_detections": sum(missed.values()),
        "missed_by_set": missed,
    }
    return result, result.to_json(extra)
