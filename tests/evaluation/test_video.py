"""Scoring the live pipeline on a simulated scene."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from openlfr.errors import ConfigError
from openlfr.evaluation.video import AlertRecord, iou, read_alerts_jsonl, score_alerts
from openlfr.simulate.truth import PassTruth, SceneTruth

FPS = 10.0


def walk(pid, name, listed, first, last, x, first_visible=None) -> PassTruth:
    n = last - first + 1
    return PassTruth(
        pid, name, listed, f"{name}/{name}_0001.jpg",
        (f"watchlist/{name}/{name}_0002.jpg",) if listed else (), first, last,
        first if first_visible is None else first_visible,
        ((x, 100, x + 50, 150),) * n, (1.0,) * n,
    )  # fmt: skip


def scene() -> SceneTruth:
    return SceneTruth(
        FPS, 960, 540, 100, 0, "",
        (
            walk("p1", "Ann", True, 0, 49, 100, first_visible=5),
            walk("p2", "Bob", True, 20, 69, 300),
            walk("p3", "Cid", False, 10, 59, 500),
            walk("p4", "Dee", True, 80, 99, 700),
        ),
    )  # fmt: skip


def on(x, subject, t) -> AlertRecord:
    return AlertRecord(subject, t, box=(x + 2.0, 101.0, x + 51.0, 149.0))


def test_true_duplicate_and_false_alerts():
    alerts = [
        on(100, "Ann", 2.0),  # true, 1.5 s after Ann appeared (frame 5)
        on(100, "Ann", 3.0),  # the same pass again: a duplicate, not a false alert
        on(500, "Ann", 3.0),  # Cid is not listed
        on(300, "Ann", 4.0),  # Bob named as Ann
        on(300, "Bob", 5.0),  # true, 3.0 s after frame 20
        AlertRecord("Bob", 8.0, box=(0.0, 0.0, 10.0, 10.0)),  # nobody there
    ]
    s = score_alerts(scene(), alerts, faces_seen=4)
    assert [o.kind for o in sorted(s.outcomes, key=lambda o: o.alert.alerted_s)] == [
        "true", "duplicate", "false", "false", "true", "false",
    ]  # fmt: skip
    assert (s.listed_passes, s.alerted_passes, s.true_alerts) == (3, 2, 2)
    assert s.tpir == pytest.approx(2 / 3)
    assert (s.false_alerts, s.duplicate_alerts) == (3, 1)
    assert s.false_alerts_per_1000 == pytest.approx(750.0)
    # Every box here is 50 px wide: never "recognisable" (60 px), so latency counts 0;
    # from entry: 1.5 s (Ann, frame 5) and 3.0 s (Bob, frame 20).
    assert s.latencies == [0.0, 0.0] and s.latency_p95 == 0.0
    assert sorted(s.entry_latencies) == pytest.approx([1.5, 3.0])
    data = s.to_json()
    assert data["latency_from_entry_p50"] == pytest.approx(2.25)
    assert data["latency_from_entry_p95"] == pytest.approx(1.5 + 0.95 * 1.5)
    assert s.missed == ["Dee"]
    why = {o.why for o in s.outcomes if o.kind == "false"}
    assert why == {"Cid is not listed", "Bob named as Ann", "no person there"}


def test_report_has_the_required_fields():
    data = score_alerts(scene(), [on(100, "Ann", 2.0)], faces_seen=1000).to_json()
    for key in ("tpir", "false_alerts", "faces_seen", "false_alerts_per_1000",
                "latency_p50", "latency_p95"):  # fmt: skip
        assert key in data
    assert data["false_alerts_per_1000"] == 0.0 and data["tpir"] == pytest.approx(1 / 3, abs=1e-4)
    assert data["alerts"][0]["outcome"] == "true" and data["alerts"][0]["pass"] == "p1"
    json.dumps(data)


def test_no_alerts_and_no_faces():
    s = score_alerts(scene(), [], faces_seen=0)
    assert s.tpir == 0.0 and s.false_alerts == 0
    assert s.false_alerts_per_1000 is None and s.latency_p50 is None and s.latency_p95 is None


def test_alerts_without_a_box_match_by_subject_and_time():
    s = score_alerts(
        scene(),
        [AlertRecord("Dee", 8.5), AlertRecord("Dee", 2.0), AlertRecord("Ann", 5.3)],
        faces_seen=3,
    )
    kinds = {(o.alert.subject, o.alert.alerted_s): o.kind for o in s.outcomes}
    assert kinds == {("Dee", 8.5): "true", ("Dee", 2.0): "false", ("Ann", 5.3): "true"}


def test_a_box_of_another_shape_on_the_same_face_still_matches():
    big = AlertRecord("Ann", 2.0, box=(60.0, 60.0, 190.0, 190.0))  # IoU < 0.3, centred on Ann
    assert iou(big.box, (100, 100, 150, 150)) < 0.3
    (o,) = score_alerts(scene(), [big], faces_seen=1).outcomes
    assert o.kind == "true" and o.pass_id == "p1"


def test_alerts_from_the_pipeline_and_its_jsonl(tmp_path):
    from openlfr.live.alerts import AlertEvent

    t = datetime(2026, 1, 1, tzinfo=UTC)
    event = AlertEvent(
        camera="scene", track=3, subject="Bob", similarity=0.95, threshold=0.93,
        expected_fpir=None, model_id="m", first_seen=t, alerted_at=t, first_seen_s=2.2,
        alerted_s=3.0, shots=1, fusion="max", quality=0.8, box=(301.0, 100.0, 350.0, 151.0),
    )  # fmt: skip
    a = AlertRecord.from_event(event)
    path = tmp_path / "alerts.jsonl"
    path.write_text(json.dumps(event.to_json()) + "\n\n")
    (b,) = read_alerts_jsonl(path)
    assert a == b and a.box == (301.0, 100.0, 350.0, 151.0) and a.track == 3
    assert score_alerts(scene(), [b], 1).true_alerts == 1


def test_bad_alert_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_alerts_jsonl(tmp_path / "none.jsonl")
    (tmp_path / "a.jsonl").write_text("{oops\n")
    with pytest.raises(ConfigError, match="a.jsonl:1"):
        read_alerts_jsonl(tmp_path / "a.jsonl")
    (tmp_path / "b.jsonl").write_text('{"subject": "x"}\n')
    with pytest.raises(ConfigError, match="alerted_s"):
        read_alerts_jsonl(tmp_path / "b.jsonl")


def test_evaluating_a_folder_that_is_not_a_scene(tmp_path):
    from openlfr.evaluation.video import evaluate_scene

    with pytest.raises(ConfigError, match="not a scene folder"):
        evaluate_scene(tmp_path)


@pytest.mark.data
@pytest.mark.slow
def test_the_live_pipeline_on_a_small_scene(shared_data, tmp_path):
    """End to end: a listed person shown as a rendering of their enrolment photo (so an
    alert is certain if the pipeline works) and an unlisted LFW person."""
    from openlfr.evaluation.video import evaluate_scene
    from openlfr.live.pipeline import PipelineConfig
    from openlfr.simulate import CastMember, SceneConfig, build_scene
    from openlfr.vision.image import load_image

    lfw = shared_data / "lfw"
    photo = lfw / "Colin_Powell" / "Colin_Powell_0001.jpg"
    cast = [
        CastMember("Colin_Powell", True, load_image(photo), (photo,)),
        CastMember("Tony_Blair", False, lfw / "Tony_Blair" / "Tony_Blair_0001.jpg"),
    ]
    config = SceneConfig(minutes=0.1, seed=2, width=640, height=360, pass_seconds=(4.0, 5.0),
                         far_face=(30.0, 34.0), near_face=(110.0, 130.0), occluded_share=0.0,
                         max_yaw_deg=10.0)  # fmt: skip
    build_scene(cast, tmp_path / "scene", config, faces_root=lfw)
    # Looking only for faces of 60 px and more keeps the test quick (usable faces are
    # bigger anyway: the quality gate wants 24 px between the eyes).
    pipeline = PipelineConfig(workers=0, min_face=60)
    seen: list[tuple[int, int]] = []
    result = evaluate_scene(
        tmp_path / "scene",
        threshold=0.95,  # the same photo scores about 0.99; Tony Blair about 0.9
        config=pipeline,
        progress=lambda *a: seen.append(a),
    )
    assert seen and seen[-1] == (150, 150)  # the final status comes last
    assert result["listed_passes"] == 1 and result["passes"] == 2
    assert result["tpir"] == 1.0, result
    assert result["false_alerts"] == 0
    assert result["faces_seen"] >= 1
    assert result["latency_p50"] is not None and 0 <= result["latency_p50"] < 5
    assert result["latency_from_entry_p50"] > result["latency_p50"]  # the approach
    assert result["alerts"][0]["subject"] == "Colin_Powell"
    assert result["frames_processed"] == 150
    assert result["threshold"] == 0.95


def test_latency_from_a_recognisable_face_and_from_the_track_start():
    from openlfr.evaluation.video import first_recognisable

    boxes = tuple((100, 100, 100 + w, 100 + w) for w in (30, 45, 60, 60, 70, 80))
    grow = PassTruth("p1", "Ann", True, "a", ("w",), 10, 15, 10, boxes,
                     (1.0, 1.0, 0.5, 1.0, 1.0, 1.0))  # fmt: skip
    assert first_recognisable(grow) == 13  # 60 px wide and (unlike frame 12) in view
    truth = SceneTruth(FPS, 960, 540, 100, 0, "", (grow,))
    alert = AlertRecord("Ann", 1.5, first_seen_s=1.2, box=(100.0, 100.0, 170.0, 170.0))
    s = score_alerts(truth, [alert], faces_seen=1)
    data = s.to_json()
    assert data["latency_p50"] == pytest.approx(0.2)  # from frame 13, the recognisable one
    assert data["latency_from_recognisable_p95"] == pytest.approx(0.2)  # the same, by name
    assert data["latency_from_entry_p50"] == pytest.approx(0.5)  # from frame 10
    assert data["latency_from_track_p95"] == pytest.approx(0.3)
    assert data["alerts"][0]["latency_s"] == pytest.approx(0.2)  # each alert's own latency


def test_an_alert_before_the_face_is_recognisable_counts_zero_latency():
    boxes = tuple((100, 100, 100 + w, 100 + w) for w in (30, 40, 50, 60, 70))
    grow = PassTruth("p1", "Ann", True, "a", ("w",), 10, 14, 10, boxes, (1.0,) * 5)  # fmt: skip
    truth = SceneTruth(FPS, 960, 540, 100, 0, "", (grow,))
    early = AlertRecord("Ann", 1.1, box=(100.0, 100.0, 140.0, 140.0))  # frame 11: 40 px
    s = score_alerts(truth, [early], faces_seen=1)
    assert s.true_alerts == 1
    assert s.latencies == [0.0]  # not -0.2 s: frame 13 is the first recognisable one
    assert s.entry_latencies == pytest.approx([0.1])


def test_processing_delay_counts_in_latency_but_not_in_finding_the_pass():
    boxes = tuple((100, 100, 100 + w, 100 + w) for w in (50, 60, 70, 80, 90))
    grow = PassTruth("p1", "Ann", True, "a", ("w",), 10, 14, 10, boxes, (1.0,) * 5)  # fmt: skip
    truth = SceneTruth(FPS, 960, 540, 100, 0, "", (grow,))
    # Raised on frame 14 (its box is the one there), out 0.4 s later: after the pass ended.
    late = AlertRecord("Ann", 1.4, box=(100.0, 100.0, 190.0, 190.0), delay_s=0.4)
    s = score_alerts(truth, [late], faces_seen=1)
    assert s.true_alerts == 1
    assert s.latencies == pytest.approx([0.7])  # 1.4 + 0.4 - frame 11
    data = s.to_json()
    assert data["alert_delay_p95"] == pytest.approx(0.4)
    assert data["latency_from_entry_p50"] == pytest.approx(0.8)
