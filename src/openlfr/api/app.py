"""The FastAPI application: `create_app(store, settings)`; OpenAPI at /docs."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from openlfr import __version__
from openlfr.api import errors
from openlfr.api.broker import AlertBroker
from openlfr.api.context import AppContext, NoPipelines, PipelineSupervisor
from openlfr.api.limits import BodySizeLimit
from openlfr.api.metrics import Metrics
from openlfr.api.retention import RetentionSchedule
from openlfr.api.routes import alerts, audit, auth, deployments, system, users, watchlists
from openlfr.api.security import check_all_routes_declare_a_policy
from openlfr.api.settings import ApiSettings
from openlfr.api.webhooks import WebhookDispatcher
from openlfr.store import Store

log = logging.getLogger("openlfr.api")

# Room for the multipart framing around the largest allowed image.
_ENVELOPE = 64 * 1024


def create_app(
    store: Store,
    settings: ApiSettings | None = None,
    supervisor: PipelineSupervisor | None = None,
    engine=None,
) -> FastAPI:
    """The API over an open store. `supervisor` attaches live pipelines (default: none);
    `engine` is the enrolment FaceEngine (default: loaded on first upload)."""
    settings = settings or ApiSettings()
    metrics = Metrics(store)
    broker = AlertBroker()
    ctx = AppContext(store, settings, broker, metrics, supervisor or NoPipelines(), engine)
    dispatcher = WebhookDispatcher(
        settings.webhooks,
        image_provider=lambda alert_id, actor: store.alerts.view_live_image(
            alert_id, actor, "webhook delivery to a control-room system"
        ),
        count=lambda result: metrics.webhook_deliveries.labels(result).inc(),
    )
    broker.add_listener(dispatcher.submit)
    retention = RetentionSchedule(store, settings.purge_interval_minutes, metrics=metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        dispatcher.start()
        retention.start()
        ctx.supervisor.start(ctx)
        try:
            yield
        finally:
            ctx.supervisor.stop()
            await retention.stop()
            dispatcher.stop()

    app = FastAPI(
        title="OpenLFR",
        version=__version__,
        description="Open, accountable Live Facial Recognition: watchlists, deployments, "
        "alerts, audit. Every route names the roles that may call it.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.webhooks = dispatcher
    app.state.retention = retention
    errors.install(app)
    for module in (auth, users, watchlists, deployments, alerts, audit):
        app.include_router(module.router)
    app.include_router(system.make_router(settings.metrics_public))
    from openlfr.web import router as console_router  # the operator console (HTML pages)

    app.include_router(console_router)
    check_all_routes_declare_a_policy(app.routes)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes + _ENVELOPE)
    return app
