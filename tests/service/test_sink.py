"""The deployment sink: live alerts become stored alerts; faces seen are stored as count
deltas; a refusal by the store is logged and never stops the pipeline."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from openlfr.api.broker import AlertBroker
from openlfr.api.context import AlertSink
from openlfr.api.metrics import Metrics
from openlfr.domain.clock import utcnow
from openlfr.live.alerts import AlertEvent
from openlfr.live.counters import CameraStats
from openlfr.service.sink import DeploymentSink

JPEG = b"\xff\xd8\xff\xe0" + bytes(100)


def live_event(subject: str, similarity: float = 0.95) -> AlertEvent:
    now = utcnow()
    return AlertEvent(
        camera="cam-1", track=7, subject=subject, similarity=similarity, threshold=0.64,
        expected_fpir=None, model_id="dlib-r34", first_seen=now, alerted_at=now,
        first_seen_s=1.0, alerted_s=2.0, shots=2, fusion="max", quality=0.8,
        box=(1.0, 2.0, 30.0, 40.0), probe_jpeg=JPEG, evidence_jpeg=JPEG,
    )  # fmt: skip


def test_alerts_and_face_counts_are_stored(store, live_deployment, caplog):
    did = live_deployment["deployment"]
    metrics = Metrics()
    sink = DeploymentSink(did, "cam-1", AlertSink(store, AlertBroker(), metrics), metrics)
    sink.on_alert(live_event(live_deployment["subject"]))
    (alert_id,) = sink.alert_ids
    alert = store.alerts.get(alert_id)
    assert (alert.subject_id, alert.track_id, alert.score) == (
        live_deployment["subject"],
        "7",
        0.95,
    )
    assert store.alerts.view_live_image(alert_id, "op", "check") == JPEG
    stats = CameraStats(camera="cam-1", state="live", faces_seen=3)
    sink.on_status(stats)
    sink.on_status(replace(stats, faces_seen=5, state="finished"))
    sink.on_status(replace(stats, faces_seen=5, state="finished"))
    assert store.deployments.record(did).faces_seen == 5
    text = metrics.render().decode()
    assert f'openlfr_camera_state{{camera="cam-1",deployment="{did}",state="stopped"}} 1.0' in text
    # Below the threshold, or after close: refused by the store, logged, not raised.
    sink.on_alert(live_event(live_deployment["subject"], similarity=0.1))
    store.deployments.close(did, "op")
    sink.on_alert(live_event(live_deployment["subject"]))
    sink.on_status(replace(stats, faces_seen=6))
    assert len(sink.alert_ids) == 1
    assert "below the deployment's threshold" in caplog.text and "only accepted" in caplog.text


def test_sink_works_without_metrics(store, live_deployment):
    calls = []
    service = SimpleNamespace(
        alert=lambda e: calls.append(e) or "id-1", faces_seen=lambda *a: calls.append(a)
    )
    sink = DeploymentSink(live_deployment["deployment"], "cam-2", service)
    sink.on_alert(live_event("s-1"))
    sink.on_status(CameraStats(camera="cam-2", faces_seen=2))
    assert calls[0].deployment_id == live_deployment["deployment"] and calls[0].camera == "cam-1"
    assert calls[1] == (live_deployment["deployment"], "cam-2", 2)
