"""Subjects, watchlists and reference images through the API, with the real face engine."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from openlfr.api import create_app
from openlfr.auth import Role
from openlfr.domain.clock import utcnow

from .conftest import settings


@pytest.fixture
def wm_client(store, face_engine, tokens):
    app = create_app(store, settings(max_upload_bytes=400_000), engine=face_engine)
    with TestClient(app, headers=tokens[Role.WATCHLIST_MANAGER]) as c:
        yield c


def _subject(c, name="Jane Roe", **extra) -> str:
    body = {
        "display_name": name,
        "category": "wanted_by_courts",
        "expires_at": (utcnow() + timedelta(days=30)).isoformat(),
        **extra,
    }
    r = c.post("/api/subjects", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _upload(c, sid, data, name="photo.jpg", source="custody", basis="PACE s64A"):
    return c.post(
        f"/api/subjects/{sid}/images",
        files={"file": (name, data, "image/jpeg")},
        data={"image_source": source, "legal_basis": basis},
    )


def test_enrol_flags_duplicates_and_views_are_audited(store, wm_client, face_jpeg, tokens):
    c = wm_client
    wl = c.post("/api/watchlists", json={"name": "central"}).json()["id"]
    first, second = _subject(c, "Jane Roe"), _subject(c, "J. Roe (alias)")
    r = _upload(c, first, face_jpeg)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["verdict"] == "enrolled" and body["duplicates"] == [] and body["warning"] is None
    r = _upload(c, second, face_jpeg)
    assert r.status_code == 201
    dup = r.json()["duplicates"]
    assert [d["subject_id"] for d in dup] == [first] and dup[0]["score"] > 0.99
    assert "already enrolled" in r.json()["warning"]
    assert c.post(f"/api/watchlists/{wl}/members", json={"subject_id": first}).status_code == 201
    assert c.get(f"/api/watchlists/{wl}").json()["subject_ids"] == [first]
    image_id = body["image_id"]
    assert c.get(f"/api/subjects/{first}").json()["images"][0]["id"] == image_id
    r = c.get(f"/api/subjects/{first}/images/{image_id}", params={"purpose": "verify enrolment"})
    assert r.status_code == 200 and r.content == face_jpeg
    assert r.headers["content-type"] == "image/jpeg"
    views = [e for e in store.audit_events() if e.action == "view_biometric"]
    assert any(
        e.object_id == image_id and e.details["purpose"] == "verify enrolment" for e in views
    )
    assert any(e.object_type == "reference_templates" for e in views)  # the duplicate check
    # The wrong role is refused, and that refusal of biometric access is audited.
    r = c.get(
        f"/api/subjects/{first}/images/{image_id}",
        params={"purpose": "curious"},
        headers=tokens[Role.AUDITOR],
    )
    assert r.status_code == 403
    refused = [e for e in store.audit_events() if e.action == "refused"]
    assert refused[-1].actor == "token:t-auditor" and refused[-1].details["status"] == 403


@pytest.mark.parametrize(
    "case",
    ["faceless", "not_an_image", "too_large", "traversal", "empty", "no_basis", "webp"],
)
def test_bad_uploads_are_refused_nothing_stored_and_audited(
    store, wm_client, faceless_jpeg, face_jpeg, case
):
    c = wm_client
    sid = _subject(c)
    before = len(store.subjects.image_ids(sid))
    if case == "faceless":
        r = _upload(c, sid, faceless_jpeg)
        expect, text = 422, "image rejected: no face"
    elif case == "not_an_image":
        r = _upload(c, sid, b"%PDF-1.4 not a photo" * 10, name="doc.pdf")
        expect, text = 422, "must be a JPEG or PNG"
    elif case == "too_large":
        r = _upload(c, sid, b"\xff\xd8\xff" + b"\0" * 400_000)
        expect, text = 413, "exceeds the upload limit"
    elif case == "traversal":
        r = _upload(c, sid, face_jpeg, name="../../etc/passwd")
        expect, text = 422, "may not contain a path"
    elif case == "empty":
        r = _upload(c, sid, b"")
        expect, text = 422, "empty"
    elif case == "no_basis":
        r = _upload(c, sid, face_jpeg, basis="   ")
        expect, text = 422, "legal_basis is required"
    else:
        r = _upload(c, sid, b"RIFF\x00\x00\x00\x00WEBPVP8 ")
        expect, text = 422, "must be a JPEG or PNG"
    assert r.status_code == expect, r.text
    assert set(r.json()) >= {"error", "message"} and text in r.json()["message"]
    assert len(store.subjects.image_ids(sid)) == before
    refused = [e for e in store.audit_events() if e.action == "refused"]
    assert refused and refused[-1].object_type == "reference_image"
    assert refused[-1].object_id == sid and refused[-1].details["status"] == expect


def test_request_bodies_over_the_hard_cap_get_413_before_parsing(wm_client):
    r = wm_client.post(
        "/api/subjects", content=b"x" * 600_000, headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"] == "too_large"


def test_subject_rules_and_hostile_strings(store, wm_client):
    c = wm_client
    later = (utcnow() + timedelta(days=30)).isoformat()
    cases = [
        ({"display_name": "A", "category": "other", "expires_at": later}, "category"),
        ({"display_name": "A", "category": "wanted_for_offence", "expires_at": later}, "offence"),
        (
            {"display_name": "A", "category": "risk_of_harm", "expires_at": "2001-01-01T00:00:00Z"},
            "expiry",
        ),
        (
            {"display_name": "A", "category": "risk_of_harm", "expires_at": "2030-01-01T00:00:00"},
            "timezone",
        ),
        ({"display_name": "A\x00B", "category": "risk_of_harm", "expires_at": later}, "NUL"),
        (
            {"display_name": "A", "category": "risk_of_harm", "expires_at": later, "colour": 1},
            "Extra",
        ),
    ]
    for body, word in cases:
        r = c.post("/api/subjects", json=body)
        assert r.status_code == 422, (body, r.text)
        assert word.lower() in r.json()["message"].lower(), (word, r.json())
    assert c.get("/api/subjects").json()["subjects"] == []
    evil = "Robert'); DROP TABLE subjects;--"
    sid = _subject(c, evil)
    assert c.get(f"/api/subjects/{sid}").json()["display_name"] == evil
    assert c.get("/api/subjects/' OR '1'='1").status_code in (404, 422)
    r = c.post("/api/watchlists", json={"name": "x' OR 1=1 --"})
    assert r.status_code == 201
    assert c.post("/api/watchlists", json={"name": "x' OR 1=1 --"}).status_code == 422  # duplicate
    r = c.delete(f"/api/subjects/{sid}", params={"reason": "entered in error"})
    assert r.status_code == 200 and c.get(f"/api/subjects/{sid}").status_code == 404
