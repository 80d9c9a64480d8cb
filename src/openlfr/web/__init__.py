"""The operator console: server-rendered pages (Jinja2) with htmx for partial updates and
the API's Server-Sent Events for live alerts. No build step and no single-page framework:
every page is HTML from the server, works with the keyboard, and uses the API's own
policies, CSRF protection and audited store calls.

    app.include_router(openlfr.web.router)   # done by openlfr.api.create_app
"""

from __future__ import annotations

from fastapi import APIRouter

from openlfr.web import alerts, audit, deployments, pages, reports, watchlists


def make_router() -> APIRouter:
    router = APIRouter()
    for module in (pages, alerts, deployments, watchlists, audit, reports):
        router.include_router(module.router)
    return router


router = make_router()

__all__ = ["make_router", "router"]
