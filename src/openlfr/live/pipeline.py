"""One camera's live pipeline: frames in, alerts and counters out.

Per frame: every ``detect_every``-th frame is a detection round (the tiles of the frame
that are due, by the stream's clock, plus a window around each live track, see scan.py,
in worker processes); the tracker follows faces between rounds. Each detected face is a
*shot* of its track with a quality verdict. A track is searched once confirmed as a
face: by the face check (verify.py), or without it by ``min_hits`` detection rounds. A
confirmed track embeds a shot only when it is searchable (usable, or only a little small
or turned: ``search_min_eye_px``, ``search_max_yaw``; anything with ``search_unusable``)
and is one of its first ``prompt_shots`` searchable shots (each searched as it comes,
for a prompt alert), or would enter the track's best ``top_shots`` by quality (by at least
``min_gain``), or comes ``refresh_s`` seconds after the track's last embedded shot; at
most ``max_embeds`` times per track.
(The refresh is measured: on the hamilton clip the quality score picks sharp frontal
shots early in a close-up, but the shot most like the reference came 2 s later, 0.978
against 0.955.)
Each embedded shot is searched against the watchlist; the decision (decision.py) fuses
a track's shots and raises at most one alert per subject per track.

Privacy: a track's templates and crops live only in its `_TrackState` in memory; when
the track ends they are dropped, and only counters remain. Nothing about a face is
logged. Only an alert carries images (the alerting face's crop and an evidence frame
with every other face blurred) and only to the sink.

Python API (used by `openlfr run`, the simulator and the demo)::

    from openlfr.live.pipeline import Pipeline, PipelineConfig, run_pipeline
    from openlfr.live.sinks import MemorySink

    sink = MemorySink()
    stats = run_pipeline("clip.mp4", watchlist, sink=sink)    # watchlist: a gallery
    sink.alerts        # [AlertEvent, ...]                     # Watchlist or a folder
    stats.faces_seen, stats.tracks, stats.frames_processed, stats.video_seconds

``run_pipeline(source, watchlist, *, sink=None, threshold=None, target_fpir=None,
config=None, engine=None, realtime=False, camera=None, stop=None) -> CameraStats``.
For finer control build a ``Pipeline(engine, watchlist, threshold, camera=..., sink=...,
config=...)`` and call ``pipeline.run(video_source)`` or feed ``pipeline.process(frame)``
frame by frame, then ``pipeline.finish()``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from openlfr.errors import ConfigError, WatchlistError
from openlfr.gallery.identify import Threshold
from openlfr.live import alerts as alerts_mod
from openlfr.live.alerts import AlertEvent
from openlfr.live.counters import CameraStats
from openlfr.live.decision import Decider, TrackDecision, choose_threshold
from openlfr.live.frames import Frame
from openlfr.live.redact import redact
from openlfr.live.scan import RegionDetector, Scanner
from openlfr.live.sinks import MemorySink, Sink
from openlfr.live.source import SourceError, VideoSource
from openlfr.live.tracker import Box, Track, Tracker
from openlfr.live.verify import FaceVerifier
from openlfr.vision import quality as quality_mod
from openlfr.vision.backends import DEFAULT_BACKEND
from openlfr.vision.face import Face, Quality

log = logging.getLogger(__name__)

TemplateHook = Callable[[np.ndarray], None]


# Region detector options per PipelineConfig.detector. One onnxruntime thread: each
# worker process is one core's worth. The CNN fallback only in images up to 600x600 px
# (track windows, ~250 px), never in the ~1 MP full-scan tiles.
DETECTORS: dict[str, dict] = {
    "hog+mmod": {
        "detector": "hog+mmod",
        "fallback_max_pixels": 360_000,
        "threads": 1,
        "grey": True,
    },
    "hog": {"detector": "hog"},
    "mmod": {"detector": "mmod", "threads": 1},
    # Its own defaults are the live ones (min_score 0.65, 800-px tiles): no generic option
    # names here, as other backends' factories read "min_score" as their own.
    "blazeface": {"detector": "blazeface", "threads": 1},
}


@dataclass(frozen=True)
class PipelineConfig:
    """Tunables of one camera's pipeline (defaults measured on the opera-house clip).

    ``min_face``: smallest face width in pixels to look for (None: 5% of the frame height,
    between 20 and 56). ``roi``: (x1, y1, x2, y2) region of interest for the full scan.
    ``scan_period_s``/``idle_period_s``: how often (video seconds) a tile is rescanned
    where faces have lately been found / where none has (see scan.Scanner).
    ``workers``: detection processes (0: detect in this process). ``track_timeout_s``: a
    track unmatched for this long (video seconds: an overloaded pipeline can go that long
    between two processed frames) is not matched again. ``detector``: the
    backend's detector for regions (dlib-onnx: "blazeface", "hog+mmod", "hog" or "mmod";
    other backends ignore it). "blazeface" (default): MediaPipe BlazeFace back on
    onnxruntime with dlib's 5 landmarks: on the opera-house clip (bench/detectors.py, same
    run) 439 faces (426 of them confirmed by dlib's CNN) against the naive full-frame HOG's
    368, at 0.071 of its CPU time. "hog+mmod" is HOG on the grey image with dlib's CNN
    (on onnxruntime) where HOG finds nothing in a track's window: 401 faces at 0.097; HOG
    alone finds 288 (a track whose face turns is lost).
    """

    detect_every: int = 3
    scan_period_s: float = 1.0
    idle_period_s: float = 2.0
    min_face: int | None = None
    tile: int = 1000
    roi: Box | None = None
    workers: int = 2
    top_shots: int = 3
    # At most this many searches a track. 16, not 12, since the live search starts from
    # 20 px between the eyes (below): on the simulated street an approaching face's 12
    # searches were spent by 37 px, one round before Jennifer_Lopez's only shot over the
    # threshold (0.9145 at 40 px; 0.900-0.909 on the 12 before it).
    max_embeds: int = 16
    # A confirmed track's first ``prompt_shots`` usable shots are each searched as they
    # come (every detection round), not only those that enter its best ``top_shots``: a
    # face approaching the camera grows and sharpens from round to round, and on the
    # simulated street the first shot over the threshold was often one the quality
    # choice held back (see bench/results/live-latency.json). Then the quality/refresh
    # rule below, up to ``max_embeds`` in all (the bound on searches per track is
    # unchanged).
    prompt_shots: int = 8
    min_gain: float = 0.05
    refresh_s: float = 1.0
    # Live shots are searched from a smaller, more turned face than the quality verdict
    # calls usable (eye distance 24 px, yaw 0.45): a face walking towards the camera is
    # already matchable before it grows past that line. On the 300-person scene a listed
    # face's best similarity at 20-24 px between the eyes was a median 0.012 under its
    # best from 24 px (15 passes), and the best impostor of ~2,400 searched shots did not
    # rise (0.881 either way); latency p95 (as fast as possible) 1.04 -> 0.59 s, same 12
    # alerts, no false one (bench/results/live-latency.json). Smaller still (16-18 px) spent the
    # search budget on shots that did not yet reach the threshold. A face seen is counted
    # from this size too (counters.py).
    search_min_eye_px: float = 20.0
    search_max_yaw: float = 0.5
    search_unusable: bool = False
    fusion: str = "max"
    fusion_k: int = 2
    cooldown_s: float = 30.0
    max_misses: int = 4
    # A track counts as a face seen, and is searched, once matched in this many detection
    # rounds: BlazeFace on upscaled scan tiles hit the static background of the demo scene
    # once a second, and each hit started a track counted as a face. Demo (13 people):
    # faces seen 65 -> 17; scene300 (300 people): 564 -> 412, TPIR 0.500 and 0 false
    # alerts either way. (Keeping tracks 8 rounds instead gave 25 on the demo: the
    # background hits then became one long, confirmed track.)
    # With the face check (verify_faces, below) a first detection big enough to count is
    # checked at once, and a track the check confirms needs no second round: before
    # the check, confirming on one detection let BlazeFace's one-off hits on a building's
    # windows count (they passed the quality check at 0.72-0.89); the check refuses them.
    min_hits: int = 2
    track_timeout_s: float = 2.0
    # The tracker also compares a face's colours with its track's last face (tracker.py
    # `appearance`, ~0.25 ms a face). Without it, on the 300-person scene 43 of the 412
    # tracks counted as faces held two or three people (a face that left handed its track
    # to the next one along its path): the newcomer inherited the spent search budget,
    # and one track's decision mixed two people's shots. With it: 4 such tracks; faces
    # seen 447 (283 people, against 253 before); TPIR 12/30 against 13/30 (Ana_Guevara,
    # found in one detection round only, had been searched at once in the confirmed
    # track she took over; the listed two a hand-over had kept unsearched, Dick_Cheney
    # and Gwyneth_Paltrow, are now searched and score 0.907 / 0.888 against 0.912).
    track_appearance: bool = True
    # A track counts and is searched only once dlib's MMOD CNN, run on a crop around it,
    # agrees it is a face (verify.py): asked at its first detection if that is big enough
    # to count, at its min_hits-th, then every `verify_every` rounds until it agrees.
    # Demo scene (13 people): faces seen 26 -> 12; scene300 (300 people): 447 -> 287,
    # TPIR 0.400 and 0 false alerts either way. Asking at the first detection too (a
    # face that crosses the view fast is found in one round only): scene300 faces seen
    # 294 -> 315 for 284 -> 294 distinct people, TPIR 12 -> 13 of 30 (Ana_Guevara, found
    # in one round, is back), latency p95 0.59 -> 0.57 s (as fast as possible), 0 false
    # alerts; demo 12 -> 13 for 13 people.
    verify_faces: bool = True
    verify_every: int = 4
    status_interval_s: float = 1.0
    backend: str = DEFAULT_BACKEND
    detector: str = "blazeface"

    def check(self) -> PipelineConfig:
        if self.detect_every < 1:
            raise ConfigError("detect_every must be at least 1")
        if self.scan_period_s <= 0 or self.idle_period_s < self.scan_period_s:
            raise ConfigError("scan_period_s must be positive and idle_period_s at least that")
        if self.track_timeout_s <= 0:
            raise ConfigError("track_timeout_s must be positive")
        if min(self.top_shots, self.max_embeds, self.min_hits, self.verify_every) < 1:
            raise ConfigError("top_shots, max_embeds, min_hits and verify_every must be >= 1")
        if self.search_min_eye_px < 0 or not 0 <= self.search_max_yaw <= 1:
            raise ConfigError("search_min_eye_px must be >= 0 and search_max_yaw in [0, 1]")
        if self.prompt_shots < 0:
            raise ConfigError("prompt_shots must be 0 or more")
        if self.detector not in DETECTORS:
            raise ConfigError(f"detector must be one of {sorted(DETECTORS)}, not {self.detector!r}")
        if self.roi is not None:
            x1, y1, x2, y2 = self.roi
            if x2 <= x1 or y2 <= y1:
                raise ConfigError(f"region of interest {self.roi} is empty")
        return self

    def detector_options(self) -> dict:
        """Options for the backend's detector factory (each worker builds its own)."""
        return dict(DETECTORS[self.detector])

    def big_enough(self, q: Quality) -> bool:
        """Whether a face is big enough to be searched: it makes its track a face seen."""
        return quality_mod.TOO_SMALL not in q.reasons or q.eye_distance >= self.search_min_eye_px

    def searchable(self, q: Quality) -> bool:
        return self.search_unusable or quality_mod.searchable_live(
            q, self.search_min_eye_px, self.search_max_yaw
        )

    def min_face_for(self, height: int) -> int:
        if self.min_face is not None:
            return self.min_face
        return int(min(56, max(20, round(height * 0.05))))


@dataclass
class _Shot:
    quality: float
    crop: np.ndarray  # the face with a margin, RGB; memory only


@dataclass
class _TrackState:
    first_wall: float
    first_video_s: float
    last_embed_s: float = -1e9
    verified: bool = False  # a second detector agreed it is a face (verify.py)
    checks: int = 0
    seen: bool = False  # a face big enough to search (see counters.py)
    usable: bool = False
    embeds: int = 0
    shots: list[_Shot] = field(default_factory=list)
    decision: TrackDecision = field(default_factory=TrackDecision)


class Pipeline:
    """One camera: detection, tracking, shot selection, search, decision, alerts.

    ``watchlist``: an `openlfr.gallery.watchlist.Watchlist`. ``threshold``: a
    `Threshold` (see `decision.choose_threshold`). ``on_template``: a test hook called with
    every template computed (privacy tests use it to look for template bytes).
    """

    def __init__(
        self,
        engine,
        watchlist,
        threshold: Threshold,
        *,
        camera: str = "camera",
        sink: Sink | None = None,
        config: PipelineConfig | None = None,
        on_template: TemplateHook | None = None,
    ) -> None:
        self.config = (config or PipelineConfig()).check()
        if engine.model_id != watchlist.model_id:
            raise ConfigError(
                f"watchlist {watchlist.name!r} was enrolled with model {watchlist.model_id!r}, "
                f"but the engine uses {engine.model_id!r}"
            )
        if not watchlist.template_subjects:
            raise WatchlistError(f"watchlist {watchlist.name!r} has no enrolled subject")
        self.engine = engine
        self.model_id = engine.model_id
        self.threshold = threshold
        self.camera = camera
        self.sink: Sink = sink if sink is not None else MemorySink()
        self.on_template = on_template
        cfg = self.config
        self.decider = Decider(
            watchlist.index(),
            threshold.value,
            fusion=cfg.fusion,
            fusion_k=cfg.fusion_k,
            cooldown_s=cfg.cooldown_s,
        )
        self.tracker = Tracker(
            max_misses=cfg.max_misses,
            max_gap_frames=(cfg.max_misses + 1) * cfg.detect_every,
            use_appearance=cfg.track_appearance,
            look_round=cfg.detect_every,
        )
        self._stale_set = False
        # Not the engine's detector: that one may upsample or fall back to the CNN (stills);
        # regions are scaled here, and the CNN has no place on live frames.
        self.detector = RegionDetector(cfg.backend, cfg.detector_options(), workers=cfg.workers)
        self.scanner: Scanner | None = None
        self.verifier = FaceVerifier() if cfg.verify_faces else None
        self.stats = CameraStats(camera=camera)
        self._states: dict[int, _TrackState] = {}
        self._frames = 0
        self._last_round: int | None = None
        self._last_pts: float | None = None
        self._last_index: int | None = None
        self._frame_s = 1 / 25
        self._started: float | None = None
        self._last_status = 0.0
        self._finished = False

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> Pipeline:
        """Start the detection workers (a second or two); called by `run` and `process`."""
        if self._started is None:
            self.detector.start()
            if self.verifier is not None:
                self.verifier.load()  # not at the first track: no delay on its alert
            self._started = time.monotonic()
        return self

    def finish(self) -> CameraStats:
        """End every track (dropping what non-matching tracks held), stop the workers,
        send the final status. Returns the counters."""
        if not self._finished:
            self._finished = True
            for track in self.tracker.end_all():
                self._end_track(track)
            self.detector.close()
            if self._frames:
                self.stats.video_seconds += self._frame_s  # the last frame's duration
            self._update_times()
            self.stats.active_tracks = 0
            if self.stats.state not in ("failed",):
                self.stats.state = "finished"
            self.sink.on_status(replace(self.stats))
        return self.stats

    def run(self, source: VideoSource, stop: threading.Event | None = None) -> CameraStats:
        """Process every frame of ``source`` until it ends, fails or ``stop`` is set."""
        self.stats.source = source.url
        self.start()
        source.start()
        try:
            while stop is None or not stop.is_set():
                frame = source.read(timeout=0.5)
                self.stats.frames_dropped = source.stats.frames_dropped
                self.stats.state = source.state.value
                if frame is not None:
                    self.process(frame)
                elif source.finished:
                    break
                else:
                    self._maybe_status()
        except SourceError as exc:
            self.stats.error = str(exc)
            self.stats.state = "failed"
            log.error("%s", redact(exc))
        finally:
            source.stop()
            self.stats.frames_dropped = source.stats.frames_dropped
            self.finish()
        return self.stats

    # --- per frame ----------------------------------------------------------------------

    def process(self, frame: Frame) -> list[AlertEvent]:
        """Process one frame; returns the alerts it raised (also sent to the sink)."""
        self.start()
        self.stats.opened = True
        # The source's own frame count: frames it dropped (real-time, fell behind) leave a
        # gap, so the tracker's motion model and the detection rate follow the stream.
        index = frame.index
        self._frames += 1
        self._tick_clock(frame.pts_seconds, index)
        self.stats.frames_processed += 1
        raised: list[AlertEvent] = []
        last = self._last_round
        if last is None or not 0 <= index - last < self.config.detect_every:
            self._last_round = index
            raised = self._detection_round(frame, index)
        self._maybe_status()
        return raised

    def _tick_clock(self, pts: float, index: int) -> None:
        """Advance the stream clock (``stats.video_seconds``, the time base of alerts'
        ``first_seen_s``/``alerted_s``) from the frame's timestamp.

        A gap in the timestamps that the frame numbers account for is real stream time,
        however long: a source that falls behind drops frames (the frame number runs on),
        and under heavy load several seconds can pass between two processed frames. Not
        counting them (as a fixed cap once did) set the clock back, and the alerts of an
        overloaded run were then placed on the wrong people. A jump the frame numbers do
        not explain (a reconnect restarting the timestamps, a corrupt one) counts the
        frames in between at the stream's frame duration.
        """
        last_pts, last_index = self._last_pts, self._last_index
        self._last_pts, self._last_index = pts, index
        if last_pts is None or last_index is None:
            return
        delta, frames = pts - last_pts, index - last_index
        expected = max(1, frames) * self._frame_s
        if delta > 0 and (delta < 2.0 or abs(delta - expected) <= 0.5 + 0.25 * expected):
            if frames >= 1:  # the frame duration, from a step with no jump
                per_frame = delta / frames
                if 0 < per_frame < 1.0:
                    n = self._frames
                    self._frame_s = per_frame if n <= 2 else 0.9 * self._frame_s + 0.1 * per_frame
            self.stats.video_seconds += delta
        else:
            self.stats.video_seconds += expected

    def _detection_round(self, frame: Frame, index: int) -> list[AlertEvent]:
        image = frame.image
        if self.scanner is None:
            cfg = self.config
            self.scanner = Scanner(
                min_face=cfg.min_face_for(frame.height),
                tile=cfg.tile,
                scan_period_s=cfg.scan_period_s,
                idle_period_s=cfg.idle_period_s,
                roi=cfg.roi,
                max_scale=4.0,
                fresh_margin=self.tracker.first_gate,  # look as far as the tracker follows
            )
        if not self._stale_set and self._frames > 2:
            # track_timeout_s in frames, once the stream's frame rate is known.
            self._stale_set = True
            frames = round(self.config.track_timeout_s / max(self._frame_s, 1e-3))
            self.tracker.stale_frames = max(self.tracker.max_gap_frames, frames)
        now_s = self.stats.video_seconds
        predicted = self.tracker.predicted(index)
        moving: list[Box] = []
        fresh: list[Box] = []  # tracks seen once: no velocity yet, a wider window
        for tid, box in predicted.items():
            (fresh if self.tracker.tracks[tid].hits == 1 else moving).append(box)
        plan = self.scanner.plan(frame.width, frame.height, moving, now_s, fresh=fresh)
        faces = [
            f.with_(quality=quality_mod.assess(image, f))
            for f in self.detector.detect(image, plan.regions)
            if f.landmarks is not None
        ]
        self.scanner.observe([f.box for f in faces], now_s)
        self.stats.detection_rounds += 1
        self.stats.detections += len(faces)
        before = self.tracker.started
        matches, ended = self.tracker.update(faces, index, image)
        self.stats.tracks += self.tracker.started - before
        for track in ended:
            self._end_track(track)
        raised: list[AlertEvent] = []
        matched_ids = {t.id for t, _ in matches}
        for track, face in matches:
            others = [f.box for t, f in matches if t.id != track.id]
            others += [b for tid, b in predicted.items() if tid not in matched_ids]
            raised += self._shot(track, face, frame, others)
        self.stats.active_tracks = len(self.tracker.tracks)
        return raised

    def _shot(self, track: Track, face: Face, frame: Frame, others: list[Box]) -> list[AlertEvent]:
        state = self._states.get(track.id)
        if state is None:
            state = _TrackState(frame.wall_time, self.stats.video_seconds)
            self._states[track.id] = state
        if not self._is_face(state, track, face, frame):
            return []
        q = face.quality
        assert q is not None
        cfg = self.config
        if not state.seen and cfg.big_enough(q):
            state.seen = True
            self.stats.faces_seen += 1
        if q.usable and not state.usable:
            state.usable = True
            self.stats.faces_usable += 1
        if not cfg.searchable(q) or state.embeds >= cfg.max_embeds:
            return []
        now_s = self.stats.video_seconds
        prompt = state.embeds < cfg.prompt_shots
        if (
            not prompt
            and len(state.shots) >= cfg.top_shots
            and now_s - state.last_embed_s < cfg.refresh_s
        ):
            worst = min(s.quality for s in state.shots)
            if q.score < worst + cfg.min_gain:
                return []
        embedded = self.engine.embed(frame.image, [face])[0]
        vector = embedded.template.vector
        self.stats.embeddings += 1
        state.embeds += 1
        state.last_embed_s = now_s
        if self.on_template is not None:
            self.on_template(vector)
        state.shots.append(_Shot(q.score, alerts_mod.crop(frame.image, face.box)))
        state.shots.sort(key=lambda s: s.quality, reverse=True)
        del state.shots[cfg.top_shots :]
        decisions = self.decider.add_shot(state.decision, vector, self.stats.video_seconds)
        del vector, embedded  # the template lives on only as similarities in the decision
        out = []
        for d in decisions:
            event = self._alert(track, state, face, frame, others, d.subject, d.similarity)
            out.append(event)
        self.stats.alerts_suppressed = self.decider.suppressed
        return out

    def _is_face(self, state: _TrackState, track: Track, face: Face, frame: Frame) -> bool:
        """Whether a track has been confirmed as a face (see `PipelineConfig.min_hits` and
        `verify_faces`): the face check's verdict, asked at the track's first detection if
        that is big enough to count, at its ``min_hits``-th, then every ``verify_every``
        rounds until it agrees; without the check, ``min_hits`` rounds."""
        cfg = self.config
        if state.verified:
            return True
        if self.verifier is None:
            return track.hits >= cfg.min_hits
        if track.hits < cfg.min_hits:
            due = state.checks == 0 and face.quality is not None and cfg.big_enough(face.quality)
        else:
            due = state.checks == 0 or (track.hits - cfg.min_hits) % cfg.verify_every == 0
        if not due:
            return False
        state.checks += 1
        state.verified = self.verifier.is_face(frame.image, face.box)
        return state.verified

    def _alert(
        self,
        track: Track,
        state: _TrackState,
        face: Face,
        frame: Frame,
        others: list[Box],
        subject: str,
        similarity: float,
    ) -> AlertEvent:
        best = state.shots[0]
        event = AlertEvent(
            camera=self.camera,
            track=track.id,
            subject=subject,
            similarity=float(similarity),
            threshold=self.threshold.value,
            expected_fpir=self.threshold.expected_fpir,
            model_id=self.model_id,
            first_seen=alerts_mod.utc(state.first_wall),
            alerted_at=alerts_mod.utc(frame.wall_time),
            first_seen_s=state.first_video_s,
            alerted_s=self.stats.video_seconds,
            shots=state.decision.shots,
            fusion=self.config.fusion,
            quality=best.quality,
            box=face.box,
            probe_jpeg=alerts_mod.encode_jpeg(best.crop),
            evidence_jpeg=alerts_mod.evidence_frame(frame.image, face.box, others),
        )
        self.stats.alerts += 1
        log.info("camera %s: alert on track %d", self.camera, track.id)  # no identity here
        self.sink.on_alert(event)
        return event

    def _end_track(self, track: Track) -> None:
        # Privacy: the state (crops, similarities) goes; only counters remain.
        self._states.pop(track.id, None)

    def _update_times(self) -> None:
        if self._started is not None:
            self.stats.wall_seconds = time.monotonic() - self._started

    def _maybe_status(self) -> None:
        now = time.monotonic()
        if now - self._last_status >= self.config.status_interval_s:
            self._last_status = now
            self._update_times()
            self.sink.on_status(replace(self.stats))


# --- the simple entry point -------------------------------------------------------------


def load_watchlist(spec, backend: str = DEFAULT_BACKEND):
    """A `Watchlist` as is; a folder (one sub-folder per person) enrolled in memory; or
    the name of a stored watchlist."""
    from openlfr.gallery import watchlist as store

    if isinstance(spec, store.Watchlist):
        return spec
    path = Path(spec).expanduser()
    if path.is_dir() or path.suffix.lower() == ".csv":
        from openlfr.gallery.enrol import enrol, read_sources
        from openlfr.vision.engine import FaceEngine

        report = enrol(read_sources(path), FaceEngine.from_backend(backend))
        return store.Watchlist.from_report("on-the-fly", report, source=str(path))
    return store.load(str(spec))


def live_engine(backend: str = DEFAULT_BACKEND):
    """The engine a camera's pipeline embeds with: no CNN fallback (the region scanner
    finds the faces) and one ONNX Runtime thread. With all cores, the runtime's pooled
    threads kept spinning after each call and took CPU from the detection workers: on the
    opera clip 4.9 CPU-s against 3.75 with one thread, embedding 17-20 ms a face against 13.
    """
    from openlfr.vision.engine import FaceEngine

    return FaceEngine.from_backend(backend, cnn_fallback=False, threads=1)


def run_pipeline(
    source,
    watchlist,
    *,
    sink: Sink | None = None,
    threshold: float | None = None,
    target_fpir: float | None = None,
    config: PipelineConfig | None = None,
    engine=None,
    realtime: bool = False,
    camera: str | None = None,
    stop: threading.Event | None = None,
    on_template: TemplateHook | None = None,
) -> CameraStats:
    """Run one camera to its end. ``source``: a path/URL or a `VideoSource`; ``watchlist``:
    see `load_watchlist`. Alerts go to ``sink``; returns the camera's counters."""
    config = config or PipelineConfig()
    wl = load_watchlist(watchlist, config.backend)
    if engine is None:
        engine = live_engine(config.backend)
    chosen = choose_threshold(wl.model_id, len(wl.template_subjects), threshold, target_fpir)
    src = (
        source
        if isinstance(source, VideoSource)
        else VideoSource(source, camera, realtime=realtime)
    )
    pipeline = Pipeline(
        engine,
        wl,
        chosen,
        camera=camera or src.camera,
        sink=sink,
        config=config,
        on_template=on_template,
    )
    return pipeline.run(src, stop)
