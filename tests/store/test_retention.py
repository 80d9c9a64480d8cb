from datetime import timedelta

import pytest
from sqlalchemy import select

from openlfr.domain import AlertEvent, NotFoundError, RetentionPolicy
from openlfr.domain.clock import utcnow
from openlfr.store.models import AlertRow, SnapshotEntryRow


def test_purge_applies_each_period_and_audits_counts(store, live_deployment, samples):
    ids = live_deployment
    now = utcnow()
    aid = store.alerts.create_from_event(
        AlertEvent(
            ids["deployment"], "cam-1", ids["subject"], 0.9, now, "t1", ids["image"], samples.png
        )
    )
    store.alerts.adjudicate(aid, "true_alert", "op1")
    store.deployments.close(ids["deployment"], "planner", now=now)

    # Nothing is due yet.
    first = store.purge("admin", now=now + timedelta(hours=1))
    assert first.as_dict() == dict.fromkeys(first.as_dict(), 0)
    assert store.alerts.view_live_image(aid, "op1", "check") == samples.png

    # 25 hours after close: the snapshot goes; alert media stay (31 days).
    second = store.purge("admin", now=now + timedelta(hours=25))
    assert (second.snapshots, second.snapshot_templates, second.alert_images) == (1, 1, 0)
    with store.transaction() as s:
        assert s.scalars(select(SnapshotEntryRow)).all() == []
    with pytest.raises(NotFoundError):
        store.watchlists.snapshot_templates(ids["deployment"], "matcher")

    # A custom 7-day media period, then the default 31 days for evidence.
    policy = RetentionPolicy(alert_media=timedelta(days=7))
    third = store.purge("admin", policy, now=now + timedelta(days=8))
    assert (third.alert_images, third.alert_evidence) == (1, 0)
    with pytest.raises(NotFoundError, match="purged"):
        store.alerts.view_live_image(aid, "op1", "check")
    fourth = store.purge("admin", now=now + timedelta(days=91))
    assert (fourth.alert_evidence, fourth.expired_subjects) == (1, 1)
    with store.transaction() as s:
        row = s.get(AlertRow, aid)
        assert row.subject_id is None and row.live_image is None and row.verdict == "true_alert"

    # The record survives (anonymous verdicts stay); the audit holds counts, never data.
    assert store.deployments.record(ids["deployment"]).true_alerts == 1
    purges = [e for e in store.audit_events() if e.action == "purge"]
    assert [e.details["snapshots"] for e in purges] == [0, 1, 0, 0]
    assert purges[2].details["policy"]["alert_media_days"] == 7
    assert store.audit_verify() is None
