"""Prometheus metrics: what the live pipeline reports (camera states, fps, faces seen,
alerts, queue depths) and what the store knows, read at scrape time."""

from __future__ import annotations

import contextlib
import logging

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select

from openlfr.domain.deployments import DeploymentState
from openlfr.store import Store
from openlfr.store.models import AlertRow, DeploymentRow, FaceCountRow

log = logging.getLogger("openlfr.api.metrics")

CAMERA_STATES = ("connecting", "live", "stalled", "reconnecting", "stopped")
__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class _StoreCollector:
    """Counts from the database, computed when Prometheus scrapes."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self):
        deployments = GaugeMetricFamily(
            "openlfr_deployments", "Deployments by state", labels=["state"]
        )
        alerts = GaugeMetricFamily(
            "openlfr_alerts_stored", "Stored alerts by verdict", labels=["verdict"]
        )
        faces = GaugeMetricFamily(
            "openlfr_live_faces_seen",
            "Faces seen so far by each live deployment (counts only)",
            labels=["deployment"],
        )
        try:
            with self.store.transaction() as s:
                by_state = dict(
                    s.execute(
                        select(DeploymentRow.state, func.count()).group_by(DeploymentRow.state)
                    ).all()
                )
                by_verdict = dict(
                    s.execute(
                        select(AlertRow.verdict, func.count()).group_by(AlertRow.verdict)
                    ).all()
                )
                live = s.execute(
                    select(DeploymentRow.id, func.coalesce(func.sum(FaceCountRow.faces_seen), 0))
                    .outerjoin(FaceCountRow, FaceCountRow.deployment_id == DeploymentRow.id)
                    .where(DeploymentRow.state == DeploymentState.LIVE.value)
                    .group_by(DeploymentRow.id)
                ).all()
        except Exception:  # a scrape must not fail because the database blinked
            log.exception("metrics: store unavailable")
            return
        for state in DeploymentState:
            deployments.add_metric([state.value], float(by_state.get(state.value, 0)))
        for key, label in (
            (None, "unadjudicated"),
            ("true_alert", "true"),
            ("false_alert", "false"),
        ):
            alerts.add_metric([label], float(by_verdict.get(key, 0)))
        for deployment_id, count in live:
            faces.add_metric([deployment_id], float(count))
        yield deployments
        yield alerts
        yield faces


class Metrics:
    """One registry per app. The live pipeline updates it through these methods."""

    def __init__(self, store: Store | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.camera_state = Gauge(
            "openlfr_camera_state",
            "1 for each camera's current source state, 0 for the others",
            ["deployment", "camera", "state"],
            registry=r,
        )
        self.camera_fps = Gauge(
            "openlfr_camera_fps", "Frames processed per second", ["deployment", "camera"],
            registry=r,
        )  # fmt: skip
        self.faces_seen = Counter(
            "openlfr_faces_seen", "Faces seen (counts only)", ["deployment", "camera"], registry=r
        )
        self.alerts = Counter("openlfr_alerts", "Alerts raised", ["deployment"], registry=r)
        self.queue_depth = Gauge(
            "openlfr_queue_depth", "Items waiting in an internal queue", ["queue"], registry=r
        )
        self.sse_clients = Gauge("openlfr_sse_clients", "Connected alert streams", registry=r)
        self.webhook_deliveries = Counter(
            "openlfr_webhook_deliveries", "Webhook delivery attempts", ["result"], registry=r
        )
        self.purges = Counter("openlfr_purges", "Retention purges run", ["result"], registry=r)
        if store is not None:
            r.register(_StoreCollector(store))

    def set_camera_state(self, deployment: str, camera: str, state: str) -> None:
        for s in CAMERA_STATES:
            self.camera_state.labels(deployment, camera, s).set(1.0 if s == state else 0.0)

    def set_fps(self, deployment: str, camera: str, fps: float) -> None:
        self.camera_fps.labels(deployment, camera).set(fps)

    def add_faces_seen(self, deployment: str, camera: str, count: int) -> None:
        self.faces_seen.labels(deployment, camera).inc(count)

    def add_alert(self, deployment: str) -> None:
        self.alerts.labels(deployment).inc()

    def set_queue_depth(self, queue: str, depth: int) -> None:
        self.queue_depth.labels(queue).set(depth)

    def forget_camera(self, deployment: str, camera: str) -> None:
        """Drop a stopped camera's series (a closed deployment's cameras are gone)."""
        for s in CAMERA_STATES:
            with contextlib.suppress(KeyError):
                self.camera_state.remove(deployment, camera, s)
        with contextlib.suppress(KeyError):
            self.camera_fps.remove(deployment, camera)

    def render(self) -> bytes:
        return generate_latest(self.registry)
