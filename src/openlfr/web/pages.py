"""The login page, the home page with role-aware navigation, and the static files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.security import any_user, public
from openlfr.auth.principal import Principal
from openlfr.web.render import ConsoleRoute, nav_for, page

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
STATIC = {
    "htmx.min.js": "text/javascript",
    "console.js": "text/javascript",
    "console.css": "text/css",
}
Next = Annotated[str, Query(max_length=300, pattern=r"^/console[A-Za-z0-9/_-]*$")]


@router.get("/login")
def login(request: Request, next: Next = "/console", _: None = public()):
    """The login form; console.js posts it to /api/auth/login and then goes to `next`."""
    return page(request, "login.html", None, next=next, message=None)


@router.get("")
def home(request: Request, ctx: AppContext = Depends(get_ctx), who: Principal = any_user()):
    live = [d for d in ctx.store.deployments.find() if d.state.value == "live"]
    return page(request, "home.html", who, links=nav_for(who), live=live)


def _static_route(name: str, media_type: str) -> None:
    from pathlib import Path

    path = Path(__file__).parent / "static" / name

    # One route per file (no path parameter): nothing outside the list can be asked for.
    @router.get(f"/static/{name}", name=f"static:{name}")
    def static_file(_: None = public()) -> Response:
        return Response(
            path.read_bytes(),
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=3600"},
        )


for _name, _media in STATIC.items():
    _static_route(_name, _media)
