"""Rendering console pages: the Jinja2 environment, page responses, and the route class that
turns refusals into pages (a login form with 401, a 'not allowed' page with 403) instead of
the API's JSON, so a person in a browser sees what to do next."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from openlfr.api.security import SESSION_COOKIE, csrf_token_for
from openlfr.auth.errors import AuthError, LoginThrottled, PermissionDenied
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role

TEMPLATES = Path(__file__).parent / "templates"

# Navigation: (label, path, roles that see it). The pages enforce the same roles.
NAV: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("Alert queue", "/console/alerts", frozenset({Role.OPERATOR, Role.AUTHORISING_OFFICER})),
    (
        "Deployments",
        "/console/deployments",
        frozenset({Role.OPERATOR, Role.AUTHORISING_OFFICER, Role.AUDITOR}),
    ),
    (
        "Watchlists",
        "/console/watchlists",
        frozenset({Role.WATCHLIST_MANAGER, Role.AUTHORISING_OFFICER}),
    ),
    ("Reports", "/console/reports", frozenset({Role.AUTHORISING_OFFICER, Role.AUDITOR})),
    ("Audit log", "/console/audit", frozenset({Role.AUDITOR})),
)


def _when(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime(fmt) + (" UTC" if value.utcoffset() is not None else "")


def _label(value: object) -> str:
    """An enum value as words: 'engaged_no_further_action' -> 'Engaged, no further action'."""
    text = str(getattr(value, "value", value) or "")
    special = {
        "engaged_no_further_action": "Engaged, no further action",
        "engaged_arrested": "Engaged, arrested",
        "engaged_other_disposal": "Engaged, other disposal",
        "true_alert": "True alert (match)",
        "false_alert": "False alert (no match)",
    }
    return special.get(text, text.replace("_", " ").capitalize())


def _tojson_attr(value: object) -> Markup:
    return Markup(json.dumps(value).replace("&", "&amp;").replace("'", "&#39;"))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["label"] = _label
    env.filters["attrjson"] = _tojson_attr
    return env


ENV = _environment()


def nav_for(who: Principal | None) -> list[tuple[str, str]]:
    if who is None:
        return []
    return [(label, path) for label, path, roles in NAV if who.roles & roles]


def page(
    request: Request,
    template: str,
    who: Principal | None = None,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    """A full page (or, for names starting with '_', a fragment for htmx to swap in)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    html = ENV.get_template(template).render(
        request=request,
        who=who,
        roles={r.value for r in who.roles} if who else set(),
        nav=nav_for(who),
        path=request.url.path,
        csrf=csrf_token_for(cookie) if cookie else "",
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


class ConsoleRoute(APIRoute):
    """Refusals become pages: no session -> the login form (401; after logging in the
    browser comes back to the same address); a missing role -> a 403 page."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def console_handler(request: Request):
            try:
                return await handler(request)
            except LoginThrottled:
                raise  # the API's 429 with Retry-After says it best
            except AuthError as exc:
                response = page(
                    request, "login.html", status_code=401, next=request.url.path,
                    message=None if SESSION_COOKIE not in request.cookies else str(exc),
                )  # fmt: skip
                if request.headers.get("HX-Request"):
                    response.headers["HX-Redirect"] = f"/console/login?next={request.url.path}"
                return response
            except PermissionDenied as exc:
                who = getattr(request.state, "principal", None)
                return page(request, "error.html", who, 403, title="Not allowed", message=str(exc))

        return console_handler
