"""The supervisor runs real live pipelines for live deployments, against their watchlist
snapshots, and stores what they emit; cameras fail alone; closing stops them."""

from __future__ import annotations

import logging
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from openlfr.api.broker import AlertBroker
from openlfr.api.context import AlertSink
from openlfr.api.metrics import Metrics
from openlfr.domain import Category, Deployment, ReferenceImageInfo, Subject
from openlfr.domain.clock import utcnow
from openlfr.live.pipeline import PipelineConfig
from openlfr.service.operations import start_deployment
from openlfr.service.supervisor import ACTOR, LiveSupervisor
from openlfr.vision.image import load_image

LIN = "lin-manuel-miranda"


@pytest.fixture(scope="module")
def engine():
    from openlfr.vision.engine import FaceEngine

    return FaceEngine.from_backend("dlib")


@pytest.fixture(scope="module")
def blank_clip(tmp_path_factory) -> Path:
    """Two seconds of a test pattern: no face anywhere."""
    out = tmp_path_factory.mktemp("clip") / "blank.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
         "-t", "2", "-pix_fmt", "yuv420p", "-y", str(out)],
        check=True,
    )  # fmt: skip
    return out


def enrol(store, engine, name: str, image_path: Path | None, template=None) -> str:
    from openlfr.gallery.enrol import judge

    now = utcnow()
    sid = store.subjects.add(
        Subject(name, Category.WANTED_BY_COURTS, "wm", now + timedelta(days=30)), "wm"
    )
    info = ReferenceImageInfo("press photo", "test", "wm")
    if image_path is not None:
        verdict = judge(engine, load_image(image_path), name, image_path.name, None)
        assert verdict.verdict.enrolled
        template, data = verdict.template, image_path.read_bytes()
    else:
        data = b"\x89PNG\r\n\x1a\n" + bytes(64)
    store.subjects.add_image(sid, data, info, "wm", template, engine.model_id)
    return sid


def go_live(store, subjects, sources: dict[str, str], cameras, threshold=0.93) -> str:
    now = utcnow()
    wl = store.watchlists.create(f"wl-{time.monotonic_ns()}", "wm")
    for sid in subjects:
        store.watchlists.add_subject(wl, sid, "wm")
    dep = Deployment(
        "Stage door", "Manhattan", "test", now - timedelta(minutes=5), now + timedelta(hours=1),
        tuple(cameras), threshold, "op", watchlist_id=wl,
    )  # fmt: skip
    did = store.deployments.create(dep, "op", sources)
    store.deployments.authorise(did, "Supt Jones")
    start_deployment(store, did, "op")
    return did


def service(store):
    metrics = Metrics(store)
    return SimpleNamespace(store=store, sink=AlertSink(store, AlertBroker(), metrics),
                           metrics=metrics)  # fmt: skip


def supervisor(engine, **kw) -> LiveSupervisor:
    config = PipelineConfig(workers=0, backend="dlib", status_interval_s=0.2)
    return LiveSupervisor(config, realtime=False, engine_factory=lambda: engine,
                          poll_seconds=0, **kw)  # fmt: skip


def test_a_live_deployment_alerts_on_the_listed_performer(store, engine, stage_clip, shared_data):
    refs = shared_data / "video" / "hamilton-references"
    lin = enrol(store, engine, LIN, refs / f"{LIN}.png")
    other = enrol(store, engine, "someone else", None, np.eye(128, dtype=np.float32)[0])
    did = go_live(store, [lin, other], {"stage": str(stage_clip)}, ["stage"])
    ctx = service(store)
    sup = supervisor(engine)
    sup.start(ctx)  # picks up the deployment already live
    assert sup.wait(did, timeout=120)
    stats = sup.camera_stats(did)["stage"]
    assert stats.state == "finished" and stats.frames_processed > 100, stats
    alerts = ctx.store.deployments.record(did)
    assert alerts.alerts == 1 and alerts.faces_seen == stats.faces_seen >= 1
    from openlfr.store.listing import Listing

    (view,) = Listing(store).alerts(did, None, 10, 0)
    assert view.alert.subject_id == lin and view.alert.camera == "stage"
    assert view.alert.score >= 0.93 and view.has_image
    assert store.alerts.view_live_image(view.alert.id, "op", "check")[:3] == b"\xff\xd8\xff"
    seen = [e for e in store.audit_events() if e.actor == ACTOR]
    assert [e.action for e in seen] == ["view_biometric"]  # the snapshot, for matching
    metrics = ctx.metrics.render().decode()
    assert f'openlfr_camera_state{{camera="stage",deployment="{did}",state="stopped"}} 1.0' in (
        metrics
    )
    assert f'openlfr_faces_seen_total{{camera="stage",deployment="{did}"}}' in metrics
    sup.stop()


def test_cameras_fail_alone_and_close_stops_the_pipelines(store, engine, blank_clip, caplog):
    template = np.eye(128, dtype=np.float32)[1]
    sid = enrol(store, engine, "nobody here", None, template)
    secret = "rtsp://admin:pw-xyz@127.0.0.1:1/live"
    sources = {"ok": str(blank_clip), "gone": "/nonexistent/clip.mp4", "door": secret}
    did = go_live(store, [sid], sources, ["ok", "gone", "door", "spare"])
    ctx = service(store)
    sup = supervisor(engine, source_options={"max_reconnects": 0, "connect_timeout_s": 2})
    caplog.set_level(logging.INFO, logger="openlfr")
    sup.start(ctx)
    assert sup.wait(did, timeout=60)
    stats = sup.camera_stats(did)
    assert stats["ok"].state == "finished" and stats["ok"].frames_processed >= 19
    assert stats["spare"].error == "no source configured"
    assert "no such file" in stats["gone"].error
    assert "cannot reach the camera" in stats["door"].error
    assert stats["door"].source == "rtsp://***:***@127.0.0.1:1/live"
    assert "pw-xyz" not in repr(stats) + caplog.text
    assert store.deployments.record(did).alerts == 0
    store.deployments.close(did, "op")
    sup.deployment_changed(did)
    assert did not in sup.runs
    sup.stop()


def test_threshold_changes_reach_a_running_pipeline_and_close_stops_it(store, engine, blank_clip):
    sid = enrol(store, engine, "nobody here", None, np.eye(128, dtype=np.float32)[2])
    did = go_live(store, [sid], {"cam": str(blank_clip)}, ["cam"])
    sup = LiveSupervisor(
        PipelineConfig(workers=0, backend="dlib"), realtime=True,
        engine_factory=lambda: engine, poll_seconds=0.2,
    )  # fmt: skip
    sup.start(service(store))
    deadline = time.monotonic() + 30
    while sup.runs[did].cameras["cam"].pipeline is None and time.monotonic() < deadline:
        time.sleep(0.05)
    store.deployments.change_threshold(did, 0.97, "Supt Jones", "fewer false alerts")
    deadline = time.monotonic() + 5
    pipe = sup.runs[did].cameras["cam"].pipeline
    while pipe.decider.threshold != 0.97 and time.monotonic() < deadline:
        time.sleep(0.05)  # picked up by the poll: nobody called deployment_changed
    assert pipe.decider.threshold == 0.97 and pipe.threshold.value == 0.97
    store.deployments.close(did, "op")
    deadline = time.monotonic() + 10
    while did in sup.runs and time.monotonic() < deadline:
        time.sleep(0.05)
    assert did not in sup.runs
    sup.stop()
