"""Audit log paging and verification, /metrics, /healthz, the retention schedule."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from openlfr.api.retention import RetentionSchedule
from openlfr.auth import Role


def test_audit_paging_filters_and_verify(store, client, tokens, world):
    aud = tokens[Role.AUDITOR]
    total = len(store.audit_events())
    seen, after = [], 0
    while after is not None:
        page = client.get("/api/audit", params={"after_seq": after, "limit": 7}, headers=aud).json()
        seen += [e["seq"] for e in page["events"]]
        after = page["next_after_seq"]
    assert seen == list(range(1, total + 1))
    creates = client.get(
        "/api/audit", params={"action": "create", "object_type": "deployment"}, headers=aud
    ).json()["events"]
    assert {e["object_id"] for e in creates} == {world["deployment_id"], world["planned_id"]}
    assert client.get("/api/audit/verify", headers=aud).json() == {
        "intact": True, "broken_at": None, "reason": None,
    }  # fmt: skip
    assert client.get("/api/audit", params={"limit": 0}, headers=aud).status_code == 422
    assert client.get("/api/audit", params={"after_seq": -1}, headers=aud).status_code == 422


def test_verify_names_the_first_broken_link(store, client, tokens, world):
    if store.dialect == "postgresql":
        stmt = "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"
    else:
        stmt = "DROP TRIGGER audit_events_no_update"
    with store.engine.begin() as conn:
        conn.execute(text(stmt))
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"))
    r = client.get("/api/audit/verify", headers=tokens[Role.AUDITOR]).json()
    assert r["intact"] is False and r["broken_at"] == 3


def test_metrics_in_prometheus_format(app, client, tokens, world):
    metrics = app.state.ctx.metrics
    metrics.set_camera_state(world["deployment_id"], "cam-1", "live")
    metrics.set_fps(world["deployment_id"], "cam-1", 12.5)
    metrics.set_queue_depth("frames:cam-1", 3)
    app.state.ctx.sink.faces_seen(world["deployment_id"], "cam-1", 40)
    r = client.get("/metrics", headers=tokens[Role.AUDITOR])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    body = r.text
    d = world["deployment_id"]
    for line in (
        f'openlfr_camera_state{{camera="cam-1",deployment="{d}",state="live"}} 1.0',
        f'openlfr_camera_state{{camera="cam-1",deployment="{d}",state="stalled"}} 0.0',
        f'openlfr_camera_fps{{camera="cam-1",deployment="{d}"}} 12.5',
        f'openlfr_faces_seen_total{{camera="cam-1",deployment="{d}"}} 40.0',
        'openlfr_queue_depth{queue="frames:cam-1"} 3.0',
        'openlfr_deployments{state="live"} 1.0',
        'openlfr_deployments{state="planned"} 1.0',
        'openlfr_alerts_stored{verdict="unadjudicated"} 1.0',
        f'openlfr_live_faces_seen{{deployment="{d}"}} 40.0',
    ):
        assert line in body, line
    assert client.get("/metrics", headers=tokens[Role.OPERATOR]).status_code == 403


def test_healthz_is_public(client, store):
    assert client.get("/healthz").json() == {"status": "ok", "database": store.dialect}


def test_retention_schedule_purges_and_is_audited(store):
    async def run():
        schedule = RetentionSchedule(store, interval_minutes=0.001)
        schedule.start()
        for _ in range(200):
            if schedule.runs >= 2:
                break
            await asyncio.sleep(0.05)
        await schedule.stop()
        return schedule.runs

    assert asyncio.run(run()) >= 2
    purges = [e for e in store.audit_events() if e.action == "purge"]
    assert len(purges) >= 2 and purges[0].actor == "system:retention"
    assert set(purges[0].details) >= {"alert_images", "snapshots", "policy"}
