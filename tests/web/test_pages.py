"""Console pages without a browser: refusals as pages, CSRF on the form posts, decisions
through the API's own checks (audited), and escaping of stored text."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from openlfr.api import ApiSettings, create_app
from openlfr.api.security import CSRF_HEADER, SESSION_COOKIE, csrf_token_for
from openlfr.auth import Role, passwords
from openlfr.domain import AlertEvent, Category, Deployment, ReferenceImageInfo, Subject
from openlfr.domain.clock import utcnow
from openlfr.store import Store
from openlfr.store.crypto import KeyRing, new_key

PASSWORD = "a long enough password"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4


@pytest.fixture
def store(tmp_path):
    passwords.set_cost(1, 1024)
    opened = Store(f"sqlite:///{tmp_path / 'web.db'}", KeyRing(new_key()))
    yield opened
    opened.close()
    passwords.set_cost(3, 65536)


@pytest.fixture
def world(store):
    now = utcnow()
    sid = store.subjects.add(
        Subject("<b>Bold</b> Name", Category.RISK_OF_HARM, "wm", now + timedelta(days=9)), "wm"
    )
    vector = np.ones(128, dtype=np.float32) / np.sqrt(128)
    store.subjects.add_image(
        sid, JPEG, ReferenceImageInfo("custody", "PACE", "wm"), "wm", vector, "dlib-resnet-v1"
    )
    wl = store.watchlists.create("wl", "wm")
    store.watchlists.add_subject(wl, sid, "wm")
    did = store.deployments.create(
        Deployment("Market St", "Camden", "risk of harm", now - timedelta(hours=1),
                   now + timedelta(hours=1), ("cam-1",), 0.64, "op", watchlist_id=wl),
        "op",
    )  # fmt: skip
    store.deployments.authorise(did, "ao")
    store.watchlists.build_snapshot(did, "op")
    store.deployments.go_live(did, "op")
    alert = store.alerts.create_from_event(AlertEvent(did, "cam-1", sid, 0.9, now, "t1"))
    for name, role in (("olive", Role.OPERATOR), ("wendy", Role.WATCHLIST_MANAGER)):
        store.users.create(name, PASSWORD, [role], actor="test")
    return {"deployment_id": did, "alert_id": alert, "watchlist_id": wl}


@pytest.fixture
def client(store):
    app = create_app(store, ApiSettings(cookie_secure=False, purge_interval_minutes=0))
    with TestClient(app) as c:
        yield c


def _login(client, user: str) -> str:
    r = client.post("/api/auth/login", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200
    return r.json()["csrf_token"]


def test_without_a_session_pages_answer_401_with_the_login_form(client, world):
    r = client.get("/console/alerts")
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
    assert 'id="login-form"' in r.text and 'data-next="/console/alerts"' in r.text
    r = client.get("/console/alerts", headers={"HX-Request": "true"})
    assert r.headers["HX-Redirect"] == "/console/login?next=/console/alerts"


def test_the_wrong_role_gets_a_403_page_and_no_data(client, world):
    _login(client, "olive")
    r = client.get(f"/console/watchlists/{world['watchlist_id']}")
    assert r.status_code == 403 and "Not allowed" in r.text and "Bold" not in r.text


def test_form_posts_need_the_csrf_header(client, store, world):
    csrf = _login(client, "olive")
    url = f"/console/alerts/{world['alert_id']}/verdict"
    r = client.post(url, data={"verdict": "true_alert"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert store.alerts.get(world["alert_id"]).verdict is None  # nothing written
    assert csrf == csrf_token_for(client.cookies[SESSION_COOKIE])
    r = client.post(url, data={"verdict": "true_alert"}, headers={CSRF_HEADER: csrf})
    assert r.status_code == 200 and "True alert (match)" in r.text
    assert store.alerts.get(world["alert_id"]).adjudication.by == "olive"
    audited = [e for e in store.audit_events() if e.action == "adjudicate"]
    assert audited and audited[-1].actor == "olive"


def test_a_second_decision_is_refused_on_the_card(client, store, world):
    csrf = {CSRF_HEADER: _login(client, "olive")}
    url = f"/console/alerts/{world['alert_id']}/verdict"
    client.post(url, data={"verdict": "false_alert"}, headers=csrf)
    r = client.post(url, data={"verdict": "true_alert"}, headers=csrf)
    assert r.status_code == 200 and "needs an override reason" in r.text
    assert store.alerts.get(world["alert_id"]).verdict.value == "false_alert"
    r = client.post(url, data={"verdict": "maybe"}, headers=csrf)
    assert r.status_code == 422
    # an outcome needs a verdict first; the card says so
    other = store.alerts.create_from_event(
        AlertEvent(world["deployment_id"], "cam-1", None, 0.95, utcnow(), "t2")
    )
    r = client.post(f"/console/alerts/{other}/outcome", data={"outcome": "not_engaged"},
                    headers=csrf)  # fmt: skip
    assert r.status_code == 200 and "adjudicate the alert before" in r.text


def test_stored_text_is_escaped(client, world):
    _login(client, "olive")
    r = client.get(f"/console/alerts/{world['alert_id']}/card")
    assert "&lt;b&gt;Bold&lt;/b&gt; Name" in r.text and "<b>Bold</b>" not in r.text


def test_deployment_close_button_goes_through_the_api_checks(client, store, world):
    csrf = {CSRF_HEADER: _login(client, "olive")}
    did = world["deployment_id"]
    r = client.post(f"/console/deployments/{did}/close", headers=csrf)
    assert r.status_code == 200 and 'id="dep-state">Closed' in r.text
    r = client.post(f"/console/deployments/{did}/start", headers=csrf)
    assert r.status_code == 200 and 'role="alert"' in r.text  # refused, and said why
    assert store.deployments.get(did).state.value == "closed"


def test_static_files_and_the_login_next_parameter(client):
    assert client.get("/console/static/htmx.min.js").text.startswith("var htmx=")
    assert client.get("/console/login?next=https://evil.example/").status_code == 422
    assert client.get("/console/static/../app.py").status_code == 404
