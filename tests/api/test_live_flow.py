"""The README's session as a test, through a real uvicorn server: create a watchlist,
enrol two performers, plan a deployment on a video file, authorise and start it, receive
the alert over SSE, adjudicate it, close, and fetch the deployment record. The clip is the
root conftest's `stage_clip`."""

from __future__ import annotations

import json
import threading

import httpx

from openlfr.api import create_app
from openlfr.auth import Role
from openlfr.live.pipeline import PipelineConfig
from openlfr.service.supervisor import LiveSupervisor

from .conftest import LiveServer, settings  # noqa: TID252 - the API tests' own helpers


def test_watchlist_to_deployment_record_over_http(
    store, tokens, face_engine, shared_data, stage_clip
):
    supervisor = LiveSupervisor(
        PipelineConfig(workers=0, backend="dlib"), realtime=False,
        engine_factory=lambda: face_engine, poll_seconds=0,
    )  # fmt: skip
    app = create_app(store, settings(), supervisor=supervisor, engine=face_engine)
    wm, op, ao = (tokens[r] for r in (Role.WATCHLIST_MANAGER, Role.OPERATOR,
                                      Role.AUTHORISING_OFFICER))  # fmt: skip
    refs = shared_data / "video" / "hamilton-references"
    with LiveServer(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        wl = http.post("/api/watchlists", json={"name": "hamilton"}, headers=wm).json()["id"]
        people = {}
        for person in ("lin-manuel-miranda", "alex-lacamoire"):
            r = http.post("/api/subjects", headers=wm, json={
                "display_name": person, "category": "wanted_by_courts",
                "expires_at": "2099-01-01T00:00:00Z"})  # fmt: skip
            sid = people[person] = r.json()["id"]
            with open(refs / f"{person}.png", "rb") as fh:
                r = http.post(
                    f"/api/subjects/{sid}/images", headers=wm, files={"file": fh},
                    data={"image_source": "press photo", "legal_basis": "test"},
                )  # fmt: skip
            assert r.status_code == 201, r.text
            http.post(f"/api/watchlists/{wl}/members", json={"subject_id": sid}, headers=wm)
        body = {
            "name": "stage-door", "location": "Theatre", "borough": "Manhattan",
            "use_case": "wanted by the courts", "watchlist_id": wl,
            "start": "2000-01-01T00:00:00Z", "end": "2099-01-01T00:00:00Z",
            "cameras": [{"name": "stage", "source": str(stage_clip)},
                        {"name": "door", "source": "rtsp://admin:pw-9z@127.0.0.1:1/x"}],
        }  # fmt: skip
        r = http.post("/api/deployments", json=body, headers=op)
        assert r.status_code == 201, r.text
        dep = r.json()
        assert dep["sources"] == {"stage": str(stage_clip), "door": "rtsp://***:***@127.0.0.1:1/x"}
        assert "pw-9z" not in http.get("/api/deployments", headers=op).text
        did = dep["id"]
        r = http.post(f"/api/deployments/{did}/authorise", headers=ao)
        assert r.json()["state"] == "authorised"

        received: list[dict] = []
        connected = threading.Event()

        def listen() -> None:
            with (
                httpx.Client(base_url=url, timeout=60) as sse,
                sse.stream("GET", "/api/alerts/stream", headers=op) as stream,
            ):
                for line in stream.iter_lines():
                    if line.startswith(": connected"):
                        connected.set()
                    elif line.startswith("data: "):
                        received.append(json.loads(line[6:]))
                        return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        assert connected.wait(10)
        assert http.post(f"/api/deployments/{did}/start", headers=op).json()["state"] == "live"
        listener.join(90)
        assert received, "no alert over SSE"
        alert = received[0]
        assert alert["subject_id"] == people["lin-manuel-miranda"] and alert["camera"] == "stage"
        assert alert["score"] >= 0.93
        r = http.post(f"/api/alerts/{alert['id']}/adjudication", headers=op,
                      json={"verdict": "true_alert"})  # fmt: skip
        assert r.json()["verdict"] == "true_alert"
        r = http.post(f"/api/alerts/{alert['id']}/outcome", headers=op,
                      json={"outcome": "engaged_no_further_action"})  # fmt: skip
        assert r.json()["outcome"] == "engaged_no_further_action"
        assert supervisor.wait(did, timeout=90, cameras=["stage"])  # the clip played out
        metrics = http.get("/metrics", headers=tokens[Role.AUDITOR]).text
        assert f'openlfr_alerts_total{{deployment="{did}"}} 1.0' in metrics
        assert http.post(f"/api/deployments/{did}/close", headers=op).json()["state"] == "closed"
        record = http.get(f"/api/deployments/{did}/record", headers=op).json()
    assert did not in supervisor.runs
    assert record["alerts"] == record["true_alerts"] == record["engagements"] == 1
    assert record["faces_seen"] >= 1 and record["watchlist_size"] == 2
    assert record["threshold"] == 0.93 and record["false_alerts"] == 0
