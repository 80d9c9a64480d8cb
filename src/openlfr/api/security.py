"""Who may call what. Every route declares a policy as a parameter:

    def handler(who: Principal = requires(Role.OPERATOR)): ...
    def healthz(_: None = public()): ...

Credentials: `Authorization: Bearer <API token>` for machines, or the console's session
cookie; a state-changing request with the cookie must also carry the CSRF token in the
X-CSRF-Token header (the cookie alone is what a forged cross-site request would have).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, HTTPBearer

from openlfr.auth.errors import AuthError, PermissionDenied
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role

SESSION_COOKIE = "openlfr_session"
CSRF_COOKIE = "openlfr_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ALL_ROLES = frozenset(Role)

# Documented in the OpenAPI schema (the lookup itself is done below, not by these).
_bearer_doc = HTTPBearer(auto_error=False, description="An API token made by an administrator")
_cookie_doc = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Console session")


def csrf_token_for(session_token: str) -> str:
    """The session's CSRF token: derived from the secret session token, so a page on
    another site can neither read nor compute it."""
    return hmac.new(session_token.encode(), b"openlfr-csrf", hashlib.sha256).hexdigest()


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticate(request: Request) -> Principal:
    """The caller's principal (cached on the request); AuthError when there is none."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    ctx = request.app.state.ctx
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthError("the Authorization header must be 'Bearer <API token>'")
        token = ctx.store.users.token(secret.strip())
        principal = Principal(token.actor, token.roles, "token")
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise AuthError("authentication required: log in or send an API token")
        user, session_id = ctx.store.users.session_user(cookie, ctx.settings.session_idle)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), csrf_token_for(cookie).encode()):
                raise PermissionDenied(
                    f"missing or wrong CSRF token (send the {CSRF_HEADER} header)"
                )
        principal = Principal(user.username, user.roles, "session", user.id, session_id)
    request.state.principal = principal
    return principal


class Policy:
    """A route's access policy. `roles` None means public; `biometric` names the kind of
    biometric data the route touches, so that refusals there are audited."""

    def __init__(self, roles: frozenset[Role] | None, biometric: str | None = None) -> None:
        self.roles = roles
        self.biometric = biometric

    def __call__(
        self,
        request: Request,
        _bearer: object = Depends(_bearer_doc),
        _cookie: object = Depends(_cookie_doc),
    ) -> Principal | None:
        if self.biometric is not None:
            request.state.biometric = self.biometric
        if self.roles is None:
            return None
        principal = authenticate(request)
        principal.require(*sorted(self.roles))
        return principal

    def __repr__(self) -> str:
        roles = "public" if self.roles is None else ",".join(sorted(self.roles))
        return f"Policy({roles})"


def requires(*roles: Role, biometric: str | None = None):
    """Only callers holding one of `roles` (at least one role must be named)."""
    if not roles:
        raise ValueError("requires() needs at least one role; use public() for open routes")
    return Depends(Policy(frozenset(roles), biometric))


def any_user():
    """Any authenticated caller, whatever their roles."""
    return Depends(Policy(ALL_ROLES))


def public():
    return Depends(Policy(None))


def route_policies(route: APIRoute) -> list[Policy]:
    """The policies declared on a route (its dependency tree), for checks and tests."""

    def walk(dependant) -> Iterator[Policy]:
        for dep in dependant.dependencies:
            if isinstance(dep.call, Policy):
                yield dep.call
            yield from walk(dep)

    return list(walk(route.dependant))


def flat_routes(routes) -> list:
    """Every route object, with included routers expanded (newer FastAPI versions keep
    included routers as lazy entries in `app.routes`)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before included routers became lazy
        return list(routes)
    return [c.original_route for c in iter_route_contexts(routes)]


def check_all_routes_declare_a_policy(routes) -> None:
    """Refuse to build an app with a route that has no policy, or more than one."""
    for route in flat_routes(routes):
        if isinstance(route, APIRoute):
            found = route_policies(route)
            if len(found) != 1:
                raise RuntimeError(
                    f"route {sorted(route.methods)} {route.path} declares {len(found)} access "
                    "policies; it needs exactly one (requires(...), any_user() or public())"
                )
