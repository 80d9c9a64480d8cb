"""Watchlists: the list, one watchlist with its members, the enrolment form (drag and drop;
console.js sends the images to the API, which judges each one) and the authorisation step
for the deployments that will use it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.routes import watchlists as api_watchlists
from openlfr.api.schemas import Id, WatchlistIn
from openlfr.api.security import requires
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.domain.clock import utcnow
from openlfr.domain.subjects import Category
from openlfr.errors import OpenLFRError
from openlfr.web.render import ConsoleRoute, page

router = APIRouter(prefix="/console/watchlists", route_class=ConsoleRoute, include_in_schema=False)
WM, AO = Role.WATCHLIST_MANAGER, Role.AUTHORISING_OFFICER


def _members(ctx: AppContext, watchlist_id: str) -> list[dict]:
    now = utcnow()
    out = []
    for sid in ctx.store.watchlists.members(watchlist_id):
        subject = ctx.store.subjects.get(sid)
        out.append(
            {
                "s": subject,
                "images": len(ctx.store.subjects.image_ids(sid)),
                "expired": subject.is_expired(now),
            }
        )
    return sorted(out, key=lambda m: m["s"].display_name.lower())


@router.get("")
def watchlists(
    request: Request, ctx: AppContext = Depends(get_ctx), who: Principal = requires(WM, AO)
):
    return page(request, "watchlists.html", who, watchlists=ctx.listing.watchlists())


@router.post("")
def create(
    request: Request,
    name: Annotated[str, Form(max_length=200)],
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(WM),
):
    try:
        made = api_watchlists.create_watchlist(WatchlistIn(name=name.strip()), ctx, who)
    except (OpenLFRError, ValueError) as exc:
        message = str(exc).splitlines()[0]
        return page(
            request, "watchlists.html", who, 422, watchlists=ctx.listing.watchlists(), error=message
        )
    target = f"/console/watchlists/{made['id']}"
    if request.headers.get("HX-Request"):  # htmx follows this header with a full page load
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.get("/{watchlist_id}")
def watchlist(
    watchlist_id: Id,
    request: Request,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(WM, AO),
):
    info = ctx.listing.watchlist(watchlist_id)
    deployments = [d for d in ctx.store.deployments.find() if d.watchlist_id == watchlist_id]
    return page(
        request, "watchlist.html", who, wl=info, members=_members(ctx, watchlist_id),
        deployments=deployments, categories=list(Category),
    )  # fmt: skip


@router.get("/{watchlist_id}/members")
def members(
    watchlist_id: Id,
    request: Request,
    ctx: AppContext = Depends(get_ctx),
    who: Principal = requires(WM, AO),
):
    """The members table, re-fetched after an enrolment."""
    info = ctx.listing.watchlist(watchlist_id)
    return page(request, "_members.html", who, wl=info, members=_members(ctx, watchlist_id))
