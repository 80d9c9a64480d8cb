"""What the routes share: the store, settings, broker, metrics, the face engine (loaded on
first use) and the hook through which live pipelines are attached."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from fastapi import Request

from openlfr.api.broker import AlertBroker
from openlfr.api.metrics import Metrics
from openlfr.api.settings import ApiSettings
from openlfr.domain.alerts import AlertEvent
from openlfr.store import Store
from openlfr.store.listing import Listing

if TYPE_CHECKING:
    from openlfr.vision.engine import FaceEngine


class PipelineSupervisor(Protocol):
    """The hook for live pipelines (defined by the live pipeline work, attached here).

    `start` runs when the service starts: attach pipelines for deployments already live,
    feeding `ctx.sink`. `deployment_changed` runs after a deployment went live, closed or
    changed threshold through the API: start, stop or re-threshold its pipelines.
    `stop` runs at shutdown."""

    def start(self, ctx: AppContext) -> None: ...

    def deployment_changed(self, deployment_id: str) -> None: ...

    def stop(self) -> None: ...


class NoPipelines:
    """The supervisor used until live pipelines are attached: does nothing."""

    def start(self, ctx: AppContext) -> None:
        pass

    def deployment_changed(self, deployment_id: str) -> None:
        pass

    def stop(self) -> None:
        pass


class AlertSink:
    """Where a live pipeline delivers its output: alerts are stored, counted, published
    (SSE clients and webhooks); faces seen are stored as counts only."""

    def __init__(self, store: Store, broker: AlertBroker, metrics: Metrics) -> None:
        self.store, self.broker, self.metrics = store, broker, metrics

    def alert(self, event: AlertEvent) -> str:
        alert_id = self.store.alerts.create_from_event(event)
        alert = self.store.alerts.get(alert_id)
        self.metrics.add_alert(event.deployment_id)
        self.broker.publish(alert)
        return alert_id

    def faces_seen(self, deployment_id: str, camera: str, count: int) -> None:
        self.store.deployments.record_faces_seen(deployment_id, camera, count)
        self.metrics.add_faces_seen(deployment_id, camera, count)


@dataclass
class AppContext:
    store: Store
    settings: ApiSettings
    broker: AlertBroker
    metrics: Metrics
    supervisor: PipelineSupervisor
    engine: FaceEngine | None = None  # loaded on first enrolment unless given
    listing: Listing = field(init=False)
    sink: AlertSink = field(init=False)
    engine_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.listing = Listing(self.store)
        self.sink = AlertSink(self.store, self.broker, self.metrics)

    def face_engine(self) -> FaceEngine:
        """The enrolment engine (callers hold engine_lock while using it: one at a time)."""
        if self.engine is None:
            from openlfr.vision.engine import FaceEngine

            self.engine = FaceEngine.from_backend(self.settings.engine_backend)
        return self.engine

    @property
    def default_threshold(self) -> float:
        return self.settings.threshold_for(lambda: self.face_engine().model_id)

    @property
    def duplicate_threshold(self) -> float:
        return self.settings.duplicate_threshold or self.default_threshold


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx
