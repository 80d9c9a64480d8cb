"""`openlfr run`: the hamilton clip as footage against its performers plus distractors."""

from __future__ import annotations

import json
import os
import sys

import pytest

from openlfr.cli import main


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["openlfr", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


@pytest.fixture(scope="module")
def folder(shared_data, tmp_path_factory):
    """The two performers' references and 5 LFW distractors, one sub-folder each."""
    dest = tmp_path_factory.mktemp("wl")
    for ref in (shared_data / "video" / "hamilton-references").iterdir():
        (dest / ref.stem).mkdir()
        os.symlink(ref, dest / ref.stem / ref.name)
    for person in sorted(p for p in (shared_data / "lfw").iterdir() if p.is_dir())[:5]:
        first = sorted(person.glob("*.jpg"))[0]
        (dest / person.name).mkdir()
        os.symlink(first, dest / person.name / first.name)
    return dest


def test_run_footage_writes_alerts_and_summary(monkeypatch, capsys, shared_data, folder, tmp_path):
    alerts, summary = tmp_path / "alerts.jsonl", tmp_path / "summary.json"
    code, out, err = run(
        monkeypatch, capsys, "run", "--source", str(shared_data / "video" / "hamilton-360p.mp4"),
        "--watchlist", str(folder), "--as-fast-as-possible", "--min-face", "60",
        "--detect-every", "4", "--alerts-out", str(alerts), "--summary-out", str(summary),
    )  # fmt: skip
    assert code == 0, err
    assert "(calibrated for FPIR 0.0001" in out  # the shipped calibration
    lines = [json.loads(x) for x in alerts.read_text().splitlines()]
    assert [x["subject"] for x in lines] == ["lin-manuel-miranda"]
    for key in ("camera", "track", "subject", "similarity", "expected_fpir", "first_seen",
                "alerted_at"):  # fmt: skip
        assert key in lines[0]
    assert "probe_jpeg" not in lines[0]
    s = json.loads(summary.read_text())
    for key in ("faces_seen", "tracks", "frames_processed", "frames_dropped", "alerts",
                "video_seconds", "wall_seconds"):  # fmt: skip
        assert key in s
    assert s["frames_processed"] == 275 and s["frames_dropped"] == 0 and s["alerts"] == 1
    assert s["faces_seen"] >= 1 and "ALERT" in out and "Summary" in out


def test_bad_sources(monkeypatch, capsys, shared_data, folder, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    code, out, err = run(
        monkeypatch, capsys, "run", "--source", str(tmp_path / "missing.mp4"), "--source",
        str(bad), "--source", "gopher://cam/x", "--watchlist", str(folder), "--threshold", "0.99",
    )  # fmt: skip
    assert code == 1
    assert "no such file" in err and "gopher" in err and "Traceback" not in err + out
    # An unsupported URL scheme or a bad option: one line, exit 2.
    code, out, err = run(
        monkeypatch, capsys, "run", "--source", "gopher://cam", "--watchlist", str(folder),
        "--roi", "1,2,3",
    )  # fmt: skip
    assert code == 2 and err.startswith("error:") and "Traceback" not in err


def test_an_unknown_detector_is_a_one_line_error(monkeypatch, capsys, tmp_path):
    code, _, err = run(
        monkeypatch, capsys, "run", "--source", str(tmp_path / "x.mp4"), "--watchlist", "w",
        "--detector", "nope",
    )  # fmt: skip
    assert code == 2 and "detector must be one of" in err and "Traceback" not in err
