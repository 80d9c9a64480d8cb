"""Scoring the live pipeline on a simulated scene against its ground truth.

Each alert is matched to the person it was raised on: the pass whose face box, in the
frame of the alert, best overlaps the alert's box (IoU >= ``MIN_IOU``, or the alert box's
centre inside the pass's box). Without a box, by subject and time: a listed pass of that
subject on screen then. Then:

- a *true* alert: the pass is listed and the alert names its identity (the first such
  alert of a pass; later ones for the same pass are *duplicates*, counted apart);
- a *false* alert: anything else (an unlisted person, a listed person named as someone
  else, or no person at all: a detection on the background).

Per-pass TPIR = listed passes with a true alert / listed passes. False alerts per 1,000
faces seen uses the pipeline's own ``faces_seen`` (tracks with a face big enough to
search).

Latency (video seconds) = alert time - the pass's first *recognisable* frame (see
`first_recognisable`: the face >= ``RECOGNISABLE_WIDTH`` px wide and >= 90% in view).
Faces enter the simulated scene at ~30 px, far too small to identify, and spend most of
a pass approaching; no pipeline can alert before a face is identifiable, so latency is
counted from when it is. A pass alerted before that frame has latency 0 (not negative);
a pass never recognisable by that rule but alerted anyway also counts 0. Also reported:
from the pass's entry (its first frame with half the face in view,
``latency_from_entry_*``: the approach included) and from the pipeline's own track start
(``latency_from_track_*``). ``latency_from_recognisable_*`` repeats ``latency_*`` for
readers of older results. An alert's time is its frame's stream time plus, for a scene
played at its frame rate, the processing delay from that frame's decode to the alert
reaching the sink (``alert_delay_*``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from openlfr.errors import ConfigError
from openlfr.simulate.truth import PassTruth, SceneTruth, load_truth

MIN_IOU = 0.3
RECOGNISABLE_WIDTH = 60
RECOGNISABLE_VISIBLE = 0.9
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class AlertRecord:
    """What scoring needs of an alert (from an `AlertEvent` or a JSONL line)."""

    subject: str
    alerted_s: float  # video seconds since the stream began
    first_seen_s: float | None = None
    similarity: float | None = None
    box: Box | None = None
    track: int | None = None
    camera: str = ""
    # Seconds from the alerting frame's decode to the alert reaching the sink (the
    # pipeline's processing delay, which ``alerted_s``, the frame's own time, leaves out).
    # Counted in latency; known only for a run scored as it happens.
    delay_s: float = 0.0

    @classmethod
    def from_event(cls, event, delay_s: float = 0.0) -> AlertRecord:
        return cls(
            subject=event.subject,
            alerted_s=float(event.alerted_s),
            first_seen_s=float(event.first_seen_s),
            similarity=float(event.similarity),
            box=tuple(float(v) for v in event.box),  # type: ignore[arg-type]
            track=int(event.track),
            camera=event.camera,
            delay_s=max(0.0, float(delay_s)),
        )

    @classmethod
    def from_json(cls, data: dict) -> AlertRecord:
        try:
            box = data.get("box")
            return cls(
                subject=str(data["subject"]),
                alerted_s=float(data["alerted_s"]),
                first_seen_s=_opt_float(data.get("first_seen_s")),
                similarity=_opt_float(data.get("similarity")),
                box=tuple(float(v) for v in box) if box else None,  # type: ignore[arg-type]
                track=int(data["track"]) if data.get("track") is not None else None,
                camera=str(data.get("camera", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"alert without a usable {exc}: needs subject and alerted_s"
            ) from None


def _opt_float(v) -> float | None:
    return None if v is None else float(v)


@dataclass(frozen=True)
class AlertOutcome:
    alert: AlertRecord
    kind: str  # "true", "duplicate", "false"
    pass_id: str | None  # the pass the alert was raised on (None: no person there)
    why: str = ""
    latency_s: float | None = None  # a true alert's latency from the recognisable frame


@dataclass
class VideoScore:
    passes: int
    listed_passes: int
    alerted_passes: int
    tpir: float | None
    true_alerts: int
    false_alerts: int
    duplicate_alerts: int
    faces_seen: int
    false_alerts_per_1000: float | None
    latency_p50: float | None
    latency_p95: float | None
    latencies: list[float] = field(default_factory=list)  # from the recognisable frame
    delays: list[float] = field(default_factory=list)  # processing delay of true alerts
    # From the pass's entry (first frame half in view) and from the pipeline's own track
    # start: how much of the entry latency is the approach, how much the pipeline.
    entry_latencies: list[float] = field(default_factory=list)
    track_latencies: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # identities of listed passes missed
    outcomes: list[AlertOutcome] = field(default_factory=list)

    def to_json(self) -> dict:
        def r(x: float | None, d: int = 4) -> float | None:
            return None if x is None or not math.isfinite(x) else round(x, d)

        return {
            "tpir": r(self.tpir),
            "false_alerts": self.false_alerts,
            "faces_seen": self.faces_seen,
            "false_alerts_per_1000": r(self.false_alerts_per_1000),
            "latency_p50": r(self.latency_p50, 3),
            "latency_p95": r(self.latency_p95, 3),
            "latency_from_recognisable_p50": r(self.latency_p50, 3),
            "latency_from_recognisable_p95": r(self.latency_p95, 3),
            "latency_from_entry_p50": r(_percentile(self.entry_latencies, 50), 3),
            "latency_from_entry_p95": r(_percentile(self.entry_latencies, 95), 3),
            "latency_from_track_p50": r(_percentile(self.track_latencies, 50), 3),
            "latency_from_track_p95": r(_percentile(self.track_latencies, 95), 3),
            "alert_delay_p50": r(_percentile(self.delays, 50), 3),
            "alert_delay_p95": r(_percentile(self.delays, 95), 3),
            "passes": self.passes,
            "listed_passes": self.listed_passes,
            "alerted_passes": self.alerted_passes,
            "true_alerts": self.true_alerts,
            "duplicate_alerts": self.duplicate_alerts,
            "missed": self.missed,
            "alerts": [
                {
                    "subject": o.alert.subject,
                    "alerted_s": round(o.alert.alerted_s, 3),
                    "similarity": r(o.alert.similarity),
                    "track": o.alert.track,
                    "outcome": o.kind,
                    "pass": o.pass_id,
                    "latency_s": r(o.latency_s, 3),
                    "why": o.why,
                }
                for o in self.outcomes
            ],
        }


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _contains(box: Box, point: tuple[float, float]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def _pass_at(truth: SceneTruth, frame: int, box: Box) -> PassTruth | None:
    """The pass whose face is where the alert's box is (this frame or the next/previous)."""
    best, best_score = None, 0.0
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    for p in truth.passes:
        for f in (frame, frame - 1, frame + 1):
            b = p.box_at(f)
            if b is None:
                continue
            score = iou(box, b)
            if score < MIN_IOU and _contains(b, centre):
                score = MIN_IOU  # a box of another shape on the same face
            if score >= MIN_IOU and score > best_score:
                best, best_score = p, score
    return best


