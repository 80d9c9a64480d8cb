"""The route x role matrix: every route declares its roles, and each role gets exactly the
access its policy says (401 without credentials, 403 with the wrong role, otherwise an
answer that is neither an auth refusal nor a server error)."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute

from openlfr.api.security import (
    check_all_routes_declare_a_policy,
    flat_routes,
    route_policies,
)
from openlfr.auth import Role

# Framework routes that are not APIRoutes: the OpenAPI document and its viewers, public.
FRAMEWORK_PUBLIC = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
STREAM = "/api/alerts/stream"


def _endpoints(app):
    out = []
    for route in flat_routes(app.routes):
        if not isinstance(route, APIRoute):
            assert route.path in FRAMEWORK_PUBLIC, f"unexpected non-API route {route.path}"
            continue
        (policy,) = route_policies(route)
        for method in sorted(route.methods - {"HEAD"}):
            out.append((method, route.path, policy))
    return out


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def test_every_route_must_declare_exactly_one_policy(app):
    from fastapi import FastAPI

    bare = FastAPI()

    @bare.get("/forgotten")
    def forgotten() -> dict:
        return {}

    with pytest.raises(RuntimeError, match="/forgotten declares 0 access policies"):
        check_all_routes_declare_a_policy(bare.routes)
    check_all_routes_declare_a_policy(app.routes)  # ours all do


def test_route_role_matrix(client, app, tokens, world):
    ids = {**world, "subject_id": world["subject_id"]}
    endpoints = _endpoints(app)
    assert len(endpoints) >= 40
    table = []
    for method, path, policy in endpoints:
        url = _fill(path, ids)
        callers: list[tuple[Role | None, dict]] = [(None, {})] + [(r, h) for r, h in tokens.items()]
        for role, headers in callers:
            if path == STREAM and policy.roles and role in policy.roles:
                continue  # an endless stream: checked against a real server below
            kwargs = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
            r = client.request(method, url, headers=headers, **kwargs)
            if policy.roles is None:
                expected = "open"
                ok = r.status_code not in (401, 403) and r.status_code < 500
            elif role is None:
                expected, ok = "401", r.status_code == 401
            elif role in policy.roles:
                expected = "allowed"
                ok = r.status_code not in (401, 403) and r.status_code < 500
            else:
                expected, ok = "403", r.status_code == 403
            table.append((method, path, role, r.status_code))
            assert ok, (
                f"{method} {path} as {role}: expected {expected}, got {r.status_code} {r.text}"
            )
            if (
                not 200 <= r.status_code < 300
                and r.headers.get("content-type") == "application/json"
            ):
                body = r.json()
                assert set(body) >= {"error", "message"}, body
    import os

    if os.environ.get("SHOW_MATRIX"):
        print(*table, sep="\n")
    # every role was refused somewhere and allowed somewhere: the matrix is not trivial
    for role in Role:
        codes = {c for _, _, who, c in table if who is role}
        assert 403 in codes and any(c < 400 for c in codes), role


def test_stream_is_open_to_its_roles_on_a_real_server(live_server, tokens):
    with httpx.Client(base_url=live_server, timeout=5) as http:
        for role in (Role.OPERATOR, Role.AUTHORISING_OFFICER):
            with http.stream("GET", STREAM, headers=tokens[role]) as r:
                assert r.status_code == 200
                assert r.headers["content-type"].startswith("text/event-stream")
        for role in (Role.ADMIN, Role.AUDITOR, Role.WATCHLIST_MANAGER):
            assert http.get(STREAM, headers=tokens[role]).status_code == 403
        assert http.get(STREAM).status_code == 401


def test_openapi_and_docs_are_served(client):
    schema = client.get("/openapi.json").json()
    assert "/api/deployments/{deployment_id}/start" in schema["paths"]
    assert client.get("/docs").status_code == 200
