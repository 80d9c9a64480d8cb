"""Demographic differentials: FPIR (and FNIR where identities exist) per group at one
threshold, NPL-study style, with Wilson 95% intervals and the max/min ratio.

Searches are grouped by a label column; each group's non-mated searches run against the
same watchlist. The threshold is either given, or the one that gives an overall FPIR of
`level` (0.01) on this same run: so differences between groups, not the overall rate,
are what the numbers show. Searches without a label are counted, not grouped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openlfr.evaluation.identification import SearchScores, threshold_for_fpir
from openlfr.evaluation.stats import ratio_max_min, wilson_interval

# A handful of searches (e.g. LFW's few "conflict" labels) says nothing about a rate:
# such groups are listed, but a max/min ratio over them would be noise.
MIN_GROUP = 30


@dataclass(frozen=True)
class GroupRate:
    n: int
    errors: int
    rate: float | None
    ci_low: float
    ci_high: float


def rate(errors: int, n: int) -> GroupRate:
    low, high = wilson_interval(errors, n)
    return GroupRate(n, errors, errors / n if n else None, low, high)


@dataclass(frozen=True)
class DemographicsResult:
    threshold: float
    threshold_source: str  # "given" or "fpir=0.01 overall"
    fpir: dict[str, GroupRate]
    fnir: dict[str, GroupRate]  # empty without identities
    ratio: float | None  # highest / lowest group FPIR
    fnir_ratio: float | None
    overall_fpir: float
    unlabelled: int
    min_group: int = 0

    def to_json(self, extra: dict | None = None) -> dict:
        groups = {}
        for name, g in self.fpir.items():
            entry = {
                "fpir": g.rate,
                "ci_low": g.ci_low,
                "ci_high": g.ci_high,
                "n": g.n,
                "false_alarms": g.errors,
            }
            if name in self.fnir:
                f = self.fnir[name]
                entry |= {
                    "fnir": f.rate,
                    "fnir_ci_low": f.ci_low,
                    "fnir_ci_high": f.ci_high,
                    "n_mated": f.n,
                }
            groups[name] = entry
        for name, f in self.fnir.items():  # groups with mated searches only
            if name not in groups:
                groups[name] = {
                    "fpir": None,
                    "ci_low": 0.0,
                    "ci_high": 1.0,
                    "n": 0,
                    "false_alarms": 0,
                    "fnir": f.rate,
                    "fnir_ci_low": f.ci_low,
                    "fnir_ci_high": f.ci_high,
                    "n_mated": f.n,
                }
        out = {
            "groups": groups,
            "ratio": self.ratio,
            "fnir_ratio": self.fnir_ratio,
            "threshold": self.threshold,
            "threshold_source": self.threshold_source,
            "overall_fpir": self.overall_fpir,
            "unlabelled": self.unlabelled,
            "ratio_min_group": self.min_group,
        }
        return out | (extra or {})


def evaluate(
    scores: SearchScores,
    nonmated_groups: list[str | None],
    mated_groups: list[str | None] | None = None,
    threshold: float | None = None,
    level: float = 0.01,
    min_group: int = MIN_GROUP,
) -> DemographicsResult:
    """Per-group rates. `nonmated_groups[i]` labels `scores.nonmated_top[i]` (None: no label).
    Groups with fewer than `min_group` searches are reported but left out of the ratios."""
    nm = np.asarray(scores.nonmated_top, dtype=np.float64)
    if threshold is None:
        t = threshold_for_fpir(nm, level)
        if t is None:
            raise ValueError(f"need at least {int(np.ceil(1 / level))} non-mated searches")
        source = f"fpir={level:g} overall"
    else:
        t, source = float(threshold), "given"
    alarms = nm >= t
    fpir = _by_group(alarms, nonmated_groups)
    fnir: dict[str, GroupRate] = {}
    if mated_groups is not None and len(scores.mated_top):
        misses = ~(scores.mated_hit & (scores.mated_top >= t))
        fnir = _by_group(misses, mated_groups)
    unlabelled = sum(g is None for g in nonmated_groups) + sum(
        g is None for g in (mated_groups or [])
    )
    return DemographicsResult(
        threshold=t,
        threshold_source=source,
        fpir=fpir,
        fnir=fnir,
        ratio=ratio_max_min([g.rate for g in fpir.values() if g.n >= min_group]),
        fnir_ratio=ratio_max_min([g.rate for g in fnir.values() if g.n >= min_group]),
        min_group=min_group,
        overall_fpir=float(alarms.mean()) if len(alarms) else float("nan"),
        unlabelled=unlabelled,
    )


def _by_group(errors: np.ndarray, groups: list[str | None]) -> dict[str, GroupRate]:
    if len(groups) != len(errors):
        raise ValueError("one group label per search expected")
    out = {}
    for name in sorted({g for g in groups if g is not None}):
        mask = np.array([g == name for g in groups], dtype=bool)
        out[name] = rate(int(errors[mask].sum()), int(mask.sum()))
    return out