def first_recognisable(p: PassTruth) -> int | None:
    """The first frame whose face box is at least ``RECOGNISABLE_WIDTH`` wide and at least
    ``RECOGNISABLE_VISIBLE`` in view: from here on a face can be searched (the quality
    gate wants 24 px between the eyes, about a 60 px face box)."""
    for i, (box, vis) in enumerate(zip(p.boxes, p.visible, strict=True)):
        if box[2] - box[0] >= RECOGNISABLE_WIDTH and vis >= RECOGNISABLE_VISIBLE:
            return p.first_frame + i
    return None


def appearance_s(p: PassTruth, fps: float) -> float:
    frame = p.first_visible_frame if p.first_visible_frame is not None else p.first_frame
    return frame / fps


def score_alerts(
    truth: SceneTruth, alerts: Iterable[AlertRecord], faces_seen: int, *, slack_s: float = 0.5
) -> VideoScore:
    """Score alerts against the truth (see the module doc). ``slack_s``: for alerts without
    a box, how far outside a pass (before/after) an alert may be and still belong to it."""
    by_id = {p.id: p for p in truth.passes}
    alerted: dict[str, float] = {}  # pass id -> latency from its recognisable frame
    entry: list[float] = []
    delays: list[float] = []
    track: list[float] = []
    outcomes: list[AlertOutcome] = []
    for a in sorted(alerts, key=lambda a: a.alerted_s):
        frame = int(round(a.alerted_s * truth.fps))
        if a.box is not None:
            p = _pass_at(truth, frame, a.box)
        else:
            slack = slack_s * truth.fps
            p = next(
                (
                    q
                    for q in truth.passes
                    if q.listed
                    and q.identity == a.subject
                    and q.first_frame - slack <= frame <= q.last_frame + slack
                ),
                None,
            )
        if p is None:
            outcomes.append(AlertOutcome(a, "false", None, "no person there"))
        elif not p.listed:
            outcomes.append(AlertOutcome(a, "false", p.id, f"{p.identity} is not listed"))
        elif p.identity != a.subject:
            outcomes.append(AlertOutcome(a, "false", p.id, f"{p.identity} named as {a.subject}"))
        elif p.id in alerted:
            outcomes.append(AlertOutcome(a, "duplicate", p.id, "pass already alerted"))
        else:
            at = a.alerted_s + a.delay_s  # when the alert was out
            entry.append(at - appearance_s(by_id[p.id], truth.fps))
            first = first_recognisable(p)
            # Alerted before the face was recognisable by the rule (or a pass that never
            # is): no delay to count.
            since = 0.0 if first is None else at - first / truth.fps
            alerted[p.id] = max(0.0, since)
            delays.append(a.delay_s)
            if a.first_seen_s is not None:
                track.append(at - a.first_seen_s)
            outcomes.append(AlertOutcome(a, "true", p.id, latency_s=alerted[p.id]))
    listed = truth.listed
    latencies = [alerted[p.id] for p in listed if p.id in alerted]
    false = sum(o.kind == "false" for o in outcomes)
    return VideoScore(
        passes=len(truth.passes),
        listed_passes=len(listed),
        alerted_passes=len(latencies),
        tpir=len(latencies) / len(listed) if listed else None,
        true_alerts=sum(o.kind == "true" for o in outcomes),
        false_alerts=false,
        duplicate_alerts=sum(o.kind == "duplicate" for o in outcomes),
        faces_seen=int(faces_seen),
        false_alerts_per_1000=1000 * false / faces_seen if faces_seen > 0 else None,
        latency_p50=_percentile(latencies, 50),
        latency_p95=_percentile(latencies, 95),
        latencies=latencies,
        entry_latencies=entry,
        delays=delays,
        track_latencies=track,
        missed=[p.identity for p in listed if p.id not in alerted],
        outcomes=outcomes,
    )


