"""The live alert queue: the page, one alert's card (fetched when the SSE stream announces
it), and the operator's decisions, made through the API's own route functions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.routes import alerts as api_alerts
from openlfr.api.schemas import AdjudicationIn, Id, OutcomeIn
from openlfr.api.security import requires
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.domain.alerts import Outcome, Verdict
from openlfr.errors import OpenLFRError
from openlfr.store.listing import AlertView
from openlfr.web import fpir
from openlfr.web.render import ConsoleRoute, page

router = APIRouter(prefix="/console/alerts", route_class=ConsoleRoute, include_in_schema=False)
OP, AO = Role.OPERATOR, Role.AUTHORISING_OFFICER

# Keyboard shortcuts, shown on the buttons and handled by console.js.
VERDICT_KEYS = {Verdict.TRUE_ALERT: "m", Verdict.FALSE_ALERT: "n"}
OUTCOME_KEYS = {
    Outcome.NOT_ENGAGED: "1",
    Outcome.ENGAGED_NO_FURTHER_ACTION: "2",
    Outcome.ENGAGED_ARRESTED: "3",
    Outcome.ENGAGED_OTHER_DISPOSAL: "4",
}


def card_context(ctx: AppContext, view: AlertView, sizes: dict[str, tuple[int, str]]) -> dict:
    """What one alert card shows besides the alert: the subject's reason, the reference
    image ids, and the expected false alert rate at the threshold the alert met."""
    alert = view.alert
    subject, image_ids = None, []
    if alert.subject_id is not None:
        try:
            subject = ctx.store.subjects.get(alert.subject_id)
            image_ids = ctx.store.subjects.image_ids(alert.subject_id)
        except OpenLFRError:  # deleted since the alert (the alert keeps its facts)
            subject = None
    if alert.deployment_id not in sizes:  # one look-up per deployment per page
        rec = ctx.store.deployments.record(alert.deployment_id)
        sizes[alert.deployment_id] = (rec.watchlist_size, f"{rec.location}, {rec.borough}")
    watchlist_size, where = sizes[alert.deployment_id]
    model = fpir.subject_model(ctx.store, alert.subject_id)
    return {
        "view": view,
        "a": alert,
        "subject": subject,
        "image_ids": image_ids[:3],
        "expected_far": fpir.describe(model, view.threshold, watchlist_size),
        "where": where,
        "verdict_keys": VERDICT_KEYS,
        "outcome_keys": OUTCOME_KEYS,
    }


@router.get("")
def queue(
    request: Request,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(OP, AO),
):
    """Alerts awaiting a decision first, then the most recent decided ones."""
    sizes: dict[str, tuple[int, str]] = {}
    pending = ctx.listing.alerts(None, True, 50, 0)
    decided = ctx.listing.alerts(None, False, 20, 0)
    cards = [card_context(ctx, v, sizes) for v in pending + decided]
    return page(request, "alerts.html", who, cards=cards, pending=len(pending))


@router.get("/{alert_id}/card")
def card(
    alert_id: Id, request: Request, ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(OP, AO),
):  # fmt: skip
    view = ctx.listing.alert(alert_id)
    return page(request, "_alert_card.html", who, **card_context(ctx, view, {}))


def _decide(request, ctx, who, alert_id, call) -> object:
    error = None
    try:
        call()
    except (OpenLFRError, ValueError) as exc:  # shown on the card, which keeps its state
        error = str(exc).splitlines()[0]
    view = ctx.listing.alert(alert_id)
    return page(request, "_alert_card.html", who, error=error, **card_context(ctx, view, {}))


@router.post("/{alert_id}/verdict")
def verdict(
    alert_id: Id,
    request: Request,
    verdict: Annotated[Verdict, Form()],
    override_reason: Annotated[str | None, Form(max_length=1000)] = None,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(OP),
):
    """Match (true alert) or no match (false alert); audited by the store."""

    def call():
        body = AdjudicationIn(verdict=verdict, override_reason=(override_reason or None))
        api_alerts.adjudicate(alert_id, body, ctx, who)

    return _decide(request, ctx, who, alert_id, call)


@router.post("/{alert_id}/outcome")
def outcome(
    alert_id: Id,
    request: Request,
    outcome: Annotated[Outcome, Form()],
    override_reason: Annotated[str | None, Form(max_length=1000)] = None,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(OP),
):

    def call():
        body = OutcomeIn(outcome=outcome, override_reason=(override_reason or None))
        api_alerts.outcome(alert_id, body, ctx, who)

    return _decide(request, ctx, who, alert_id, call)
