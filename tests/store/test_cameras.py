"""Camera sources and deployment names (migration 0003), on SQLite and PostgreSQL: URLs are
sealed at rest, shown redacted, and checked before anything is written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from openlfr.domain import Deployment
from openlfr.domain.clock import utcnow
from openlfr.domain.errors import DeploymentStateError, NotFoundError
from openlfr.store.migrate import current_revision, downgrade, head_revision, upgrade

SECRET_URL = "rtsp://admin:hunter2-secret@10.1.2.3:554/stream?token=tok-abc123"


def plan(watchlist_id=None, name="north-gate", cameras=("gate", "lobby")) -> Deployment:
    now = utcnow()
    return Deployment(
        "North Gate", "Camden", "wanted offenders", now - timedelta(hours=1),
        now + timedelta(hours=3), cameras, 0.9, "planner", watchlist_id=watchlist_id, name=name,
    )  # fmt: skip


def raw_dump(store) -> bytes:
    """Every cell of every table, as bytes (what a thief of the database file would read)."""
    out = []
    with store.engine.connect() as conn:
        for table in ("deployment_cameras", "deployments", "audit_events"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                out += [v if isinstance(v, bytes) else str(v).encode() for v in row]
    return b"\n".join(out)


def test_sources_are_sealed_and_shown_redacted(store):
    did = store.deployments.create(
        plan(), "planner", {"gate": SECRET_URL, "lobby": "/footage/lobby.mp4"}
    )
    assert store.cameras.sources(did) == {"gate": SECRET_URL, "lobby": "/footage/lobby.mp4"}
    shown = store.cameras.displays(did)
    assert shown["gate"] == "rtsp://***:***@10.1.2.3:554/stream?token=***"
    assert shown["lobby"] == "/footage/lobby.mp4"
    dump = raw_dump(store)
    for secret in (b"hunter2-secret", b"tok-abc123", b"admin:"):
        assert secret not in dump
    assert b"/footage/lobby.mp4" in dump  # the redacted display copy of a plain path
    created = [e for e in store.audit_events() if e.object_id == did][0]
    assert created.details["sources"]["gate"].startswith("rtsp://***:***@")
    assert created.details["name"] == "north-gate"


def test_key_rotation_re_seals_sources(store):
    did = store.deployments.create(plan(), "planner", {"gate": SECRET_URL})
    store.rotate_keys("admin")
    assert store.cameras.sources(did) == {"gate": SECRET_URL}


def test_names_are_unique_and_resolve(store):
    did = store.deployments.create(plan(), "planner")
    assert store.deployments.get(did).name == "north-gate"
    assert store.deployments.resolve("north-gate") == did
    assert store.deployments.resolve(did) == did
    with pytest.raises(DeploymentStateError, match="already exists"):
        store.deployments.create(plan(), "planner")
    with pytest.raises(NotFoundError):
        store.deployments.resolve("south-gate")
    unnamed = store.deployments.create(plan(name=None), "planner")
    assert store.deployments.get(unnamed).name is None


@pytest.mark.parametrize(
    "sources, message",
    [
        ({"attic": "/x.mp4"}, "unknown camera 'attic'"),
        ({"gate": "gopher://admin:pw@host/x"}, "unsupported camera URL scheme"),
        ({"gate": "   "}, "source is required"),
        ({"gate": "/x.mp4\x00"}, "control characters"),
    ],
)
def test_bad_sources_are_refused_and_nothing_is_written(store, sources, message):
    with pytest.raises(DeploymentStateError, match=message) as err:
        store.deployments.create(plan(), "planner", sources)
    assert "pw@" not in str(err.value)
    assert store.deployments.find() == []


def test_sources_change_only_before_going_live(store, live_deployment):
    did = store.deployments.create(plan(), "planner")
    store.cameras.set_sources(did, {"lobby": "rtsp://cam/lobby"}, "planner")
    assert store.cameras.sources(did) == {"lobby": "rtsp://cam/lobby"}
    store.cameras.set_sources(did, {"lobby": "rtsp://cam/lobby2"}, "planner")
    assert store.cameras.displays(did) == {"lobby": "rtsp://cam/lobby2"}
    with pytest.raises(DeploymentStateError, match="live deployment"):
        store.cameras.set_sources(live_deployment["deployment"], {"cam-1": "/a.mp4"}, "x")


def test_bad_names_are_refused():
    with pytest.raises(DeploymentStateError, match="printable"):
        plan(name="  ")
    with pytest.raises(DeploymentStateError, match="look like a deployment id"):
        plan(name="5f0c1a3e-1b2c-4d5e-8f90-1234567890ab")


def test_migration_0003_downgrades_and_upgrades(store):
    did = store.deployments.create(plan(name=None), "planner")
    downgrade(store.engine, "0002")
    assert current_revision(store.engine) == "0002"
    upgrade(store.engine)
    assert current_revision(store.engine) == head_revision()
    assert store.deployments.get(did).location == "North Gate"