def _percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def read_alerts_jsonl(path: Path) -> list[AlertRecord]:
    """Alerts from an `openlfr run --alerts-out` file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"alerts file not found: {path}")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            raise ConfigError(f"{path}:{n}: not a JSON line") from None
        out.append(AlertRecord.from_json(data))
    return out


class _ProgressSink:
    """Keeps the alerts (in memory, for scoring) and reports progress."""

    def __init__(self, progress: Callable[[int, int], None] | None, frames: int) -> None:
        self.alerts: list = []
        self.received: list[float] = []  # wall time each alert reached the sink
        self._progress = progress
        self._frames = frames

    def on_alert(self, event) -> None:
        self.alerts.append(event)
        self.received.append(time.time())

    def on_status(self, stats) -> None:
        if self._progress is not None:
            self._progress(stats.frames_processed, self._frames)

    def close(self) -> None:
        pass


def evaluate_scene(
    scene_dir: Path,
    *,
    threshold: float | None = None,
    target_fpir: float | None = None,
    config=None,
    realtime: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Run the live pipeline on a scene's video with its watchlist folder; score it.

    Returns the score's JSON (`VideoScore.to_json`) plus the run's threshold and counters.
    ``config``: an `openlfr.live.pipeline.PipelineConfig`; ``realtime`` plays the video at
    its frame rate as a camera would (frames a slow pipeline misses are dropped).
    ``progress(frames_processed, frames)`` is called about once a second."""
    from openlfr.live.decision import choose_threshold
    from openlfr.live.pipeline import Pipeline, PipelineConfig, load_watchlist
    from openlfr.live.source import VideoSource
    from openlfr.vision.engine import FaceEngine

    scene_dir = Path(scene_dir)
    truth = load_truth(scene_dir)
    video = scene_dir / truth.video
    if not video.is_file():
        raise ConfigError(f"scene video not found: {video}")
    folder = scene_dir / truth.watchlist
    if not truth.listed or not folder.is_dir():
        raise ConfigError(f"scene {scene_dir} has no listed people: nothing to search for")
    config = config or PipelineConfig()
    engine = FaceEngine.from_backend(config.backend, threads=1)  # see live_engine
    watchlist = load_watchlist(folder, config.backend)
    chosen = choose_threshold(
        watchlist.model_id, len(watchlist.template_subjects), threshold, target_fpir
    )
    sink = _ProgressSink(progress, truth.frames)
    source = VideoSource(video, "scene", realtime=realtime)
    pipeline = Pipeline(engine, watchlist, chosen, camera="scene", sink=sink, config=config)
    stats = pipeline.run(source)
    if stats.error:
        raise ConfigError(f"the pipeline stopped on the scene video: {stats.error}")
    # Played at its frame rate, the stream's clock is the wall clock: the time from a
    # frame's decode to its alert reaching the sink is latency too. As fast as possible,
    # wall time says nothing about stream time, so only the frame's time counts.
    records = [
        AlertRecord.from_event(e, (got - e.alerted_at.timestamp()) if realtime else 0.0)
        for e, got in zip(sink.alerts, sink.received, strict=True)
    ]
    score = score_alerts(truth, records, stats.faces_seen)
    out = score.to_json()
    out.update(
        {
            "threshold": round(chosen.value, 4),
            "threshold_source": chosen.source,
            "expected_fpir": chosen.expected_fpir,
            "model_id": watchlist.model_id,
            "watchlist_subjects": len(watchlist.enrolled_subjects),
            "not_enrolled": list(watchlist.not_enrolled),
            "tracks": stats.tracks,
            "frames_processed": stats.frames_processed,
            "frames_dropped": stats.frames_dropped,
            "video_seconds": round(stats.video_seconds, 3),
            "wall_seconds": round(stats.wall_seconds, 3),
            "realtime": realtime,
            "scene": str(scene_dir),
        }
    )
    return out
