"""The HTTP API: FastAPI routers per concern, roles on every route, SSE alerts, metrics,
webhooks. `create_app(store, settings)` builds it; `openlfr serve` runs it."""

from openlfr.api.app import create_app
from openlfr.api.broker import AlertBroker
from openlfr.api.context import AlertSink, AppContext, NoPipelines, PipelineSupervisor
from openlfr.api.metrics import Metrics
from openlfr.api.settings import ApiSettings, WebhookTarget

__all__ = [
    "AlertBroker",
    "AlertSink",
    "ApiSettings",
    "AppContext",
    "Metrics",
    "NoPipelines",
    "PipelineSupervisor",
    "WebhookTarget",
    "create_app",
]
