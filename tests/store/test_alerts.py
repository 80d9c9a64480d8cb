from datetime import timedelta

import pytest

from openlfr.domain import (
    AdjudicationError,
    AlertEvent,
    DeploymentStateError,
    NotFoundError,
    Outcome,
    Verdict,
)
from openlfr.domain.clock import utcnow


def _event(ids, score=0.8, camera="cam-1", image=None):
    return AlertEvent(
        ids["deployment"], camera, ids["subject"], score, utcnow(), "t1", ids["image"], image
    )


def test_alert_from_event_then_adjudication_with_override(store, live_deployment, samples):
    aid = store.alerts.create_from_event(_event(live_deployment, image=samples.png))
    alert = store.alerts.adjudicate(aid, "true_alert", "op1")
    assert alert.verdict is Verdict.TRUE_ALERT
    with pytest.raises(AdjudicationError, match="override"):
        store.alerts.adjudicate(aid, "false_alert", "op2")
    store.alerts.adjudicate(aid, "false_alert", "op2", override_reason="second look: not him")
    store.alerts.set_outcome(aid, Outcome.NOT_ENGAGED, "op2")
    got = store.alerts.get(aid)
    assert [a.verdict for a in got.adjudications] == [Verdict.TRUE_ALERT, Verdict.FALSE_ALERT]
    assert got.adjudications[1].override_reason == "second look: not him"
    assert got.outcome is Outcome.NOT_ENGAGED
    decisions = [e for e in store.audit_events() if e.object_type == "alert"]
    assert [e.action for e in decisions] == ["create", "adjudicate", "adjudicate", "outcome"]
    assert decisions[2].details["override_reason"] == "second look: not him"


def test_alert_rules(store, live_deployment):
    with pytest.raises(DeploymentStateError, match="below"):
        store.alerts.create_from_event(_event(live_deployment, score=0.5))
    with pytest.raises(DeploymentStateError, match="not part"):
        store.alerts.create_from_event(_event(live_deployment, camera="cam-x"))
    with pytest.raises(NotFoundError):
        store.alerts.adjudicate("missing", "true_alert", "op1")
    store.deployments.close(live_deployment["deployment"], "planner")
    with pytest.raises(DeploymentStateError, match="live"):
        store.alerts.create_from_event(_event(live_deployment))


def test_viewing_the_live_image_is_audited(store, live_deployment, samples):
    aid = store.alerts.create_from_event(_event(live_deployment, image=samples.png))
    assert store.alerts.view_live_image(aid, "op1", "side-by-side") == samples.png
    e = store.audit_events()[-1]
    assert (e.action, e.object_id, e.actor) == ("view_biometric", aid, "op1")


def test_deployment_record_is_computed_from_stored_alerts(store, live_deployment):
    did = live_deployment["deployment"]
    store.deployments.record_faces_seen(did, "cam-1", 3000)
    store.deployments.record_faces_seen(did, "cam-2", 1000)
    plan = [
        ("true_alert", "engaged_arrested"),
        ("true_alert", "engaged_no_further_action"),
        ("false_alert", "not_engaged"),
        (None, None),
    ]
    for verdict, outcome in plan:
        aid = store.alerts.create_from_event(_event(live_deployment))
        if verdict:
            store.alerts.adjudicate(aid, verdict, "op1")
            store.alerts.set_outcome(aid, outcome, "op1")
    store.deployments.close(did, "planner", now=utcnow() + timedelta(minutes=1))
    r = store.deployments.record(did)
    assert (r.watchlist_size, r.threshold, r.faces_seen) == (1, 0.64, 4000)
    assert (r.alerts, r.true_alerts, r.false_alerts, r.unadjudicated) == (4, 2, 1, 1)
    assert (r.engagements, r.arrests) == (2, 1) and r.false_alert_rate == 1 / 4000
    assert (r.location, r.borough) == ("Oxford Circus", "Westminster") and r.end > r.start
