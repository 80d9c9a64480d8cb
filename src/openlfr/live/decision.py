"""From a track's searched shots to alerts: fusion, threshold, one alert per subject per
track, and a cooldown per (camera, subject).

Fusion: each embedded shot of a track is searched on its own against the watchlist; a
subject's fused similarity for the track is either the MAX over the shots ("max", the
default) or the MEAN OF THE TOP k shots ("mean", k = ``fusion_k``; a track with fewer
shots uses those it has). Measured on the hamilton clip against 900 LFW distractors
(the one track with usable faces, 5 shots): the performer's max 0.947, mean of top 2
0.946; the best distractor's max 0.945, mean of top 2 0.934. Mean-of-2 widened the gap
on that track, but one track is thin evidence, and the calibration (and so the
expected FPIR shown) models single comparisons, which is what max fusion thresholds;
so max is the default and ``fusion="mean"`` (``--fusion mean``) is offered. With max
fusion every searched shot of a track is a chance of a false match: a pass searched k
times has an FPIR of at most k times the per-search figure shown (its shots are of one
face and strongly correlated, so far less in practice); the pipeline searches a handful
of shots per pass (``top_shots`` plus one a second, at most ``max_embeds``).

The threshold: ``--threshold`` if given; else the model's calibration gives the threshold
whose expected FPIR per person pass is ``target_fpir`` (default 1e-4) for this watchlist's
size; without a calibration, the documented per-model fallback of
`openlfr.gallery.identify.resolve_threshold`, and the expected FPIR is unknown (None).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from openlfr.errors import ConfigError
from openlfr.gallery.identify import Threshold, resolve_threshold

DEFAULT_TARGET_FPIR = 1e-4
FUSIONS = ("max", "mean")
# Similarities this far under the threshold are not kept per track (they cannot matter).
_FLOOR_MARGIN = 0.15


def choose_threshold(
    model_id: str,
    n_templates: int,
    threshold: float | None = None,
    target_fpir: float | None = None,
) -> Threshold:
    """The live threshold (see the module doc), with its expected FPIR when a calibration
    can say it (also for a given threshold)."""
    chosen = resolve_threshold(
        model_id,
        n_templates,
        threshold,
        DEFAULT_TARGET_FPIR if target_fpir is None else target_fpir,
    )
    if chosen.expected_fpir is None:
        from openlfr.gallery.identify import _load_calibration

        calibration = _load_calibration(model_id)
        if calibration is not None:
            fpir = float(calibration.expected_fpir(chosen.value, n_templates))
            return Threshold(chosen.value, chosen.source, fpir)
    return chosen


@dataclass
class TrackDecision:
    """One track's evidence so far: per subject, the similarity of each searched shot."""

    sims: dict[str, list[float]] = field(default_factory=dict)
    shots: int = 0
    alerted: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Decision:
    subject: str
    similarity: float  # fused


class Decider:
    """Searches shots and says when a track alerts.

    ``index``: a `GalleryIndex` of the watchlist. ``cooldown_s``: after an alert for a
    subject on this camera, further tracks of the same subject stay silent for this many
    seconds of video (0: off). Exactly one alert per subject per track, always.
    """

    def __init__(
        self,
        index,
        threshold: float,
        *,
        fusion: str = "max",
        fusion_k: int = 2,
        cooldown_s: float = 30.0,
        top_k: int = 5,
    ) -> None:
        if fusion not in FUSIONS:
            raise ConfigError(f"fusion must be one of {', '.join(FUSIONS)}, not {fusion!r}")
        if fusion_k < 1:
            raise ConfigError("fusion_k must be at least 1")
        if cooldown_s < 0:
            raise ConfigError("cooldown must be 0 or more seconds")
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"threshold must be in [0, 1], got {threshold}")
        self.index = index
        self.threshold = float(threshold)
        self.fusion = fusion
        self.fusion_k = fusion_k
        self.cooldown_s = cooldown_s
        self.top_k = top_k
        self._last_alert: dict[str, float] = {}  # subject -> video time of its last alert
        self.suppressed = 0  # alerts held back by the cooldown

    def fused(self, state: TrackDecision, subject: str) -> float:
        sims = sorted(state.sims.get(subject, ()), reverse=True)
        if not sims:
            return 0.0
        if self.fusion == "max":
            return sims[0]
        floor = max(0.0, self.threshold - _FLOOR_MARGIN)
        top = sims[: self.fusion_k]
        # Shots that did not even reach the floor for this subject count as the floor.
        top += [floor] * (min(self.fusion_k, state.shots) - len(top))
        return float(np.mean(top))

    def add_shot(self, state: TrackDecision, vector: np.ndarray, now_s: float) -> list[Decision]:
        """Search one shot's template; the alerts this track now raises (usually none)."""
        floor = max(0.0, self.threshold - _FLOOR_MARGIN)
        state.shots += 1
        for cand in self.index.search(vector, floor, self.top_k):
            state.sims.setdefault(cand.subject_id, []).append(float(cand.similarity))
        out = []
        for subject in state.sims:
            if subject in state.alerted:
                continue
            score = self.fused(state, subject)
            if score < self.threshold:
                continue
            state.alerted.add(subject)  # decided for this track, alert or cooldown
            last = self._last_alert.get(subject)
            if last is not None and self.cooldown_s > 0 and now_s - last < self.cooldown_s:
                self.suppressed += 1
                continue
            self._last_alert[subject] = now_s
            out.append(Decision(subject, score))
        return sorted(out, key=lambda d: d.similarity, reverse=True)
