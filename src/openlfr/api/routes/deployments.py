"""Deployments: plan, authorise, snapshot, start, close, cancel, threshold; records."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.schemas import DeploymentIn, Id, ReasonIn, ThresholdIn
from openlfr.api.security import requires
from openlfr.api.views import deployment_json, record_csv
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.domain.clock import utcnow
from openlfr.domain.deployments import Deployment, DeploymentState
from openlfr.domain.errors import DeploymentStateError

router = APIRouter(prefix="/api/deployments", tags=["deployments"])
AO, OP, AUD = Role.AUTHORISING_OFFICER, Role.OPERATOR, Role.AUDITOR


@router.get("")
def list_deployments(
    state: DeploymentState | None = None,
    ctx: AppContext = Depends(get_ctx),
    _: Principal = requires(AO, OP, AUD),
) -> dict:
    return {
        "deployments": [
            deployment_json(d, ctx.store.cameras.displays(d.id))
            for d in ctx.store.deployments.find(state)
        ]
    }


@router.post("", status_code=status.HTTP_201_CREATED)
def create_deployment(
    body: DeploymentIn, ctx: AppContext = Depends(get_ctx), who: Principal = requires(OP)
) -> dict:
    """Plan a deployment (state planned). An authorising officer must authorise it."""
    threshold = body.threshold if body.threshold is not None else ctx.default_threshold
    names = [c if isinstance(c, str) else c.name for c in body.cameras]
    sources = {c.name: c.source for c in body.cameras if not isinstance(c, str) and c.source}
    deployment = Deployment(
        body.location, body.borough, body.use_case, body.start, body.end,
        tuple(names), threshold, who.name, watchlist_id=body.watchlist_id, name=body.name,
    )  # fmt: skip
    did = ctx.store.deployments.create(deployment, who.name, sources)
    return deployment_json(ctx.store.deployments.get(did), ctx.store.cameras.displays(did))


@router.get("/{deployment_id}")
def get_deployment(
    deployment_id: Id, ctx: AppContext = Depends(get_ctx), _: Principal = requires(AO, OP, AUD)
) -> dict:
    return deployment_json(
        ctx.store.deployments.get(deployment_id), ctx.store.cameras.displays(deployment_id)
    )


@router.post("/{deployment_id}/authorise")
def authorise(
    deployment_id: Id, ctx: AppContext = Depends(get_ctx), who: Principal = requires(AO)
) -> dict:
    """The authorising officer (the caller) approves the deployment."""
    return deployment_json(ctx.store.deployments.authorise(deployment_id, who.name))


@router.post("/{deployment_id}/snapshot")
def build_snapshot(
    deployment_id: Id,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(OP, biometric="watchlist_snapshot"),
) -> dict:
    """Freeze the watchlist for this deployment (no earlier than 24 h before its start)."""
    info = ctx.store.watchlists.build_snapshot(deployment_id, who.name)
    return {
        "snapshot_id": info.id,
        "deployment_id": info.deployment_id,
        "built_at": info.built_at.isoformat(),
        "subjects": info.size,
        "templates": info.templates,
    }


@router.post("/{deployment_id}/start")
def start(
    deployment_id: Id,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(OP, biometric="watchlist_snapshot"),
) -> dict:
    """Go live: authorised, inside the planned window, with a snapshot (built now if the
    deployment has none). The live pipelines are then started."""
    now = utcnow()
    current = ctx.store.deployments.get(deployment_id)
    if current.snapshot_built_at is None:
        # Check what go_live will check before building, so a refused start writes nothing.
        probe = Deployment(**{**current.__dict__, "snapshot_built_at": now})
        probe.go_live(now)
        ctx.store.watchlists.build_snapshot(deployment_id, who.name, now=now)
    deployment = ctx.store.deployments.go_live(deployment_id, who.name)
    ctx.supervisor.deployment_changed(deployment_id)
    return deployment_json(deployment)


@router.post("/{deployment_id}/close")
def close(
    deployment_id: Id, ctx: AppContext = Depends(get_ctx), who: Principal = requires(OP)
) -> dict:
    """End a live deployment; its watchlist snapshot is deleted within 24 hours."""
    deployment = ctx.store.deployments.close(deployment_id, who.name)
    ctx.supervisor.deployment_changed(deployment_id)
    return deployment_json(deployment)


@router.post("/{deployment_id}/cancel")
def cancel(
    deployment_id: Id,
    body: ReasonIn,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(OP, AO),
) -> dict:
    return deployment_json(ctx.store.deployments.cancel(deployment_id, who.name, body.reason))


@router.post("/{deployment_id}/threshold")
def change_threshold(
    deployment_id: Id,
    body: ThresholdIn,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(AO),
) -> dict:
    """Change the alert threshold (audited with the reason); live pipelines follow it."""
    deployment = ctx.store.deployments.change_threshold(
        deployment_id, body.threshold, who.name, body.reason
    )
    ctx.supervisor.deployment_changed(deployment_id)
    return deployment_json(deployment)


@router.get(
    "/{deployment_id}/record",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def record(
    deployment_id: Id,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    ctx: AppContext = Depends(get_ctx),
    _: Principal = requires(AO, OP, AUD),
):
    """The deployment record, computed from the stored data."""
    rec = ctx.store.deployments.record(deployment_id)
    if format == "csv":
        return Response(
            record_csv(rec),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="deployment-record.csv"'},
        )
    return rec.as_dict()


__all__ = ["DeploymentStateError", "router"]
