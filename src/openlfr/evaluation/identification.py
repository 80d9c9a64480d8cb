"""Open-set 1:N identification, NIST FRTE style.

Every search returns the top candidate of the gallery and its score. At a threshold T:
- FPIR(T): share of non-mated searches whose top score is >= T (a false alarm);
- TPIR(T): share of mated searches whose top candidate is the mate and scores >= T;
- FNIR(T) = 1 - TPIR(T).
The threshold for an FPIR level f is the smallest T with FPIR(T) <= f. A level needs at
least 1/f non-mated searches; with fewer it is not measurable and reported as None.

A search whose face was not found has an empty candidate list: a miss when mated, a
correct non-alarm when non-mated (NIST's treatment of failures to template). They stay
in every denominator and are counted, never dropped. An enrolled image without a face
leaves that person unenrolled, so their mated searches miss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FPIR_LEVELS = (0.1, 0.01, 0.001, 0.0001)


@dataclass(frozen=True)
class SearchScores:
    """Top candidate per search: score (-inf: no candidate) and whether it is the mate."""

    mated_top: np.ndarray  # (n_mated,) float
    mated_hit: np.ndarray  # (n_mated,) bool: top candidate is the mate
    nonmated_top: np.ndarray  # (n_nonmated,) float


def top_candidates(
    probes: np.ndarray,
    probe_present: np.ndarray,
    gallery: np.ndarray,
    gallery_present: np.ndarray,
    batch: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """Index and score (cosine clipped to [0, 1]) of the best enrolled template for each
    probe; (-1, -inf) where the probe has no template or nothing is enrolled."""
    n = len(probes)
    best = np.full(n, -1, dtype=np.int64)
    score = np.full(n, -np.inf)
    enrolled = np.flatnonzero(gallery_present)
    if len(enrolled) == 0:
        return best, score
    g = gallery[enrolled].astype(np.float32)
    rows = np.flatnonzero(probe_present)
    for start in range(0, len(rows), batch):
        idx = rows[start : start + batch]
        sims = probes[idx].astype(np.float32) @ g.T
        j = np.argmax(sims, axis=1)
        best[idx] = enrolled[j]
        score[idx] = np.clip(sims[np.arange(len(idx)), j], 0.0, 1.0)
    return best, score


def search(
    gallery: np.ndarray,
    gallery_present: np.ndarray,
    gallery_ids: list[str],
    mated: np.ndarray,
    mated_present: np.ndarray,
    mated_ids: list[str],
    nonmated: np.ndarray,
    nonmated_present: np.ndarray,
) -> SearchScores:
    mi, ms = top_candidates(mated, mated_present, gallery, gallery_present)
    ids = np.array(gallery_ids, dtype=object)
    hit = np.array(
        [j >= 0 and ids[j] == pid for j, pid in zip(mi, mated_ids, strict=True)], dtype=bool
    )
    _, ns = top_candidates(nonmated, nonmated_present, gallery, gallery_present)
    return SearchScores(ms, hit, ns)


def fpir(nonmated_top: np.ndarray, threshold: float) -> float:
    return float(np.mean(nonmated_top >= threshold)) if len(nonmated_top) else float("nan")


def tpir(scores: SearchScores, threshold: float) -> float:
    if len(scores.mated_top) == 0:
        return float("nan")
    return float(np.mean(scores.mated_hit & (scores.mated_top >= threshold)))


def threshold_for_fpir(nonmated_top: np.ndarray, level: float) -> float | None:
    """Smallest threshold T (scores live in [0, 1]) with FPIR(T) <= level; None when there
    are fewer than 1/level non-mated searches to measure it."""
    n = len(nonmated_top)
    if n == 0 or n * level < 1 - 1e-9:
        return None
    allowed = int(np.floor(n * level + 1e-9))  # false alarms permitted
    desc = np.sort(nonmated_top)[::-1]
    cut = desc[allowed]  # the (allowed+1)-th highest must fall below T
    if not np.isfinite(cut):
        return 0.0  # at most `allowed` searches have any candidate: every T qualifies
    return max(float(np.nextafter(cut, np.inf)), 0.0)


@dataclass(frozen=True)
class IdentificationResult:
    n_gallery: int  # people enrolled (their enrolment image had a face)
    n_mated: int
    n_nonmated: int
    missed_detections: dict  # {"gallery": k, "mated": k, "nonmated": k}
    rank1: float  # share of mated searches whose top candidate is the mate (any score)
    levels: dict  # "0.01" -> {"threshold", "tpir", "fnir", "fpir"} or None
    det_fpir: np.ndarray
    det_fnir: np.ndarray
    det_threshold: np.ndarray | None = None  # the threshold of each DET point

    def to_json(self, model: str, extra: dict | None = None) -> dict:
        def pick(key):
            return {k: (None if v is None else v[key]) for k, v in self.levels.items()}

        out = {
            "n_gallery": self.n_gallery,
            "n_mated": self.n_mated,
            "n_nonmated": self.n_nonmated,
            "missed_detections": sum(self.missed_detections.values()),
            "missed_by_set": self.missed_detections,
            "tpir": pick("tpir"),
            "fnir": pick("fnir"),
            "threshold": pick("threshold"),
            "fpir_measured": pick("fpir"),
            "rank1": self.rank1,
            "model": model,
        }
        if self.det_threshold is not None and len(self.det_threshold):
            # Thinned points, so reports can draw the curve and read FNIR at any threshold.
            out["det"] = det_points(self.det_threshold, self.det_fpir, self.det_fnir)
        return out | (extra or {})


def det_points(
    thresholds: np.ndarray, fpir_: np.ndarray, fnir_: np.ndarray, max_points: int = 400
) -> dict[str, list[float]]:
    """At most `max_points` DET points (evenly spaced over the sorted thresholds, ends kept)
    as {"threshold": [...], "fpir": [...], "fnir": [...]}."""
    n = len(thresholds)
    idx = np.unique(np.linspace(0, n - 1, min(n, max_points)).round().astype(int))
    return {
        "threshold": [float(x) for x in np.asarray(thresholds)[idx]],
        "fpir": [float(x) for x in np.asarray(fpir_)[idx]],
        "fnir": [float(x) for x in np.asarray(fnir_)[idx]],
    }


def level_key(level: float) -> str:
    return f"{level:g}" if level >= 1e-4 else str(level)


def evaluate(
    scores: SearchScores,
    n_gallery: int,
    missed: dict,
    levels: tuple[float, ...] = FPIR_LEVELS,
) -> IdentificationResult:
    table: dict = {}
    for level in levels:
        t = threshold_for_fpir(scores.nonmated_top, level)
        if t is None:
            table[level_key(level)] = None
            continue
        tp = tpir(scores, t)
        table[level_key(level)] = {
            "threshold": t,
            "tpir": tp,
            "fnir": 1 - tp,
            "fpir": fpir(scores.nonmated_top, t),
        }
    det_fpir, det_fnir = det_curve(scores)
    det_t = det_thresholds(scores) if len(det_fpir) else np.array([])
    rank1 = float(np.mean(scores.mated_hit)) if len(scores.mated_hit) else float("nan")
    return IdentificationResult(
        n_gallery=n_gallery,
        n_mated=len(scores.mated_top),
        n_nonmated=len(scores.nonmated_top),
        missed_detections=missed,
        rank1=rank1,
        levels=table,
        det_fpir=det_fpir,
        det_fnir=det_fnir,
        det_threshold=det_t,
    )


def det_thresholds(scores: SearchScores) -> np.ndarray:
    """The thresholds of `det_curve`'s points, in the same order."""
    finite = np.concatenate([scores.nonmated_top, scores.mated_top])
    return np.unique(finite[np.isfinite(finite)])


def det_curve(scores: SearchScores) -> tuple[np.ndarray, np.ndarray]:
    """FPIR and FNIR at every distinct finite top score used as threshold."""
    nm = np.sort(scores.nonmated_top)
    finite = np.concatenate([scores.nonmated_top, scores.mated_top])
    thresholds = np.unique(finite[np.isfinite(finite)])
    if len(thresholds) == 0 or len(nm) == 0 or len(scores.mated_top) == 0:
        return np.array([]), np.array([])
    fp = 1 - np.searchsorted(nm, thresholds, side="left") / len(nm)
    hits = np.sort(scores.mated_top[scores.mated_hit])
    tp = (len(hits) - np.searchsorted(hits, thresholds, side="left")) / len(scores.mated_top)
    return fp, 1 - tp
