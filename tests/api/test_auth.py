"""Console sessions: login (audited, throttled), HttpOnly/SameSite cookies, CSRF, expiry."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from openlfr.api import create_app
from openlfr.auth import Role

from .conftest import PASSWORD, settings


def _login(client, username="olive", password=PASSWORD):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def test_login_sets_hardened_cookies_and_audits_without_the_password(store, client):
    store.users.create("olive", PASSWORD, [Role.OPERATOR], actor="test")
    r = _login(client)
    assert r.status_code == 200, r.text
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("openlfr_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/" in session
    csrf_cookie = next(c for c in cookies if c.startswith("openlfr_csrf="))
    assert "HttpOnly" not in csrf_cookie  # the console's script reads it
    assert r.json()["user"]["roles"] == ["operator"]
    assert client.get("/api/auth/me").json()["name"] == "olive"
    assert _login(client, password="wrong password here").status_code == 401
    logins = [e for e in store.audit_events() if e.action == "login"]
    assert [e.details["result"] for e in logins] == ["ok", "bad password"]
    assert PASSWORD not in repr([e.details for e in store.audit_events()])


def test_secure_flag_is_on_by_default(store):
    from openlfr.api import ApiSettings

    store.users.create("olive", PASSWORD, [Role.OPERATOR], actor="test")
    app = create_app(store, ApiSettings(purge_interval_minutes=0))
    with TestClient(app, base_url="https://testserver") as c:
        r = _login(c)
        assert all("Secure" in h for h in r.headers.get_list("set-cookie"))


def test_state_changing_requests_with_a_cookie_need_the_csrf_header(store, client, world):
    store.users.create("olive", PASSWORD, [Role.OPERATOR], actor="test")
    csrf = _login(client).json()["csrf_token"]
    url = f"/api/alerts/{world['alert_id']}/adjudication"
    body = {"verdict": "true_alert"}
    r = client.post(url, json=body)
    assert r.status_code == 403 and "CSRF" in r.json()["message"]
    r = client.post(url, json=body, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    assert store.alerts.get(world["alert_id"]).verdict is None  # nothing written
    r = client.post(url, json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["verdict"] == "true_alert"
    assert r.json()["adjudications"][0]["by"] == "olive"
    # Reads need no CSRF token.
    assert client.get(f"/api/alerts/{world['alert_id']}").status_code == 200


def test_expired_session_is_refused_with_one_clear_message(store, client):
    from openlfr.domain.clock import utcnow

    store.users.create("olive", PASSWORD, [Role.OPERATOR], actor="test")
    _, token = store.users.login("olive", PASSWORD, "testclient", now=utcnow() - timedelta(hours=1))
    client.cookies.set("openlfr_session", token)
    r = client.get("/api/auth/me")
    assert r.status_code == 401
    assert r.json() == {
        "error": "unauthenticated",
        "message": "the session has expired; log in again",
    }


def test_logout_ends_the_session(store, client):
    store.users.create("olive", PASSWORD, [Role.OPERATOR], actor="test")
    csrf = _login(client).json()["csrf_token"]
    token = client.cookies.get("openlfr_session")
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).json() == {
        "logged_out": True
    }
    client.cookies.set("openlfr_session", token)  # a copy of the old cookie is useless
    assert client.get("/api/auth/me").status_code == 401


def test_login_throttling_answers_429_with_retry_after(store):
    store.users.create("olive", PASSWORD, [Role.OPERATOR], actor="test")
    app = create_app(store, settings(login_user_failures=3))
    with TestClient(app) as c:
        for _ in range(3):
            assert _login(c, password="not the password").status_code == 401
        r = _login(c)
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 60
        assert r.json()["error"] == "throttled"


def test_bearer_token_and_bad_authorization_headers(client, tokens):
    assert client.get("/api/audit", headers=tokens[Role.AUDITOR]).status_code == 200
    for header in ("Basic abc", "Bearer", "Bearer olfr_nope", "Bearer " + "x" * 500):
        r = client.get("/api/audit", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert r.headers["WWW-Authenticate"] == "Bearer"


def test_password_change_and_admin_user_management(store, client, tokens):
    admin = tokens[Role.ADMIN]
    r = client.post(
        "/api/users",
        headers=admin,
        json={"username": "pat", "password": PASSWORD, "roles": ["operator", "auditor"]},
    )
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    r = client.post(
        "/api/users", headers=admin, json={"username": "pat2", "password": "short", "roles": []}
    )
    assert r.status_code == 422 and "12 characters" in r.json()["message"]
    csrf = _login(client, "pat").json()["csrf_token"]
    r = client.post(
        "/api/auth/password",
        headers={"X-CSRF-Token": csrf},
        json={"current_password": PASSWORD, "new_password": "another long password"},
    )
    assert r.status_code == 200
    assert _login(client, "pat", "another long password").status_code == 200
    r = client.patch(f"/api/users/{uid}", headers=admin, json={"active": False})
    assert r.json()["active"] is False
    assert client.get("/api/auth/me").status_code == 401  # the session ended with it
    r = client.post("/api/tokens", headers=admin, json={"name": "scraper", "roles": ["auditor"]})
    assert r.status_code == 201 and r.json()["token"].startswith("olfr_")
    scraper = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/metrics", headers=scraper).status_code == 200
    assert client.delete(f"/api/tokens/{r.json()['id']}", headers=admin).status_code == 200
    assert client.get("/metrics", headers=scraper).status_code == 401
