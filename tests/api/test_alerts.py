"""Alerts through the API: list, adjudicate (with overrides), outcome, image, SSE stream."""

from __future__ import annotations

import json
import threading
import time

import httpx

from openlfr.auth import Role
from openlfr.domain import AlertEvent
from openlfr.domain.clock import utcnow

from .conftest import JPEG


def test_adjudication_outcome_and_override(store, client, tokens, world):
    op = tokens[Role.OPERATOR]
    aid = world["alert_id"]
    listed = client.get("/api/alerts", params={"unadjudicated": True}, headers=op).json()["alerts"]
    assert [a["id"] for a in listed] == [aid]
    assert listed[0]["subject_name"] == "Subject A" and listed[0]["has_image"] is True
    url = f"/api/alerts/{aid}"
    r = client.post(f"{url}/outcome", json={"outcome": "not_engaged"}, headers=op)
    assert r.status_code == 409 and "adjudicate the alert before" in r.json()["message"]
    r = client.post(f"{url}/adjudication", json={"verdict": "true_alert"}, headers=op)
    assert r.status_code == 200 and r.json()["verdict"] == "true_alert"
    r = client.post(f"{url}/adjudication", json={"verdict": "false_alert"}, headers=op)
    assert r.status_code == 409 and "override reason" in r.json()["message"]
    r = client.post(
        f"{url}/adjudication",
        json={"verdict": "false_alert", "override_reason": "second look: different person"},
        headers=op,
    )
    assert r.json()["verdict"] == "false_alert" and len(r.json()["adjudications"]) == 2
    r = client.post(f"{url}/outcome", json={"outcome": "engaged_arrested"}, headers=op)
    assert r.json()["outcome"] == "engaged_arrested"
    r = client.post(f"{url}/adjudication", json={"verdict": "maybe"}, headers=op)
    assert r.status_code == 422
    r = client.post("/api/alerts/00000000-0000-0000-0000-000000000000/adjudication",
                    json={"verdict": "true_alert"}, headers=op)  # fmt: skip
    assert r.status_code == 404 and "no alert with id" in r.json()["message"]
    rec = client.get(f"/api/deployments/{world['deployment_id']}/record", headers=op).json()
    assert (rec["alerts"], rec["false_alerts"], rec["arrests"]) == (1, 1, 1)


def test_alert_image_view_needs_a_purpose_and_is_audited(store, client, tokens, world):
    op = tokens[Role.OPERATOR]
    url = f"/api/alerts/{world['alert_id']}/image"
    r = client.get(url, headers=op)
    assert r.status_code == 422 and "purpose" in r.json()["message"]
    r = client.get(url, params={"purpose": "side-by-side comparison"}, headers=op)
    assert r.status_code == 200 and r.content == JPEG
    events = store.audit_events()
    assert any(e.action == "view_biometric" and e.object_id == world["alert_id"] for e in events)
    refused = [e for e in events if e.action == "refused"]
    assert refused[-1].object_type == "alert_image" and refused[-1].details["status"] == 422


def test_a_published_alert_reaches_an_sse_client_within_a_second(app, live_server, tokens, world):
    """Through a real uvicorn server: the pipeline's sink stores and publishes an alert."""
    sink = app.state.ctx.sink
    received: list[tuple[float, dict]] = []
    connected = threading.Event()

    def listen():
        headers = tokens[Role.OPERATOR]
        with (
            httpx.Client(base_url=live_server, timeout=10) as http,
            http.stream("GET", "/api/alerts/stream", headers=headers) as r,
        ):
            event = None
            for line in r.iter_lines():
                if line.startswith(": connected"):
                    connected.set()
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "alert":
                    received.append((time.monotonic(), json.loads(line[6:])))
                    return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert connected.wait(10)
    assert app.state.ctx.broker.clients == 1
    sent = time.monotonic()
    alert_id = sink.alert(
        AlertEvent(world["deployment_id"], "cam-1", world["subject_id"], 0.91, utcnow(), "t9")
    )
    thread.join(5)
    assert received, "no alert arrived"
    arrived, message = received[0]
    assert message["id"] == alert_id and message["camera"] == "cam-1"
    assert "live_image" not in json.dumps(message)
    assert arrived - sent < 1.0, f"took {arrived - sent:.3f} s"
