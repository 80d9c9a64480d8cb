"""Many cameras side by side: one pipeline per camera, a dead camera stops no other.

One camera runs in this process with its detection worker pool (``config.workers``
processes) using both cores. Several cameras run one process each (detecting in that
process, so N cameras use up to N cores without oversubscribing); their alerts and
status come back over a queue to the one sink in this process. A camera whose source
cannot be opened, or fails later, is reported in its counters (``error``) and the others
go on. ``Summary.any_opened`` says whether any source ever delivered a frame (the CLI
exits non-zero only when none did).

    summary = run_cameras(["a.mp4", "rtsp://cam/stream"], watchlist, threshold, sink=sink)
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from openlfr.errors import OpenLFRError
from openlfr.gallery.identify import Threshold
from openlfr.live.counters import CameraStats, Summary
from openlfr.live.pipeline import Pipeline, PipelineConfig, live_engine
from openlfr.live.redact import redact
from openlfr.live.sinks import Sink
from openlfr.live.source import VideoSource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CameraSpec:
    source: str
    camera: str


def camera_specs(sources: Sequence[str]) -> list[CameraSpec]:
    """A unique camera name per source: the file's stem or the redacted URL."""
    out: list[CameraSpec] = []
    seen: dict[str, int] = {}
    for s in sources:
        name = _name_of(s)
        seen[name] = seen.get(name, 0) + 1
        out.append(CameraSpec(s, name if seen[name] == 1 else f"{name}-{seen[name]}"))
    return out


def _name_of(source: str) -> str:
    from pathlib import Path

    if "://" in source or source.startswith("/dev/video"):
        return redact(source)
    return Path(source).stem or source


def _open(spec: CameraSpec, realtime: bool) -> VideoSource:
    return VideoSource(spec.source, spec.camera, realtime=realtime)


def _run_one(
    spec: CameraSpec,
    engine,
    watchlist,
    threshold: Threshold,
    config: PipelineConfig,
    sink: Sink,
    realtime: bool,
    stop,
    on_template=None,
    holder: list | None = None,
) -> CameraStats:
    try:
        source = _open(spec, realtime)
    except OpenLFRError as exc:  # missing file, bad URL scheme...: this camera only
        log.error("%s", redact(exc))
        stats = CameraStats(camera=spec.camera, source=redact(spec.source), state="failed")
        stats.error = str(exc)
        sink.on_status(replace(stats))
        return stats
    pipeline = Pipeline(
        engine,
        watchlist,
        threshold,
        camera=spec.camera,
        sink=sink,
        config=config,
        on_template=on_template,
    )
    if holder is not None:
        holder.append(pipeline)
    return pipeline.run(source, stop)


class _QueueSink:
    """A camera process's sink: everything goes back to the parent."""

    def __init__(self, q, camera: str) -> None:
        self.q = q
        self.camera = camera

    def on_alert(self, event) -> None:
        self.q.put(("alert", self.camera, event))

    def on_status(self, stats: CameraStats) -> None:
        self.q.put(("status", self.camera, stats))

    def close(self) -> None:
        pass


def _camera_process(spec, watchlist, threshold, config, realtime, q, stop) -> None:
    # The parent turns Ctrl-C into `stop`; the child finishes its tracks and reports.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stats = CameraStats(camera=spec.camera, source=redact(spec.source), state="failed")
    try:
        engine = live_engine(config.backend)
        stats = _run_one(
            spec, engine, watchlist, threshold, config, _QueueSink(q, spec.camera), realtime, stop
        )
    except Exception as exc:  # report, never a silent death
        stats.error = redact(f"{type(exc).__name__}: {exc}")
    q.put(("done", spec.camera, stats))


def run_cameras(
    sources: Sequence[str],
    watchlist,
    threshold: Threshold,
    *,
    sink: Sink,
    config: PipelineConfig | None = None,
    realtime: bool = False,
    stop: threading.Event | None = None,
    engine=None,
    on_template=None,
) -> Summary:
    """Run every source to its end (or until ``stop``); returns the counters of each.

    ``realtime``: play files at their frame rate (live streams always are).
    ``on_template``: test hook, single-camera runs only (see `Pipeline`).
    """
    config = config or PipelineConfig()
    specs = camera_specs(sources)
    started = time.monotonic()
    summary = Summary(
        threshold=threshold.value,
        threshold_source=threshold.source,
        expected_fpir=threshold.expected_fpir,
        model_id=watchlist.model_id,
        watchlist_subjects=len(watchlist.enrolled_subjects),
        watchlist_templates=len(watchlist.template_subjects),
    )
    stop = stop or threading.Event()
    if len(specs) == 1:
        if engine is None:
            engine = live_engine(config.backend)
        holder: list[Pipeline] = []
        try:
            stats = _run_one(
                specs[0], engine, watchlist, threshold, config, sink, realtime, stop,
                on_template, holder,
            )  # fmt: skip
        except KeyboardInterrupt:
            # Pipeline.run has finished its tracks on the way out; keep its counters.
            summary.interrupted = True
            stats = holder[0].stats if holder else CameraStats(camera=specs[0].camera)
        summary.cameras = [stats]
    else:
        collected: dict[str, CameraStats] = {}
        try:
            _run_processes(specs, watchlist, threshold, config, sink, realtime, stop, collected)
        except KeyboardInterrupt:
            summary.interrupted = True
        summary.cameras = [
            collected.get(s.camera) or CameraStats(camera=s.camera, state="interrupted")
            for s in specs
        ]
    summary.wall_seconds = time.monotonic() - started
    return summary


def _run_processes(specs, watchlist, threshold, config, sink, realtime, stop, final) -> None:
    ctx = mp.get_context("spawn")  # fork can deadlock after OpenCV's thread pool ran
    q = ctx.Queue()
    child_stop = ctx.Event()
    child_config = replace(config, workers=0)
    procs = {}
    for spec in specs:
        p = ctx.Process(
            target=_camera_process,
            args=(spec, watchlist, threshold, child_config, realtime, q, child_stop),
            name=f"camera-{spec.camera}",
            daemon=True,
        )
        p.start()
        procs[spec.camera] = p
    try:
        while len(final) < len(specs):
            if stop.is_set():
                child_stop.set()
            try:
                kind, camera, payload = q.get(timeout=0.5)
            except queue.Empty:
                for camera, p in procs.items():
                    if camera not in final and not p.is_alive() and p.exitcode not in (0, None):
                        final[camera] = CameraStats(
                            camera=camera,
                            state="failed",
                            error=f"camera process died (exit code {p.exitcode})",
                        )
                continue
            if kind == "alert":
                sink.on_alert(payload)
            elif kind == "status":
                sink.on_status(payload)
            elif kind == "done":
                final[camera] = payload
                sink.on_status(payload)
    except KeyboardInterrupt:
        # Ask the cameras to finish, collect their counters, then re-raise.
        child_stop.set()
        deadline = time.monotonic() + 10
        while len(final) < len(specs) and time.monotonic() < deadline:
            try:
                kind, camera, payload = q.get(timeout=0.5)
            except queue.Empty:
                continue
            if kind == "alert":
                sink.on_alert(payload)
            elif kind == "done":
                final[camera] = payload
        raise
    finally:
        for p in procs.values():
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
