"""`openlfr simulate` and `openlfr evaluate video` (scoring an earlier run's alerts)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from openlfr.cli import main


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["openlfr", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


@pytest.fixture
def faces(tmp_path: Path) -> Path:
    root = tmp_path / "faces"
    for i in range(5):
        for j in range(2):
            img = np.full((250, 250, 3), 90, np.uint8)
            cv2.ellipse(img, (124, 132), (50, 60), 0, 0, 360, (60 + 30 * i, 150, 40 * j), -1)
            (root / f"P{i}").mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / f"P{i}" / f"P{i}_{j + 1:04d}.jpg"), img)
    return root


def simulate(monkeypatch, capsys, faces: Path, out: Path, *extra: str):
    return run(
        monkeypatch, capsys, "simulate", "--faces", str(faces), "--out", str(out),
        "--people", "4", "--listed", "2", "--minutes", "0.1", "--size", "320x240",
        "--fps", "10", "--seed", "3", *extra,
    )  # fmt: skip


def test_simulate_writes_a_scene(monkeypatch, capsys, faces, tmp_path):
    out = tmp_path / "scene"
    code, stdout, _ = simulate(monkeypatch, capsys, faces, out)
    assert code == 0, stdout
    assert "4 people (2 listed), 60 frames" in " ".join(stdout.split())
    truth = json.loads((out / "truth.json").read_text())
    assert (truth["width"], truth["height"], truth["fps"], truth["seed"]) == (320, 240, 10, 3)
    assert sum(p["listed"] for p in truth["people"]) == 2
    assert len(list((out / "watchlist").iterdir())) == 2
    assert (out / "scene.mp4").stat().st_size > 1000


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--size", "big"), "--size must be WIDTHxHEIGHT"),
        (("--listed", "9"), "--listed must be between 0 and --people"),
        (("--minutes", "0"), "--minutes must be more than 0"),
    ],
)
def test_simulate_bad_options_are_one_line_errors(
    monkeypatch, capsys, faces, tmp_path, extra, message
):
    code, _, err = simulate(monkeypatch, capsys, faces, tmp_path / "scene", *extra)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_simulate_needs_a_faces_folder(monkeypatch, capsys, tmp_path):
    code, _, err = simulate(monkeypatch, capsys, tmp_path / "nope", tmp_path / "scene")
    assert code == 2 and "not a folder" in err


def test_evaluate_video_scores_an_alerts_file(monkeypatch, capsys, faces, tmp_path):
    out = tmp_path / "scene"
    assert simulate(monkeypatch, capsys, faces, out)[0] == 0
    truth = json.loads((out / "truth.json").read_text())
    listed = next(p for p in truth["people"] if p["listed"])
    unlisted = next(p for p in truth["people"] if not p["listed"])
    last = listed["last_frame"]
    alerts = tmp_path / "alerts.jsonl"
    lines = [
        {"subject": listed["identity"], "alerted_s": last / 10, "box": listed["boxes"][-1]},
        {"subject": listed["identity"], "alerted_s": unlisted["last_frame"] / 10,
         "box": unlisted["boxes"][-1]},
    ]  # fmt: skip
    alerts.write_text("".join(json.dumps(x) + "\n" for x in lines))
    report = tmp_path / "video.json"
    code, stdout, err = run(
        monkeypatch, capsys, "evaluate", "video", "--scene", str(out), "--alerts", str(alerts),
        "--faces-seen", "4", "--json", str(report),
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(report.read_text())
    assert data["tpir"] == 0.5 and data["false_alerts"] == 1 and data["faces_seen"] == 4
    assert data["false_alerts_per_1000"] == 250.0
    assert data["latency_p50"] == data["latency_p95"] is not None
    assert "per-pass TPIR" in stdout


def test_evaluate_video_errors(monkeypatch, capsys, tmp_path):
    code, _, err = run(monkeypatch, capsys, "evaluate", "video", "--scene", str(tmp_path))
    assert code == 2 and "not a scene folder" in err
    code, _, err = run(
        monkeypatch, capsys, "evaluate", "video", "--scene", str(tmp_path), "--alerts", "a.jsonl"
    )
    assert code == 2 and "--faces-seen" in err
