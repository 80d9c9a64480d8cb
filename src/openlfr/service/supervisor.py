"""Runs the live pipelines of live deployments: the API's `PipelineSupervisor`.

When a deployment is live, each of its cameras with a source runs the live pipeline in a
thread of this process, against the deployment's watchlist snapshot (decrypted into
memory, audited as a view of biometric data) at the deployment's threshold, feeding a
`DeploymentSink` (alerts stored and published, faces-seen counts, camera metrics). When
it is closed the pipelines stop; a threshold change reaches running pipelines at once.

The store is the source of truth: besides the API's `deployment_changed` calls, a poll
(every ``poll_seconds``) picks up changes made elsewhere, e.g. `openlfr deployment start`
or `close` run from the command line while `openlfr serve` runs.

    supervisor = LiveSupervisor(PipelineConfig(backend="dlib"))
    app = create_app(store, settings, supervisor=supervisor)     # the API starts it
    # or without the API (the CLI's `deployment start --until-sources-end`):
    supervisor.start(SimpleNamespace(store=store, sink=sink, metrics=metrics))
    supervisor.wait(deployment_id); supervisor.stop()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from openlfr.domain.deployments import DeploymentState
from openlfr.errors import OpenLFRError
from openlfr.gallery.identify import Threshold
from openlfr.live.counters import CameraStats
from openlfr.live.pipeline import Pipeline, PipelineConfig
from openlfr.live.redact import redact
from openlfr.service.sink import DeploymentSink
from openlfr.service.snapshot import SnapshotWatchlist

log = logging.getLogger("openlfr.service")

ACTOR = "system:pipelines"  # who views the snapshot templates, in the audit log


def _threshold(value: float, model_id: str, n_templates: int) -> Threshold:
    """The deployment's threshold, with the expected FPIR when a calibration knows it."""
    from openlfr.live.decision import choose_threshold

    try:
        return choose_threshold(model_id, n_templates, value)
    except OpenLFRError:
        return Threshold(float(value), "deployment")


@dataclass
class CameraRun:
    """One camera of a live deployment: its thread, pipeline and latest counters."""

    camera: str
    sink: DeploymentSink
    thread: threading.Thread | None = None
    pipeline: Pipeline | None = None
    stats: CameraStats | None = None

    @property
    def finished(self) -> bool:
        return self.thread is None or not self.thread.is_alive()


@dataclass
class DeploymentRun:
    deployment_id: str
    threshold: float
    stop: threading.Event = field(default_factory=threading.Event)
    cameras: dict[str, CameraRun] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return all(c.finished for c in self.cameras.values())

    def set_threshold(self, value: float) -> None:
        # The decider reads its threshold per shot: a change applies to the next face.
        self.threshold = value
        for cam in self.cameras.values():
            pipe = cam.pipeline
            if pipe is not None:
                pipe.threshold = replace(pipe.threshold, value=value, source="deployment")
                pipe.decider.threshold = float(value)


