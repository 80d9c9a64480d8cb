"""Logging in and out of the console, and changing one's own password."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from openlfr.api.context import AppContext, get_ctx
from openlfr.api.schemas import LoginIn, PasswordChangeIn
from openlfr.api.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    any_user,
    client_ip,
    csrf_token_for,
    public,
)
from openlfr.auth.principal import Principal

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/login")
def login(
    body: LoginIn,
    request: Request,
    response: Response,
    ctx: AppContext = Depends(get_ctx),
    _: None = public(),
) -> dict:
    """Check the password (throttled; audited) and open a console session: sets an HttpOnly
    session cookie and returns the CSRF token to send as X-CSRF-Token on changes."""
    s = ctx.settings
    user, token = ctx.store.users.login(
        body.username, body.password, client_ip(request), s.throttle, s.session_max
    )
    csrf = csrf_token_for(token)
    max_age = int(s.session_max.total_seconds())
    common = dict(max_age=max_age, secure=s.cookie_secure, samesite="strict", path="/")
    response.set_cookie(SESSION_COOKIE, token, httponly=True, **common)
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, **common)
    return {"user": user.to_json(), "csrf_token": csrf}


@router.post("/logout")
def logout(
    response: Response, ctx: AppContext = Depends(get_ctx), who: Principal = any_user()
) -> dict:
    if who.session_id is not None:
        ctx.store.users.logout(who.session_id, who.name)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"logged_out": who.session_id is not None}


@router.get("/me")
def me(ctx: AppContext = Depends(get_ctx), who: Principal = any_user()) -> dict:
    out = {"name": who.name, "kind": who.kind, "roles": sorted(r.value for r in who.roles)}
    if who.user_id is not None:
        out["user"] = ctx.store.users.get(who.user_id).to_json()
    return out


@router.post("/password")
def change_password(
    body: PasswordChangeIn, ctx: AppContext = Depends(get_ctx), who: Principal = any_user()
) -> dict:
    """Change your own password (needs the current one); your other sessions end."""
    from openlfr.api.errors import ApiError

    if who.user_id is None:
        raise ApiError(400, "bad_request", "API tokens have no password")
    ctx.store.users.set_password(
        who.user_id, body.new_password, who.name, body.current_password, who.session_id
    )
    return {"changed": True}
