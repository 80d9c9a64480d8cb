"""Fit a fusion's weights on a training split: open-set 1:N, the job the weights are for.

The training split is a folder of `<person>/<image>` (optionally only the people named in
a list, such as LFW's peopleDevTrain.txt), laid out as in `openlfr evaluate
identification`: first image of each person with two or more enrolled, their other
images searched as mates, people with one image searched as strangers. Each weight vector
on a grid over the simplex is scored by its mean TPIR over 12 FPIR levels spaced evenly
on a log scale from 0.001 to 0.03, the region a watchlist deployment lives in. Why not
just TPIR at 0.01 and 0.001: with the ~2,900 strangers of LFW DevTrain, FPIR 0.001 is
decided by the top three stranger scores, and that noise chose a worse weight (0.65 for
dlib) than the averaged criterion (0.80), which was better on the rest of LFW at every
level. Each component is embedded once (its own embedding cache); trying a weight vector
is then a matrix product.

A component can be projected to k dimensions first (`project`): onto the top k principal
axes of its templates of the training split (axes of the centred templates, applied to the
uncentred unit templates, then re-normalised). Why uncentred: centring removes the
component's mean direction, which the fused cosine's scale relies on; measured on LFW, the
centred projection lost TPIR where the uncentred one kept it (faceres 1,024 -> 128).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openlfr.errors import ConfigError
from openlfr.evaluation import identification
from openlfr.evaluation.cache import EngineSpec
from openlfr.evaluation.datasets import Split, identification_split, scan_people, select_people
from openlfr.evaluation.runs import Embedded, embed
from openlfr.vision.fused import Component, Fusion, project, projected_model_id

CRITERION_LEVELS = tuple(float(x) for x in np.geomspace(0.001, 0.03, 12))
REPORTED_LEVELS = (0.1, 0.01, 0.001)


@dataclass(frozen=True)
class FusionFit:
    fusion: Fusion
    score: float  # the criterion at the chosen weights
    trials: list[dict]  # every weight vector tried, with its TPIR at each level
    people: int  # enrolled people in the training split
    searches: dict  # {"mated": n, "nonmated": n}


def weight_grid(k: int, step: float) -> list[tuple[float, ...]]:
    """Every weight vector on the simplex with coordinates in multiples of `step`."""
    n = round(1 / step)
    out = []
    for combo in itertools.product(range(n + 1), repeat=k - 1):
        rest = n - sum(combo)
        if rest >= 0:
            out.append(tuple(c / n for c in (*combo, rest)))
    return out


def _tpir_at(scores: identification.SearchScores, level: float) -> float:
    t = identification.threshold_for_fpir(scores.nonmated_top, level)
    if t is None:
        raise ConfigError(
            f"the training split has {len(scores.nonmated_top)} non-mated searches: "
            f"FPIR {level:g} needs at least {round(1 / level)}"
        )
    return identification.tpir(scores, t)


def _criterion(scores: identification.SearchScores, at: Sequence[float]) -> tuple[float, dict]:
    """The mean TPIR over the levels `at`, and TPIR at the levels reports quote."""
    value = float(np.mean([_tpir_at(scores, level) for level in at]))
    quoted = {
        f"{level:g}": _tpir_at(scores, level)
        for level in REPORTED_LEVELS
        if len(scores.nonmated_top) * level >= 1
    }
    return value, quoted


def _fused_search(
    embedded: Sequence[Embedded], split: Split, weights
) -> identification.SearchScores:
    def matrix(probes):
        parts, present = [], None
        for emb, w in zip(embedded, weights, strict=True):
            m, p = emb.matrix([x.path for x in probes])
            parts.append(np.sqrt(max(float(w), 0.0)) * m)
            present = p if present is None else present & p
        return np.concatenate(parts, axis=1).astype(np.float32), present

    g, gp = matrix(split.gallery)
    m, mp = matrix(split.mated)
    n, np_ = matrix(split.nonmated)
    return identification.search(
        g, gp, [p.person for p in split.gallery], m, mp, [p.person for p in split.mated], n, np_
    )


def fit_projection(vectors: np.ndarray, k: int) -> np.ndarray:
    """(k, dim) float32: the top k principal axes of these templates (rows)."""
    vectors = np.asarray(vectors, np.float64)
    if not 1 <= k < vectors.shape[1]:
        raise ConfigError(f"cannot project {vectors.shape[1]}-d templates to {k} dimensions")
    if len(vectors) < k:
        raise ConfigError(f"projecting to {k} dimensions needs at least {k} training faces")
    _, _, axes = np.linalg.svd(vectors - vectors.mean(0), full_matrices=False)
    return np.ascontiguousarray(axes[:k], dtype=np.float32)


def _projected(emb: Embedded, matrix: np.ndarray) -> Embedded:
    templates = {p: None if v is None else project(v, matrix)[0] for p, v in emb.templates.items()}
    return Embedded(projected_model_id(emb.model, matrix), templates, emb.results)


def fit_fusion(
    components: Sequence[Component],
    faces: Path,
    *,
    people: set[str] | None = None,
    project: Mapping[int, int] | None = None,
    step: float = 0.05,
    levels: Sequence[float] = CRITERION_LEVELS,
    fitted_on: str = "",
    workers: int = 1,
    progress: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> FusionFit:
    """The weights (multiples of `step`) that maximise the mean TPIR at the FPIR `levels`
    on the folder's open-set split; of equal scores the first weight vector tried wins.
    `project` {component index: k} fits a k-dimensional projection of that component on
    the same split first."""
    if len(components) < 2:
        raise ConfigError("fusing needs at least two models")
    found = select_people(scan_people(faces), people, faces)
    split = identification_split(found)
    paths = [p.path for p in (*split.gallery, *split.mated, *split.nonmated)]
    embedded = []
    for c in components:
        log(f"embedding {len(set(paths))} images with {c.backend} {dict(c.options) or ''}")
        spec = EngineSpec(c.backend, dict(c.options), normaliser="none")
        embedded.append(embed(spec, paths, workers=workers, progress=progress))
    projections: list[np.ndarray | None] = [None] * len(components)
    for index, k in (project or {}).items():
        if not 0 <= index < len(components):
            raise ConfigError(f"no component {index} to project")
        found_vectors = [v for v in embedded[index].templates.values() if v is not None]
        projections[index] = fit_projection(np.stack(found_vectors), k)
        log(f"projected {components[index].backend} to {k} dimensions")
        embedded[index] = _projected(embedded[index], projections[index])
    trials, best = [], None
    for weights in weight_grid(len(components), step):
        score, tpirs = _criterion(_fused_search(embedded, split, weights), levels)
        trials.append({"weights": list(weights), "criterion": score, "tpir": tpirs})
        if best is None or score > best[0] + 1e-12:
            best = (score, weights)
    score, weights = best
    fusion = Fusion(
        tuple(
            Component(c.backend, float(w), dict(c.options), p)
            for c, w, p in zip(components, weights, projections, strict=True)
        ),
        fitted_on=f"{fitted_on or faces} ({len(found)} people)",
        notes={
            "criterion": f"mean TPIR over {len(levels)} FPIR levels from {min(levels):g} to "
            f"{max(levels):g} (log-spaced), open-set split of the fit folder",
            "criterion_value": score,
            "models": [e.model for e in embedded],
        },
    )
    searches = {"mated": len(split.mated), "nonmated": len(split.nonmated)}
    return FusionFit(fusion, score, trials, len(split.gallery), searches)
