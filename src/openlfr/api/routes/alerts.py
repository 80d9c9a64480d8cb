"""Alerts: list, view, adjudicate, outcome, the captured image, and the live stream (SSE)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.routes.watchlists import Purpose, _form_text
from openlfr.api.schemas import AdjudicationIn, Id, OutcomeIn
from openlfr.api.security import requires
from openlfr.api.views import alert_json
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role

router = APIRouter(prefix="/api/alerts", tags=["alerts"])
AO, OP, AUD = Role.AUTHORISING_OFFICER, Role.OPERATOR, Role.AUDITOR
HEARTBEAT_SECONDS = 15.0


@router.get("")
def list_alerts(
    deployment_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9-]+$")] = None,
    unadjudicated: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ctx: AppContext = Depends(get_ctx),
    _: Principal = requires(OP, AO, AUD),
) -> dict:
    views = ctx.listing.alerts(deployment_id, unadjudicated, limit, offset)
    return {"alerts": [alert_json(v) for v in views]}


@router.get("/stream", response_class=StreamingResponse)
async def stream(
    request: Request, ctx: AppContext = Depends(get_ctx), _: Principal = requires(OP, AO)
) -> StreamingResponse:
    """New alerts as Server-Sent Events (`event: alert`, data: the alert as JSON; a comment
    line every 15 s keeps the connection open)."""
    broker, metrics = ctx.broker, ctx.metrics
    heartbeat = getattr(request.app.state, "sse_heartbeat", HEARTBEAT_SECONDS)

    async def events():
        subscription = broker.subscribe(heartbeat)
        metrics.sse_clients.inc()
        try:
            yield ": connected\n\n"
            async for message in subscription:
                if await request.is_disconnected():
                    break
                if message is None:
                    yield ": keep-alive\n\n"
                    continue
                data = json.dumps(message, separators=(",", ":"))
                yield f"event: alert\nid: {message.get('id', '')}\ndata: {data}\n\n"
        finally:
            subscription.close()
            metrics.sse_clients.dec()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/{alert_id}")
def get_alert(
    alert_id: Id, ctx: AppContext = Depends(get_ctx), _: Principal = requires(OP, AO, AUD)
) -> dict:
    return alert_json(ctx.listing.alert(alert_id))


@router.post("/{alert_id}/adjudication")
def adjudicate(
    alert_id: Id, body: AdjudicationIn, ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(OP),
) -> dict:  # fmt: skip
    """True or false alert. Changing a decision needs an override reason (both are kept)."""
    ctx.store.alerts.adjudicate(alert_id, body.verdict, who.name, body.override_reason)
    return alert_json(ctx.listing.alert(alert_id))


@router.post("/{alert_id}/outcome")
def outcome(
    alert_id: Id, body: OutcomeIn, ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(OP),
) -> dict:  # fmt: skip
    ctx.store.alerts.set_outcome(alert_id, body.outcome, who.name, body.override_reason)
    return alert_json(ctx.listing.alert(alert_id))


@router.get(
    "/{alert_id}/image",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
def alert_image(
    alert_id: Id,
    purpose: Purpose,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(OP, biometric="alert_image"),
) -> Response:
    """The captured face, for side-by-side comparison; every view is audited."""
    data = ctx.store.alerts.view_live_image(alert_id, who.name, _form_text(purpose, "purpose", 300))
    media = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return Response(data, media_type=media, headers={"Cache-Control": "no-store"})
