"""Score calibration: a model's non-mated score distribution, and threshold <-> expected FPIR.

The model
---------
Scores are on the 0..1 similarity scale of `Template.similarity` (cosine clipped at 0).

1. Per comparison: p(T) = P(a non-mated similarity >= T), the impostor tail, measured from
   non-mated scores (templates of different identities compared pairwise).
   * Where at least MIN_TAIL_COUNT measured scores are >= T, p(T) is the empirical
     fraction: exact from the kept top scores, else from a fine histogram (bins of 0.0005).
   * Beyond that (T above the MIN_TAIL_COUNT-th highest score) there is too little data;
     p(T) is EXTRAPOLATED with an exponential tail (a generalised Pareto tail with shape 0)
     fitted by maximum likelihood to the top 1% of scores (at least 30, at most the kept
     top scores), anchored at that score so that p is continuous. Cosine scores are bounded
     at 1, so their true tail is lighter than exponential: the extrapolation over-states p,
     which errs on the safe side (thresholds chosen from it are higher, real FPIR lower).
     `extrapolated(T)` says when a value rests on it.
2. For a watchlist of N templates, a non-mated probe gives a false positive when any of
   them scores >= T. Taking comparisons as independent:
       FPIR(T, N) = 1 - (1 - p(T))^N      and back:  p = 1 - (1 - FPIR)^(1/N).
   Use N = the number of templates (a subject with several templates counts several times;
   their scores are correlated, so this over-states FPIR slightly: again the safe side).
   The N-scaling is checked against a direct simulation in tests/gallery/test_calibration.py.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from openlfr import paths
from openlfr.errors import CalibrationError, ConfigError
from openlfr.vision.face import Template, check_same_model

FORMAT = "openlfr-calibration/1"
HIST_BINS = 4000  # over raw cosine [-1, 1]: bins of 0.0005
TOP_KEEP = 20_000  # highest scores kept exactly, for tiny tail probabilities
MIN_TAIL_COUNT = 10  # fewer measured scores than this above T: extrapolate
MIN_SCORES = 100  # below this a calibration means nothing
TAIL_FIT_FRACTION = 0.01
TAIL_FIT_MIN = 30
DEFAULT_MAX_PAIRS = 50_000_000


@dataclass(frozen=True)
class FpirEstimate:
    threshold: float
    n: int
    fpir: float
    p_comparison: float
    extrapolated: bool


@dataclass
class Calibration:
    """A model's measured non-mated score distribution; see the module doc for the model."""

    model_id: str
    n_scores: int
    top_scores: np.ndarray  # highest raw cosine scores, descending
    hist_counts: np.ndarray  # HIST_BINS counts over [-1, 1] of all scores
    n_identities: int = 0
    n_templates: int = 0
    source: str = ""
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def __post_init__(self) -> None:
        self.top_scores = np.sort(np.asarray(self.top_scores, dtype=np.float64))[::-1]
        self.hist_counts = np.asarray(self.hist_counts, dtype=np.int64)
        if self.n_scores < MIN_SCORES or len(self.top_scores) <= TAIL_FIT_MIN:
            raise CalibrationError(
                f"calibration of {self.model_id} has {self.n_scores} non-mated scores; "
                f"at least {MIN_SCORES} are needed"
            )
        if len(self.hist_counts) != HIST_BINS or int(self.hist_counts.sum()) != self.n_scores:
            raise CalibrationError("calibration histogram does not match its score count")
        # the tail model (derived, not stored)
        m = int(min(len(self.top_scores) - 1, max(TAIL_FIT_MIN, TAIL_FIT_FRACTION * self.n_scores)))
        u = self.top_scores[m]
        mean_excess = float(np.mean(self.top_scores[:m] - u))
        self.tail_rate = 1.0 / max(mean_excess, 1e-6)
        self.tail_fit_n = m
        self.anchor_score = float(self.top_scores[MIN_TAIL_COUNT - 1])
        self.anchor_p = MIN_TAIL_COUNT / self.n_scores

    # ---- per comparison ----------------------------------------------------------------
    def _count_at_least(self, t: float) -> float:
        """How many measured raw scores are >= t (fractional inside a histogram bin)."""
        top = self.top_scores
        if t >= top[-1]:
            return float(np.searchsorted(-top, -t, side="right"))
        width = 2.0 / HIST_BINS
        pos = (t + 1.0) / width
        b = int(min(max(math.floor(pos), 0), HIST_BINS - 1))
        above = float(self.hist_counts[b + 1 :].sum())
        return above + float(self.hist_counts[b]) * (b + 1 - pos)

    def p_comparison(self, threshold: float) -> float:
        """p(T): chance that one non-mated comparison has similarity >= T."""
        t = float(threshold)
        if t <= 0.0:
            return 1.0  # every clipped similarity is >= 0
        if t > 1.0:
            return 0.0
        if t <= self.anchor_score:
            return min(1.0, self._count_at_least(t) / self.n_scores)
        return self.anchor_p * math.exp(-self.tail_rate * (t - self.anchor_score))

    def threshold_for_p(self, p: float) -> float:
        """The lowest threshold whose p(T) is at most p."""
        if not 0.0 < p <= 1.0:
            raise CalibrationError(f"a probability must be in (0, 1], got {p}")
        if p >= 1.0:
            return 0.0
        allowed = p * self.n_scores
        if allowed >= MIN_TAIL_COUNT:
            top = self.top_scores
            if allowed < len(top):
                k = int(math.floor(allowed))  # at most k scores may be >= T
                t = 0.5 * (top[k] + top[k - 1])  # exactly k scores are >= T
            else:
                t = self._hist_inverse(allowed)
            return float(min(max(t, 0.0), 1.0))
        t = self.anchor_score + math.log(self.anchor_p / p) / self.tail_rate
        if t > 1.0:
            raise CalibrationError(
                f"no threshold <= 1 reaches a per-comparison rate of {p:.3g} for model "
                f"{self.model_id} (extrapolated tail)"
            )
        return float(t)

    def _hist_inverse(self, allowed: float) -> float:
        width = 2.0 / HIST_BINS
        above = np.cumsum(self.hist_counts[::-1])[::-1]  # scores in bin b or higher
        b = int(np.searchsorted(-above, -allowed, side="right")) - 1
        b = max(b, 0)
        higher = float(above[b + 1]) if b + 1 < HIST_BINS else 0.0
        inside = float(self.hist_counts[b])
        frac = 0.0 if inside == 0 else (allowed - higher) / inside
        return -1.0 + width * (b + 1 - min(max(frac, 0.0), 1.0))

    def extrapolated(self, threshold: float) -> bool:
        """True when p(T) rests on the fitted tail, not on measured scores."""
        return self.anchor_score < float(threshold) <= 1.0

    # ---- for a watchlist of n templates -------------------------------------------------
    def expected_fpir(self, threshold: float, n: int) -> float:
        """Expected FPIR of a non-mated search against n templates at this threshold."""
        n = _check_n(n)
        p = self.p_comparison(threshold)
        if p >= 1.0:
            return 1.0
        return float(-math.expm1(n * math.log1p(-p)))

    def threshold_for_fpir(self, fpir: float, n: int) -> float:
        """The lowest threshold whose expected FPIR against n templates is at most fpir."""
        n = _check_n(n)
        if not 0.0 < fpir < 1.0:
            raise CalibrationError(f"FPIR must be in (0, 1), got {fpir}")
        return self.threshold_for_p(float(-math.expm1(math.log1p(-fpir) / n)))

    def estimate(self, threshold: float, n: int) -> FpirEstimate:
        return FpirEstimate(
            float(threshold),
            int(n),
            self.expected_fpir(threshold, n),
            self.p_comparison(threshold),
            self.extrapolated(threshold),
        )

    # ---- storage -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        nz = np.nonzero(self.hist_counts)[0]
        lo, hi = (int(nz[0]), int(nz[-1]) + 1) if len(nz) else (0, 0)
        return {
            "format": FORMAT,
            "model_id": self.model_id,
            "scale": "similarity = max(0, cosine) of L2-normalised templates",
            "created": self.created,
            "source": self.source,
            "n_scores": int(self.n_scores),
            "n_identities": int(self.n_identities),
            "n_templates": int(self.n_templates),
            "histogram": {
                "range": [-1.0, 1.0],
                "bins": HIST_BINS,
                "first_bin": lo,
                "counts": self.hist_counts[lo:hi].tolist(),
            },
            "top_scores": [round(float(s), 7) for s in self.top_scores],
            "tail": {
                "model": "exponential",
                "rate": self.tail_rate,
                "fit_n": self.tail_fit_n,
                "anchor_score": self.anchor_score,
                "anchor_p": self.anchor_p,
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Calibration:
        try:
            if d.get("format") != FORMAT:
                raise CalibrationError(f"unknown calibration format {d.get('format')!r}")
            h = d["histogram"]
            counts = np.zeros(HIST_BINS, dtype=np.int64)
            lo = int(h["first_bin"])
            counts[lo : lo + len(h["counts"])] = h["counts"]
            return cls(
                model_id=str(d["model_id"]),
                n_scores=int(d["n_scores"]),
                top_scores=np.asarray(d["top_scores"], dtype=np.float64),
                hist_counts=counts,
                n_identities=int(d.get("n_identities", 0)),
                n_templates=int(d.get("n_templates", 0)),
                source=str(d.get("source", "")),
                created=str(d.get("created", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"malformed calibration: {exc}") from exc

    def save(self, path: str | Path | None = None) -> Path:
        """Write JSON to `path`, by default data_dir()/calibration/<model_id>.json."""
        return paths.write_json(path or default_path(self.model_id), self.to_dict())


def default_path(model_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", model_id)
    return paths.data_dir() / "calibration" / f"{safe}.json"


# Calibrations shipped with OpenLFR for its embedded models: non-mated score statistics
# (a histogram and the top scores, no templates), made by `openlfr calibrate` as the
# README says. A calibration in the data directory takes precedence.
SHIPPED_DIR = Path(__file__).parent / "calibrations"


def shipped_path(model_id: str) -> Path:
    return SHIPPED_DIR / default_path(model_id).name


def load_calibration(model_id: str | None = None, path: str | Path | None = None) -> Calibration:
    """The stored calibration of a model (data directory, else the one OpenLFR ships), or
    the one in an explicit file."""
    if path is None:
        if not model_id:
            raise CalibrationError("name a model or a calibration file")
        path = default_path(model_id)
        if not path.is_file() and shipped_path(model_id).is_file():
            path = shipped_path(model_id)
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(
            f"no calibration for model {model_id!r} at {path}; run `openlfr calibrate --faces DIR`"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"cannot read calibration {path}: {exc}") from exc
    cal = Calibration.from_dict(data)
    if model_id and cal.model_id != model_id:
        raise CalibrationError(f"{path} calibrates model {cal.model_id!r}, not {model_id!r}")
    return cal


def _check_n(n: int) -> int:
    if int(n) < 1:
        raise CalibrationError(f"watchlist size must be >= 1, got {n}")
    return int(n)


class ScoreSummary:
    """Streaming summary of non-mated scores: a fine histogram plus the exact top scores."""

    def __init__(self) -> None:
        self.counts = np.zeros(HIST_BINS, dtype=np.int64)
        self.top = np.zeros(0, dtype=np.float32)
        self.n = 0

    def add(self, scores: np.ndarray) -> None:
        s = np.asarray(scores, dtype=np.float32).ravel()
        if not len(s):
            return
        bins = np.clip(((s + 1.0) * (HIST_BINS / 2.0)).astype(np.int64), 0, HIST_BINS - 1)
        self.counts += np.bincount(bins, minlength=HIST_BINS)
        self.n += len(s)
        both = np.concatenate([self.top, s])
        if len(both) > TOP_KEEP:
            both = np.partition(both, len(both) - TOP_KEEP)[-TOP_KEEP:]
        self.top = both

    def calibration(self, model_id: str, **info) -> Calibration:
        return Calibration(model_id, self.n, self.top, self.counts, **info)


def _stack(model_id: str, templates_by_identity: Mapping[str, Sequence | np.ndarray]):
    vectors, labels = [], []
    for label, (identity, items) in enumerate(templates_by_identity.items()):
        if isinstance(items, np.ndarray):
            v = np.atleast_2d(items).astype(np.float32)
        else:
            rows = []
            for t in items:
                if isinstance(t, Template):
                    check_same_model(model_id, t.model_id)
                    rows.append(t.vector)
                else:
                    rows.append(np.asarray(t))
            if not rows:
                continue
            v = np.stack(rows).astype(np.float32)
        if v.ndim != 2 or (vectors and v.shape[1] != vectors[0].shape[1]):
            raise ConfigError(f"templates of {identity!r} have the wrong shape {v.shape}")
        vectors.append(v)
        labels.append(np.full(len(v), label))
    if len(vectors) < 2:
        raise CalibrationError("calibration needs templates of at least two identities")
    v = np.concatenate(vectors)
    if not np.all(np.isfinite(v)):
        raise ConfigError("templates contain NaN or infinite values")
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return v, np.concatenate(labels)


def nonmated_pairs(labels: np.ndarray) -> int:
    _, sizes = np.unique(labels, return_counts=True)
    m = int(sizes.sum())
    return (m * m - int((sizes.astype(np.int64) ** 2).sum())) // 2


def calibrate_from_templates(
    model_id: str,
    templates_by_identity: Mapping[str, Sequence | np.ndarray],
    *,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    seed: int = 0,
    source: str = "",
) -> Calibration:
    """Calibrate from templates grouped by identity: every pair of templates of different
    identities is one non-mated score. Above `max_pairs` pairs, a uniform random subset of
    templates is used (all their cross-identity pairs), which keeps the distribution."""
    v, labels = _stack(model_id, templates_by_identity)
    n_identities = len(np.unique(labels))
    total = nonmated_pairs(labels)
    if total > max_pairs:
        keep = max(2, int(len(v) * math.sqrt(max_pairs / total)))
        rows = np.sort(np.random.default_rng(seed).choice(len(v), keep, replace=False))
        v, labels = v[rows], labels[rows]
    summary = ScoreSummary()
    block = 1024
    for a in range(0, len(v), block):
        b = min(a + block, len(v))
        s = v[a:b] @ v[a:].T  # each pair once: row i against columns j > i
        cols = np.arange(a, len(v))
        keep = (cols[None, :] > np.arange(a, b)[:, None]) & (labels[a:b, None] != labels[None, a:])
        summary.add(s[keep])
    return summary.calibration(
        model_id, n_identities=n_identities, n_templates=len(v), source=source
    )


def summary_lines(
    cal: Calibration,
    thresholds: Sequence[float] | None = None,
    sizes: Sequence[int] = (100, 1000, 10000),
    fpirs: Sequence[float] = (1e-2, 1e-3, 1e-4),
    n_for_fpir: int = 1000,
) -> list[str]:
    """A small text report: threshold -> expected FPIR per watchlist size, and back.
    Values resting on the extrapolated tail are marked with '*'."""
    if thresholds is None:
        thresholds = default_thresholds(cal, max(sizes))
    lines = [
        f"model: {cal.model_id}",
        f"non-mated scores: {cal.n_scores:,} ({cal.n_templates} templates, "
        f"{cal.n_identities} identities)",
        "",
        "threshold " + "".join(f"{'FPIR N=' + str(n):>14}" for n in sizes),
    ]
    for t in thresholds:
        mark = "*" if cal.extrapolated(t) else " "
        cells = "".join(f"{cal.expected_fpir(t, n):>13.3g}{mark}" for n in sizes)
        lines.append(f"{t:>9.3f} {cells}")
    lines += ["", f"threshold for FPIR at N={n_for_fpir}:"]
    for f in fpirs:
        try:
            t = cal.threshold_for_fpir(f, n_for_fpir)
            mark = " (extrapolated)" if cal.extrapolated(t) else ""
            lines.append(f"  FPIR {f:g}: {t:.4f}{mark}")
        except CalibrationError as exc:
            lines.append(f"  FPIR {f:g}: unreachable ({exc})")
    lines.append("* = beyond the measured scores: exponential-tail extrapolation (conservative)")
    return lines


def default_thresholds(cal: Calibration, n_max: int = 10000, count: int = 6) -> list[float]:
    """Thresholds worth tabulating for this model: from where 1% of single comparisons pass
    up to FPIR 1e-4 at the largest watchlist (models differ: dlib's impostors sit near
    0.8, ArcFace's near 0.1)."""
    lo = cal.threshold_for_p(0.01)
    try:
        hi = cal.threshold_for_fpir(1e-4, n_max)
    except CalibrationError:
        hi = 1.0
    return [round(float(t), 3) for t in np.linspace(lo, max(hi, lo + 0.01), count)]
