"""Deployments through the API: plan, authorise, start, threshold, close, records."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from openlfr.auth import Role
from openlfr.domain.clock import utcnow
from openlfr.gallery.identify import comparison_threshold
from openlfr.vision.engine import FaceEngine


def _plan(client, tokens, world, start, end, **extra):
    body = {
        "location": "Oxford Circus",
        "borough": "Westminster",
        "use_case": "wanted offenders",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "cameras": ["cam-1", "cam-2"],
        "watchlist_id": world["watchlist_id"],
        **extra,
    }
    return client.post("/api/deployments", json=body, headers=tokens[Role.OPERATOR])


def test_full_life_of_a_deployment(store, client, tokens, world):
    op, ao, aud = tokens[Role.OPERATOR], tokens[Role.AUTHORISING_OFFICER], tokens[Role.AUDITOR]
    now = utcnow()
    r = _plan(client, tokens, world, now - timedelta(minutes=5), now + timedelta(hours=2))
    assert r.status_code == 201, r.text
    dep = r.json()
    # The default: the default engine's false-match rate 1e-3 point, from its calibration.
    default = comparison_threshold(FaceEngine.from_backend(cnn_fallback=False).model_id)
    assert dep["state"] == "planned" and dep["threshold"] == default
    did = dep["id"]
    # Going live unauthorised is refused, and writes nothing (no snapshot either).
    r = client.post(f"/api/deployments/{did}/start", headers=op)
    assert r.status_code == 409 and "authorised" in r.json()["message"]
    assert client.get(f"/api/deployments/{did}", headers=op).json()["snapshot_built_at"] is None
    r = client.post(f"/api/deployments/{did}/authorise", headers=ao)
    assert r.json()["state"] == "authorised"
    assert r.json()["authorising_officer"] == "token:t-authorising_officer"
    r = client.post(f"/api/deployments/{did}/start", headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "live" and r.json()["snapshot_built_at"] is not None
    r = client.post(
        f"/api/deployments/{did}/threshold", headers=ao, json={"threshold": 0.95, "reason": "busy"}
    )
    assert r.json()["threshold"] == 0.95
    change = [e for e in store.audit_events() if e.action == "threshold_change"][-1]
    assert change.details == {
        "old": default,
        "new": 0.95,
        "reason": "busy",
        "from": "live",
        "to": "live",
    }
    r = client.post(f"/api/deployments/{did}/close", headers=op)
    assert r.json()["state"] == "closed" and r.json()["snapshot_delete_by"] is not None
    rec = client.get(f"/api/deployments/{did}/record", headers=aud).json()
    assert rec["location"] == "Oxford Circus" and rec["watchlist_size"] == 1
    assert rec["alerts"] == 0 and rec["threshold"] == 0.95
    r = client.get(f"/api/deployments/{did}/record", params={"format": "csv"}, headers=aud)
    assert r.headers["content-type"].startswith("text/csv")
    (row,) = csv.DictReader(io.StringIO(r.text))
    assert row["borough"] == "Westminster" and row["deployment_id"] == did
    listed = client.get("/api/deployments", params={"state": "closed"}, headers=aud).json()
    assert [d["id"] for d in listed["deployments"]] == [did]


def test_starting_before_the_window_writes_no_snapshot(client, tokens, world):
    op, ao = tokens[Role.OPERATOR], tokens[Role.AUTHORISING_OFFICER]
    now = utcnow()
    did = _plan(client, tokens, world, now + timedelta(hours=3), now + timedelta(hours=5)).json()[
        "id"
    ]
    client.post(f"/api/deployments/{did}/authorise", headers=ao)
    r = client.post(f"/api/deployments/{did}/start", headers=op)
    assert r.status_code == 409 and "outside the planned window" in r.json()["message"]
    dep = client.get(f"/api/deployments/{did}", headers=op).json()
    assert dep["state"] == "authorised" and dep["snapshot_built_at"] is None


def test_bad_deployments_are_refused(store, client, tokens, world):
    now = utcnow()
    n_before = len(store.deployments.find())
    r = _plan(client, tokens, world, now + timedelta(hours=2), now + timedelta(hours=1))
    assert r.status_code == 409 and r.json()["message"] == "planned end must be after planned start"
    r = _plan(client, tokens, world, now, now + timedelta(hours=1), threshold="high")
    assert r.status_code == 422 and r.json()["message"].startswith("body threshold")
    r = _plan(client, tokens, world, now, now + timedelta(hours=1), threshold=1.5)
    assert r.status_code == 422
    r = _plan(client, tokens, world, now, now + timedelta(hours=1), watchlist_id="nope")
    assert r.status_code == 404
    r = _plan(client, tokens, world, now, now + timedelta(hours=1), cameras=[])
    assert r.status_code == 422
    r = _plan(client, tokens, world, now, now + timedelta(hours=1), sneaky=True)
    assert r.status_code == 422 and "sneaky" in r.json()["message"]
    r = client.post(
        "/api/deployments",
        content=b'{"location": "x",',
        headers={**tokens[Role.OPERATOR], "content-type": "application/json"},
    )
    assert r.status_code == 400 and r.json() == {
        "error": "malformed_json",
        "message": "the request body is not valid JSON",
    }
    assert len(store.deployments.find()) == n_before
    r = client.post(
        f"/api/deployments/{world['planned_id']}/cancel",
        json={"reason": "weather"},
        headers=tokens[Role.AUTHORISING_OFFICER],
    )
    assert r.json()["state"] == "cancelled"
    r = client.get("/api/deployments/unknown-id", headers=tokens[Role.OPERATOR])
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = client.get("/api/nowhere", headers=tokens[Role.OPERATOR])
    assert r.status_code == 404 and r.json()["error"] == "not_found"
