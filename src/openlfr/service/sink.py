"""The live pipeline's sink for a deployment: alerts are stored (and published) through the
service's alert sink; faces seen are stored as counts; camera state and fps go to metrics.

Only the alerting face's crop leaves the pipeline (sealed by the store). A store refusal
(e.g. the deployment was closed a moment ago) is logged and the pipeline goes on.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from openlfr.domain.alerts import AlertEvent as DomainAlertEvent
from openlfr.errors import OpenLFRError
from openlfr.live.alerts import AlertEvent
from openlfr.live.counters import CameraStats
from openlfr.live.redact import redact

log = logging.getLogger("openlfr.service")

# The pipeline's own states beside the source's (see live.source.SourceState).
_STATE = {"starting": "connecting", "finished": "stopped", "failed": "stopped"}


class ServiceSink(Protocol):
    """What `openlfr.api.context.AlertSink` offers."""

    def alert(self, event: DomainAlertEvent) -> str: ...

    def faces_seen(self, deployment_id: str, camera: str, count: int) -> None: ...


class MetricsLike(Protocol):
    def set_camera_state(self, deployment: str, camera: str, state: str) -> None: ...

    def set_fps(self, deployment: str, camera: str, fps: float) -> None: ...


def to_domain(event: AlertEvent, deployment_id: str) -> DomainAlertEvent:
    """The live pipeline's alert as the store's: the probe crop is the kept image."""
    return DomainAlertEvent(deployment_id=deployment_id, **event.domain_fields())


class DeploymentSink:
    """A `openlfr.live.sinks.Sink` for one camera of one deployment."""

    def __init__(
        self,
        deployment_id: str,
        camera: str,
        service: ServiceSink,
        metrics: MetricsLike | None = None,
    ) -> None:
        self.deployment_id, self.camera = deployment_id, camera
        self.service, self.metrics = service, metrics
        self.alert_ids: list[str] = []
        self.faces_recorded = 0
        self.last: CameraStats | None = None
        self._lock = threading.Lock()

    def on_alert(self, event: AlertEvent) -> None:
        try:
            self.alert_ids.append(self.service.alert(to_domain(event, self.deployment_id)))
        except OpenLFRError as exc:
            log.warning("deployment %s camera %s: alert not stored: %s",
                        self.deployment_id, self.camera, redact(exc))  # fmt: skip
        except Exception:
            log.exception("deployment %s camera %s: alert not stored",
                          self.deployment_id, self.camera)  # fmt: skip

    def on_status(self, stats: CameraStats) -> None:
        self.last = stats
        with self._lock:
            delta = stats.faces_seen - self.faces_recorded
            if delta > 0:
                try:
                    self.service.faces_seen(self.deployment_id, self.camera, delta)
                    self.faces_recorded += delta
                except OpenLFRError as exc:
                    log.warning("deployment %s camera %s: %d faces not counted: %s",
                                self.deployment_id, self.camera, delta, redact(exc))  # fmt: skip
        if self.metrics is not None:
            self.metrics.set_camera_state(
                self.deployment_id, self.camera, _STATE.get(stats.state, stats.state)
            )
            self.metrics.set_fps(self.deployment_id, self.camera, stats.fps)

    def close(self) -> None:
        pass