class LiveSupervisor:
    """Start, re-threshold and stop the pipelines of live deployments.

    ``config``: the pipeline settings (backend, workers...). ``realtime``: play video files
    at their frame rate, as a camera would (live streams always are). ``engine_factory``:
    makes one face engine per camera (default: the config's backend, no CNN fallback).
    ``poll_seconds``: how often the store is re-read for changes made elsewhere (0: never).
    """

    def __init__(
        self,
        config: PipelineConfig | None = None,
        *,
        realtime: bool = True,
        engine_factory: Callable[[], object] | None = None,
        poll_seconds: float = 5.0,
        source_options: dict | None = None,
    ) -> None:
        self.config = config or PipelineConfig()
        self.realtime = realtime
        self.engine_factory = engine_factory or self._default_engine
        self.poll_seconds = poll_seconds
        self.source_options = dict(source_options or {})
        self.ctx = None
        self.runs: dict[str, DeploymentRun] = {}
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._poller: threading.Thread | None = None

    def _default_engine(self):
        from openlfr.live.pipeline import live_engine

        return live_engine(self.config.backend)

    # -- the PipelineSupervisor protocol ------------------------------------------------------
    def attach(self, ctx) -> None:
        """Attach to the service (``ctx``: .store, .sink, .metrics) without starting
        anything (then `deployment_changed(id)` starts one deployment's pipelines)."""
        self.ctx = ctx
        self._closing.clear()

    def start(self, ctx) -> None:
        """Attach to the service and start the pipelines of deployments already live."""
        self.attach(ctx)
        self.reconcile()
        if self.poll_seconds > 0 and self._poller is None:
            self._poller = threading.Thread(target=self._poll, name="pipelines-poll", daemon=True)
            self._poller.start()

    def deployment_changed(self, deployment_id: str) -> None:
        self.reconcile(deployment_id)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop every pipeline (their tracks end, counts are flushed) and wait for them."""
        self._closing.set()
        with self._lock:
            runs = list(self.runs.values())
            self.runs.clear()
        for run in runs:
            self._stop_run(run, timeout)
        if self._poller is not None:
            self._poller.join(timeout)
            self._poller = None

    # -- for the CLI and tests ----------------------------------------------------------------
    def wait(
        self, deployment_id: str, timeout: float | None = None, cameras: list[str] | None = None
    ) -> bool:
        """Wait until every camera of the deployment (or those named) has ended: its source
        ended or failed, or the run was stopped. False on timeout."""
        with self._lock:
            run = self.runs.get(deployment_id)
        if run is None:
            return True
        for name, cam in run.cameras.items():
            if cameras is not None and name not in cameras:
                continue
            if cam.thread is not None:
                cam.thread.join(timeout)
                if cam.thread.is_alive():
                    return False
        return True

    def camera_stats(self, deployment_id: str) -> dict[str, CameraStats | None]:
        with self._lock:
            run = self.runs.get(deployment_id)
        if run is None:
            return {}
        return {name: cam.stats or cam.sink.last for name, cam in run.cameras.items()}

    # -- work ---------------------------------------------------------------------------------
    def reconcile(self, deployment_id: str | None = None) -> None:
        """Make the running pipelines match the store (one deployment, or all)."""
        if self.ctx is None or self._closing.is_set():
            return
        store = self.ctx.store
        with self._lock:
            if deployment_id is None:
                live = {d.id: d for d in store.deployments.find(DeploymentState.LIVE)}
                targets = set(live) | set(self.runs)
            else:
                try:
                    d = store.deployments.get(deployment_id)
                except OpenLFRError:
                    d = None
                live = {d.id: d} if d is not None and d.state is DeploymentState.LIVE else {}
                targets = {deployment_id}
            for did in targets:
                run = self.runs.get(did)
                deployment = live.get(did)
                if deployment is None and run is not None:
                    del self.runs[did]
                    self._stop_run(run)
                elif deployment is not None and run is None:
                    self.runs[did] = self._start_run(deployment)
                elif (
                    deployment is not None
                    and run is not None
                    and deployment.threshold != run.threshold
                ):
                    run.set_threshold(deployment.threshold)
                    log.info("deployment %s: threshold now %.4f", did, deployment.threshold)

    def _poll(self) -> None:
        while not self._closing.wait(self.poll_seconds):
            try:
                self.reconcile()
            except Exception:  # a database blink must not end the supervisor
                log.exception("pipelines: reconcile failed")

    def _start_run(self, deployment) -> DeploymentRun:
        store, did = self.ctx.store, deployment.id
        run = DeploymentRun(did, deployment.threshold)
        try:
            sources = store.cameras.sources(did)
            entries = store.watchlists.snapshot_templates(did, ACTOR)
        except OpenLFRError as exc:
            log.error("deployment %s: pipelines not started: %s", did, redact(exc))
            return run
        metrics = getattr(self.ctx, "metrics", None)
        for camera in deployment.cameras:
            sink = DeploymentSink(did, camera, self.ctx.sink, metrics)
            cam = CameraRun(camera, sink)
            run.cameras[camera] = cam
            url = sources.get(camera)
            if url is None:
                log.warning("deployment %s camera %s: no source configured", did, camera)
                cam.stats = CameraStats(camera=camera, state="failed", error="no source configured")
                if metrics is not None:
                    metrics.set_camera_state(did, camera, "stopped")
                continue
            cam.thread = threading.Thread(
                target=self._camera_main,
                args=(run, cam, url, entries),
                name=f"pipeline-{did[:8]}-{camera}",
                daemon=True,
            )
            cam.thread.start()
        log.info("deployment %s: %d camera pipelines started", did, len(sources))
        return run

    def _camera_main(self, run: DeploymentRun, cam: CameraRun, url: str, entries) -> None:
        from openlfr.live.source import VideoSource

        did, shown = run.deployment_id, redact(url)
        stats = CameraStats(camera=cam.camera, source=shown, state="failed")
        try:
            engine = self.engine_factory()
            watchlist = SnapshotWatchlist.from_entries(did, entries, engine.model_id)
            threshold = _threshold(run.threshold, watchlist.model_id, len(watchlist.templates))
            pipeline = Pipeline(
                engine, watchlist, threshold, camera=cam.camera, sink=cam.sink, config=self.config
            )
            cam.pipeline = pipeline
            if run.stop.is_set():
                return
            if run.threshold != threshold.value:  # changed while the engine loaded
                run.set_threshold(run.threshold)
            source = VideoSource(url, cam.camera, realtime=self.realtime, **self.source_options)
            stats = pipeline.run(source, run.stop)
        except Exception as exc:  # one camera's failure stops no other
            stats.error = redact(f"{type(exc).__name__}: {exc}")
            log.error("deployment %s camera %s: %s", did, cam.camera, stats.error)
            cam.sink.on_status(replace(stats))
        finally:
            stats.source = shown
            cam.stats = stats

    def _stop_run(self, run: DeploymentRun, timeout: float = 15.0) -> None:
        run.stop.set()
        metrics = getattr(self.ctx, "metrics", None)
        for cam in run.cameras.values():
            if cam.thread is not None:
                cam.thread.join(timeout)
                if cam.thread.is_alive():
                    log.warning("deployment %s camera %s: pipeline still stopping",
                                run.deployment_id, cam.camera)  # fmt: skip
            if metrics is not None and hasattr(metrics, "forget_camera"):
                metrics.forget_camera(run.deployment_id, cam.camera)
        log.info("deployment %s: pipelines stopped", run.deployment_id)
