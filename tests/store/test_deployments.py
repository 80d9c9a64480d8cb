from datetime import timedelta

import pytest

from openlfr.domain import Deployment, DeploymentState, DeploymentStateError
from openlfr.domain.clock import utcnow
from openlfr.errors import WatchlistError


def _planned(store, live_deployment_ids=None, start_in=timedelta(hours=-1)):
    now = utcnow()
    wl = live_deployment_ids["watchlist"] if live_deployment_ids else None
    dep = Deployment(
        "Stratford", "Newham", "wanted", now + start_in, now + start_in + timedelta(hours=4),
        ("cam-1",), 0.6, "planner", watchlist_id=wl,
    )  # fmt: skip
    return store.deployments.create(dep, "planner")


def test_lifecycle_is_persisted_and_audited(store, live_deployment):
    did = live_deployment["deployment"]
    d = store.deployments.get(did)
    assert d.state is DeploymentState.LIVE and d.authorising_officer == "Supt Jones"
    assert d.snapshot_built_at is not None and d.cameras == ("cam-1", "cam-2")
    closed = store.deployments.close(did, "planner")
    assert closed.state is DeploymentState.CLOSED
    assert timedelta(0) < closed.snapshot_delete_by - closed.closed_at <= timedelta(hours=24)
    assert store.deployments.get(did).snapshot_delete_by == closed.snapshot_delete_by
    moves = [
        (e.details["from"], e.details["to"])
        for e in store.audit_events()
        if e.action == "transition"
    ]
    assert moves == [("planned", "authorised"), ("authorised", "live"), ("live", "closed")]
    assert [d.id for d in store.deployments.find(DeploymentState.CLOSED)] == [did]


def test_illegal_transitions_write_nothing(store, live_deployment):
    did = _planned(store, live_deployment)
    events = len(store.audit_events())
    with pytest.raises(DeploymentStateError, match="planned"):
        store.deployments.go_live(did, "planner")
    with pytest.raises(DeploymentStateError, match="cannot close"):
        store.deployments.close(did, "planner")
    assert store.deployments.get(did).state is DeploymentState.PLANNED
    assert len(store.audit_events()) == events


def test_snapshot_too_early_is_refused(store, live_deployment):
    did = _planned(store, live_deployment, start_in=timedelta(hours=30))
    store.deployments.authorise(did, "Supt Jones")
    with pytest.raises(DeploymentStateError, match="24 hours"):
        store.watchlists.build_snapshot(did, "planner")
    with pytest.raises(DeploymentStateError, match="window"):
        store.deployments.go_live(did, "planner")


def test_snapshot_needs_templates(store):
    wl = store.watchlists.create("empty", "pc1")
    now = utcnow()
    dep = Deployment(
        "L", "B", "U", now, now + timedelta(hours=1), ("c",), 0.6, "p", watchlist_id=wl
    )
    did = store.deployments.create(dep, "p")
    with pytest.raises(WatchlistError, match="no unexpired subject"):
        store.watchlists.build_snapshot(did, "p")


def test_threshold_change_is_audited_with_old_new_and_reason(store, live_deployment):
    did = live_deployment["deployment"]
    with pytest.raises(DeploymentStateError, match="reason"):
        store.deployments.change_threshold(did, 0.7, "supt", "")
    store.deployments.change_threshold(did, 0.7, "supt", "NPL guidance")
    assert store.deployments.get(did).threshold == 0.7
    e = store.audit_events()[-1]
    assert e.action == "threshold_change" and e.actor == "supt"
    assert (e.details["old"], e.details["new"], e.details["reason"]) == (0.64, 0.7, "NPL guidance")


def test_snapshot_templates_are_the_watchlist_templates(store, live_deployment, samples):
    entries = store.watchlists.snapshot_templates(live_deployment["deployment"], "matcher")
    assert len(entries) == 1 and entries[0].subject_id == live_deployment["subject"]
    assert entries[0].model_id == "dlib-r34" and entries[0].category == "wanted_by_courts"
    assert entries[0].vector.tobytes() == samples.template(1).tobytes()
    assert store.audit_events()[-1].action == "view_biometric"


def test_faces_counted_only_while_live_and_only_for_its_cameras(store, live_deployment):
    did = live_deployment["deployment"]
    store.deployments.record_faces_seen(did, "cam-1", 1200)
    with pytest.raises(DeploymentStateError, match="not part"):
        store.deployments.record_faces_seen(did, "cam-9", 5)
    with pytest.raises(DeploymentStateError, match="negative"):
        store.deployments.record_faces_seen(did, "cam-1", -1)
    store.deployments.close(did, "planner")
    with pytest.raises(DeploymentStateError, match="live"):
        store.deployments.record_faces_seen(did, "cam-1", 5)
    assert store.deployments.record(did).faces_seen == 1200
