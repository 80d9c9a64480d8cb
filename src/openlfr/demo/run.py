"""The demo's run: enrol the scene's watchlist, play its video as a camera, score it.

The watchlist is enrolled in memory from the scene's watchlist folder (nothing goes to
the data directory), the threshold is the default one from the shipped calibration
(`choose_threshold` with no override: expected FPIR 1 in 10,000 per person pass for the
watchlist's size), and the alerts are scored against the scene's truth with
`openlfr.evaluation.video.score_alerts`, as `openlfr evaluate video` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openlfr.demo.scene import DemoScene
from openlfr.errors import ConfigError, WatchlistError
from openlfr.evaluation.video import AlertRecord, VideoScore, score_alerts
from openlfr.gallery.identify import Threshold
from openlfr.live.counters import CameraStats
from openlfr.live.sinks import MemorySink, MultiSink, Sink

CAMERA = "demo"


@dataclass
class DemoRun:
    scene: DemoScene
    threshold: Threshold
    stats: CameraStats
    score: VideoScore
    alerts: list = field(default_factory=list)  # AlertEvent, in the order raised

    def figures(self) -> dict:
        s = self.score
        return {
            "faces_seen": self.stats.faces_seen,
            "tracks": self.stats.tracks,
            "alerts": len(self.alerts),
            "true_alerts": s.true_alerts,
            "false_alerts": s.false_alerts,
            "duplicate_alerts": s.duplicate_alerts,
            "listed_passes": s.listed_passes,
            "alerted_passes": s.alerted_passes,
            "passes": s.passes,
            "missed": list(s.missed),
            "latency_p50": s.latency_p50,
            "frames_processed": self.stats.frames_processed,
            "frames_dropped": self.stats.frames_dropped,
            "video_seconds": self.stats.video_seconds,
            "wall_seconds": self.stats.wall_seconds,
        }


def enrol_watchlist(scene: DemoScene, backend: str):
    """(watchlist, threshold): the scene's listed people enrolled in memory from their
    photos in the scene's watchlist folder, and the calibrated default threshold."""
    from openlfr.live.decision import choose_threshold
    from openlfr.live.pipeline import load_watchlist

    folder = scene.scene_dir / scene.truth.watchlist
    if not folder.is_dir():
        raise ConfigError(f"the demo scene has no watchlist folder: {folder}")
    wl = load_watchlist(folder, backend)
    if not wl.template_subjects:
        raise WatchlistError("the demo could not enrol anyone on its watchlist")
    # No override: the calibrated default for this model and watchlist size.
    return wl, choose_threshold(wl.model_id, len(wl.template_subjects))


def play(
    scene: DemoScene,
    watchlist,
    threshold: Threshold,
    engine,
    *,
    sink: Sink | None = None,
    realtime: bool = False,
    config=None,
) -> DemoRun:
    """Run the live pipeline on the scene's video as one camera; alerts go to ``sink`` as
    they happen; returns the counters and the score against the truth."""
    from openlfr.live.pipeline import Pipeline, PipelineConfig
    from openlfr.live.source import VideoSource

    memory = MemorySink()
    out = MultiSink([memory, sink]) if sink is not None else memory
    source = VideoSource(scene.scene_dir / scene.truth.video, CAMERA, realtime=realtime)
    pipeline = Pipeline(
        engine, watchlist, threshold, camera=CAMERA, sink=out, config=config or PipelineConfig()
    )
    stats = pipeline.run(source)
    if stats.error:
        raise ConfigError(f"the pipeline stopped on the demo video: {stats.error}")
    records = [AlertRecord.from_event(e) for e in memory.alerts]
    score = score_alerts(scene.truth, records, stats.faces_seen)
    return DemoRun(scene, threshold, stats, score, list(memory.alerts))
