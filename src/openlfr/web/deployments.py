"""Deployments: the list, one deployment's page with its live panel (state, window,
cameras and their stream state, counters, threshold) and the state buttons, which call
the API's own route functions so that the checks and the audit are the API's."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.metrics import Metrics
from openlfr.api.routes import deployments as api_deployments
from openlfr.api.schemas import Id
from openlfr.api.security import requires
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.errors import OpenLFRError
from openlfr.web.render import ConsoleRoute, page

router = APIRouter(prefix="/console/deployments", route_class=ConsoleRoute, include_in_schema=False)
AO, OP, AUD = Role.AUTHORISING_OFFICER, Role.OPERATOR, Role.AUDITOR


def camera_states(metrics: Metrics, deployment_id: str) -> dict[str, str]:
    """Each camera's stream state as the live pipeline last reported it."""
    out: dict[str, str] = {}
    for family in metrics.camera_state.collect():
        for sample in family.samples:
            labels = sample.labels
            if labels.get("deployment") == deployment_id and sample.value >= 1.0:
                out[labels["camera"]] = labels["state"]
    return out


def _panel(ctx: AppContext, deployment_id: str) -> dict:
    deployment = ctx.store.deployments.get(deployment_id)
    states = camera_states(ctx.metrics, deployment_id)
    live = deployment.state.value == "live"
    cameras = [
        (name, states.get(name, "not reported" if live else "off")) for name in deployment.cameras
    ]
    return {
        "d": deployment,
        "rec": ctx.store.deployments.record(deployment_id),
        "cameras": cameras,
    }


@router.get("")
def deployments(
    request: Request, ctx: AppContext = Depends(get_ctx), who: Principal = requires(AO, OP, AUD)
):
    items = sorted(ctx.store.deployments.find(), key=lambda d: d.planned_start, reverse=True)
    return page(request, "deployments.html", who, deployments=items)


@router.get("/{deployment_id}")
def deployment(
    deployment_id: Id,
    request: Request,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(AO, OP, AUD),
):
    return page(request, "deployment.html", who, **_panel(ctx, deployment_id))


@router.get("/{deployment_id}/panel")
def panel(
    deployment_id: Id,
    request: Request,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(AO, OP, AUD),
):
    """The live part of the page, re-fetched every few seconds and on each new alert."""
    return page(request, "_deployment_panel.html", who, **_panel(ctx, deployment_id))


def _act(request, ctx, who, deployment_id, call):
    error = None
    try:
        call()
    except OpenLFRError as exc:
        error = str(exc)
    return page(request, "_deployment_panel.html", who, error=error, **_panel(ctx, deployment_id))


@router.post("/{deployment_id}/authorise")
def authorise(
    deployment_id: Id, request: Request, ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(AO),
):  # fmt: skip
    return _act(
        request, ctx, who, deployment_id,
        lambda: api_deployments.authorise(deployment_id, ctx, who),
    )  # fmt: skip


@router.post("/{deployment_id}/start")
def start(
    deployment_id: Id, request: Request, ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(OP, biometric="watchlist_snapshot"),
):  # fmt: skip
    return _act(
        request, ctx, who, deployment_id, lambda: api_deployments.start(deployment_id, ctx, who)
    )


@router.post("/{deployment_id}/close")
def close(
    deployment_id: Id, request: Request, ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(OP),
):  # fmt: skip
    return _act(
        request, ctx, who, deployment_id, lambda: api_deployments.close(deployment_id, ctx, who)
    )
