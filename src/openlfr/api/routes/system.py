"""Health and metrics for operations."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.metrics import CONTENT_TYPE_LATEST
from openlfr.api.security import public, requires
from openlfr.auth.roles import Role


def make_router(metrics_public: bool) -> APIRouter:
    router = APIRouter(tags=["system"])
    metrics_policy = public() if metrics_public else requires(Role.ADMIN, Role.AUDITOR)

    @router.get("/healthz")
    def healthz(ctx: AppContext = Depends(get_ctx), _: None = public()):
        """200 when the database answers; 503 otherwise."""
        from sqlalchemy import text

        try:
            with ctx.store.transaction() as s:
                s.execute(text("SELECT 1"))
        except Exception:
            return Response(
                '{"status":"unavailable","database":"unreachable"}',
                status_code=503,
                media_type="application/json",
            )
        return {"status": "ok", "database": ctx.store.dialect}

    @router.get("/metrics", response_class=Response)
    def metrics(ctx: AppContext = Depends(get_ctx), _: object = metrics_policy) -> Response:
        """Prometheus text format (an admin or auditor credential, e.g. an API token for
        the scraper, unless the settings make it public)."""
        return Response(ctx.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router
