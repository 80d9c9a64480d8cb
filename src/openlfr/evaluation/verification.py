"""1:1 verification on the LFW 10-fold protocol.

Per fold, the threshold that maximises accuracy on the other nine folds is applied to
the held-out fold (the "unrestricted, labelled outside data" reporting of LFW).

Missed detections: a pair where either image has no face (and no centre-box fallback,
see `cache.embed_fallback`) has no score; it counts as an error in its test fold whatever
the threshold, since a system that cannot find the face can neither accept nor reject
it correctly. It is left out of threshold training. Both counts are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from openlfr.evaluation.datasets import Pair


@dataclass(frozen=True)
class VerificationResult:
    accuracy: float  # mean held-out accuracy over the folds
    std: float  # standard deviation of the fold accuracies (ddof=1, as LFW's README)
    std_error: float  # std / sqrt(folds)
    fold_accuracies: list[float]
    fold_thresholds: list[float]
    threshold: float  # mean of the fold thresholds
    pairs: int
    failed_pairs: int  # pairs without a score (a face not found)
    fmr: np.ndarray  # ROC/DET over all scored pairs, for plots
    fnmr: np.ndarray

    def to_json(self, model: str, extra: dict | None = None) -> dict:
        out = {
            "accuracy": self.accuracy,
            "std": self.std,
            "std_error": self.std_error,
            "pairs": self.pairs,
            "model": model,
            "threshold": self.threshold,
            "failed_pairs": self.failed_pairs,
            "folds": [
                {"accuracy": a, "threshold": t}
                for a, t in zip(self.fold_accuracies, self.fold_thresholds, strict=True)
            ],
        }
        return out | (extra or {})


def best_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    """The threshold (accept when score >= t) with the highest accuracy; the midpoint
    between neighbouring scores so it generalises rather than sitting on a sample."""
    if len(scores) == 0:
        return 0.5
    order = np.argsort(scores, kind="stable")
    s, y = scores[order], same[order].astype(bool)
    # Candidate i accepts s[i:] (i in 0..n): correct = mated in s[i:] + non-mated in s[:i].
    mated_above = np.concatenate([np.cumsum(y[::-1])[::-1], [0]])
    nonmated_below = np.concatenate([[0], np.cumsum(~y)])
    correct = mated_above + nonmated_below
    # Only cut between distinct scores (a cut inside a run of ties is not a threshold).
    valid = np.ones(len(s) + 1, dtype=bool)
    valid[1:-1] = s[1:] > s[:-1]
    i = int(np.argmax(np.where(valid, correct, -1)))
    if i == 0:
        return float(s[0]) - 1e-6
    if i == len(s):
        return float(s[-1]) + 1e-6
    return float((s[i - 1] + s[i]) / 2)


def evaluate_scores(scores: np.ndarray, same: np.ndarray, folds: np.ndarray) -> VerificationResult:
    """`scores`: similarity per pair, NaN where it could not be scored."""
    scores = np.asarray(scores, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    folds = np.asarray(folds)
    scored = ~np.isnan(scores)
    accs, thresholds = [], []
    fold_ids = sorted(set(folds.tolist()))
    for k in fold_ids:
        test = folds == k
        train = ~test & scored if len(fold_ids) > 1 else test & scored
        t = best_threshold(scores[train], same[train])
        s, y = scores[test], same[test]
        correct = np.where(np.isnan(s), False, (s >= t) == y)
        accs.append(float(correct.mean()) if len(s) else 0.0)
        thresholds.append(t)
    acc = np.array(accs)
    std = float(acc.std(ddof=1)) if len(acc) > 1 else 0.0
    fmr, fnmr = error_tradeoff(scores[scored & ~same], scores[scored & same])
    return VerificationResult(
        accuracy=float(acc.mean()),
        std=std,
        std_error=std / np.sqrt(len(acc)),
        fold_accuracies=accs,
        fold_thresholds=thresholds,
        threshold=float(np.mean(thresholds)),
        pairs=int(len(scores)),
        failed_pairs=int((~scored).sum()),
        fmr=fmr,
        fnmr=fnmr,
    )


def error_tradeoff(impostor: np.ndarray, genuine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False-match and false-non-match rates at every distinct score used as threshold."""
    impostor, genuine = np.sort(impostor), np.sort(genuine)
    thresholds = np.unique(np.concatenate([impostor, genuine]))
    if len(thresholds) == 0 or len(impostor) == 0 or len(genuine) == 0:
        return np.array([]), np.array([])
    fmr = 1 - np.searchsorted(impostor, thresholds, side="left") / len(impostor)
    fnmr = np.searchsorted(genuine, thresholds, side="left") / len(genuine)
    return fmr, fnmr


def pair_scores(pairs: Sequence[Pair], templates: dict) -> np.ndarray:
    """Cosine similarity clipped to [0, 1] (as `Template.similarity`) per pair; NaN when
    either image has no template. `templates` maps path -> vector or None."""
    out = np.full(len(pairs), np.nan)
    for i, p in enumerate(pairs):
        a, b = templates.get(p.a), templates.get(p.b)
        if a is not None and b is not None:
            out[i] = max(0.0, float(np.dot(a, b)))
    return out
