"""Per-camera counters: what a deployment record needs, and nothing about any person.

``faces_seen`` counts people whose face passed the camera at a size the system could
search: tracks with at least one detected face of 20 px or more between the eyes (the
live search's limit, ``PipelineConfig.search_min_eye_px``; the quality check's own "too
small" line is 24 px). One person walking past counts once, however many frames
they were in, and counts whether or not their face was sharp or frontal enough to be
searched: a deployment record states how many people's faces were processed, and it
should not shrink with the blur of the day. ``faces_usable`` counts the tracks with at
least one usable face (no quality reason at all); the live search also takes faces that
are only a little small or turned (see ``PipelineConfig.search_min_eye_px``), so more
tracks are searched than are usable. ``tracks`` counts every track
started, small faces included.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class CameraStats:
    camera: str
    source: str = ""  # redacted URL or path
    state: str = "starting"
    frames_processed: int = 0
    frames_dropped: int = 0  # by the source, because processing fell behind
    detection_rounds: int = 0
    detections: int = 0  # faces detected over all rounds (one person: many)
    embeddings: int = 0  # templates computed
    tracks: int = 0
    faces_seen: int = 0
    faces_usable: int = 0
    alerts: int = 0
    alerts_suppressed: int = 0  # held back by the per-subject cooldown
    active_tracks: int = 0
    video_seconds: float = 0.0
    wall_seconds: float = 0.0
    error: str | None = None
    opened: bool = False  # did the source ever deliver a frame

    @property
    def fps(self) -> float:
        """Frames processed per wall second."""
        return self.frames_processed / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def realtime_factor(self) -> float:
        """Seconds of video processed per wall second (>= 1: keeps up with the camera)."""
        return self.video_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def to_json(self) -> dict:
        out = asdict(self)
        out["fps"] = round(self.fps, 2)
        out["realtime_factor"] = round(self.realtime_factor, 3)
        out["video_seconds"] = round(self.video_seconds, 3)
        out["wall_seconds"] = round(self.wall_seconds, 3)
        return out


_SUMMED = (
    "frames_processed",
    "frames_dropped",
    "detections",
    "embeddings",
    "tracks",
    "faces_seen",
    "faces_usable",
    "alerts",
    "alerts_suppressed",
    "video_seconds",
)


@dataclass
class Summary:
    """All cameras together (the summary JSON of `openlfr run`)."""

    cameras: list[CameraStats] = field(default_factory=list)
    wall_seconds: float = 0.0
    threshold: float | None = None
    threshold_source: str = ""
    expected_fpir: float | None = None
    model_id: str = ""
    watchlist_subjects: int = 0
    watchlist_templates: int = 0
    interrupted: bool = False  # stopped by Ctrl-C

    @property
    def any_opened(self) -> bool:
        """Did any source ever deliver a frame?"""
        return any(c.opened for c in self.cameras)

    def total(self, name: str) -> float:
        return sum(getattr(c, name) for c in self.cameras)

    def to_json(self) -> dict:
        out: dict = {name: self.total(name) for name in _SUMMED}
        out["video_seconds"] = round(out["video_seconds"], 3)
        out["wall_seconds"] = round(self.wall_seconds, 3)
        out["fps"] = (
            round(out["frames_processed"] / self.wall_seconds, 2) if self.wall_seconds else 0
        )
        out["threshold"] = self.threshold
        out["threshold_source"] = self.threshold_source
        out["expected_fpir"] = self.expected_fpir
        out["model_id"] = self.model_id
        out["watchlist_subjects"] = self.watchlist_subjects
        out["watchlist_templates"] = self.watchlist_templates
        out["interrupted"] = self.interrupted
        out["cameras"] = [c.to_json() for c in self.cameras]
        return out
