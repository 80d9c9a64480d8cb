"""Sinks and alert evidence: JSONL lines, images only on request, blurred bystanders."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image

from openlfr.errors import ConfigError
from openlfr.live.alerts import AlertEvent, blur_faces, encode_jpeg, evidence_frame
from openlfr.live.counters import CameraStats
from openlfr.live.sinks import ConsoleSink, JsonlSink, MemorySink, MultiSink, Sink


def event(**changes) -> AlertEvent:
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    fields = dict(
        camera="cam1", track=7, subject="alice", similarity=0.951234, threshold=0.94,
        expected_fpir=1e-4, model_id="dlib-resnet-v1", first_seen=now, alerted_at=now,
        first_seen_s=1.0, alerted_s=1.5, shots=2, fusion="max", quality=0.8,
        box=(10.0, 10.0, 50.0, 50.0), probe_jpeg=b"\xff\xd8probe", evidence_jpeg=b"\xff\xd8ev",
    )  # fmt: skip
    fields.update(changes)
    return AlertEvent(**fields)


def test_jsonl_has_the_required_fields_and_no_images_by_default(tmp_path):
    path = tmp_path / "out" / "alerts.jsonl"
    sink = JsonlSink(path)
    sink.on_alert(event())
    sink.on_alert(event(track=8, subject="bob"))
    sink.close()
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [x["subject"] for x in lines] == ["alice", "bob"]
    for key in ("camera", "track", "subject", "similarity", "expected_fpir", "first_seen",
                "alerted_at"):  # fmt: skip
        assert key in lines[0]
    assert lines[0]["latency_s"] == 0.5
    assert "probe_jpeg" not in lines[0] and "evidence_jpeg" not in lines[0]


def test_jsonl_images_as_base64_when_asked(tmp_path):
    path = tmp_path / "a.jsonl"
    sink = JsonlSink(path, include_images=True)
    sink.on_alert(event())
    sink.close()
    line = json.loads(path.read_text())
    assert base64.b64decode(line["probe_jpeg"]) == b"\xff\xd8probe"


def test_jsonl_unwritable_path_is_a_config_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError):
        JsonlSink(tmp_path / "file" / "alerts.jsonl")


def test_domain_fields_build_the_service_alert_event():
    from openlfr.domain.alerts import AlertEvent as DomainAlertEvent

    domain = DomainAlertEvent(deployment_id="d1", **event().domain_fields())
    assert domain.subject_id == "alice" and domain.track_id == "7"
    assert domain.live_image == b"\xff\xd8probe"


def test_multi_sink_fans_out_and_survives_one_failure():
    class Broken:
        def on_alert(self, e):
            raise RuntimeError("down")

        def on_status(self, s):
            pass

        def close(self):
            pass

    good = MemorySink()
    multi = MultiSink([Broken(), good])
    with pytest.raises(RuntimeError):
        multi.on_alert(event())
    assert len(good.alerts) == 1
    multi.on_status(CameraStats(camera="cam1", frames_processed=3))
    assert good.status["cam1"].frames_processed == 3
    for s in (good, ConsoleSink(), Broken(), multi):
        assert isinstance(s, Sink)


def test_console_sink_prints_one_line(capsys):
    from rich.console import Console

    ConsoleSink(Console(width=300)).on_alert(event())
    out = capsys.readouterr().out
    assert "alice" in out and "cam1" in out and "0.951" in out


def _decode(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).astype(int)


def test_evidence_blurs_every_other_face_and_keeps_the_alerting_one():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)  # sharp noise everywhere
    keep, other = (20.0, 20.0, 80.0, 80.0), (180.0, 60.0, 260.0, 140.0)
    ev = _decode(evidence_frame(img, keep, [other]))
    ref = _decode(encode_jpeg(img))
    inside = (slice(30, 70), slice(30, 70))
    assert np.abs(ev[inside] - ref[inside]).mean() < 5  # untouched (JPEG noise only)
    region = ev[70:130, 190:250]
    assert region.std() < 0.3 * img[70:130, 190:250].std()  # the bystander is gone
    blurred = blur_faces(img, [other])
    assert not np.array_equal(blurred, img) and np.array_equal(blurred[:, :150], img[:, :150])
