"""`openlfr identify`: 1:N search of still images against a folder or a stored watchlist."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from openlfr.cli import main
from openlfr.errors import CalibrationError, ConfigError
from openlfr.gallery.identify import FALLBACK_THRESHOLDS, resolve_threshold


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["openlfr", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


@pytest.fixture
def setup(tmp_path, shared_data):
    """A watchlist folder of two people (first photo each) and probes."""
    lfw = shared_data / "lfw"
    wl = tmp_path / "wl"
    for person in ("Colin_Powell", "George_W_Bush"):
        (wl / person).mkdir(parents=True)
        src = lfw / person / f"{person}_0001.jpg"
        (wl / person / src.name).write_bytes(src.read_bytes())
    from PIL import Image

    grey = tmp_path / "grey.png"
    Image.new("RGB", (120, 120), (90, 90, 90)).save(grey)
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    probes = {
        "powell": lfw / "Colin_Powell" / "Colin_Powell_0003.jpg",
        "bush": lfw / "George_W_Bush" / "George_W_Bush_0003.jpg",
        "stranger": lfw / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg",
        "grey": grey,
        "bad": bad,
    }
    return wl, probes


def test_threshold_resolution():
    assert resolve_threshold("m", 10, threshold=0.5).value == 0.5
    t = resolve_threshold("dlib-resnet-v1", 10)
    assert t.value == FALLBACK_THRESHOLDS["dlib-resnet-v1"] and "fallback" in t.source
    with pytest.raises(CalibrationError, match="--threshold"):
        resolve_threshold("unknown-model", 10)
    with pytest.raises(ConfigError):
        resolve_threshold("m", 10, threshold=1.5)
    with pytest.raises(ConfigError):
        resolve_threshold("dlib-resnet-v1", 10, target_fpir=0)


def test_threshold_from_calibration():
    import numpy as np

    from openlfr.gallery.calibration import calibrate_from_templates

    rng = np.random.default_rng(0)
    templates = {f"p{i}": rng.normal(size=(2, 16)) for i in range(200)}
    cal = calibrate_from_templates("toy-model", templates)
    cal.save()
    t = resolve_threshold("toy-model", 5, target_fpir=0.01)
    assert "calibrated for FPIR 0.01 against 5 templates" in t.source
    assert t.value == pytest.approx(max(0.0, cal.threshold_for_fpir(0.01, 5)))
    # a larger watchlist needs a higher threshold for the same FPIR
    assert resolve_threshold("toy-model", 500, target_fpir=0.01).value >= t.value


@pytest.mark.data
def test_identify_against_folder_json(monkeypatch, capsys, setup):
    wl, p = setup
    images = [str(p[k]) for k in ("powell", "bush", "stranger", "grey", "bad")]
    code, out, err = run(monkeypatch, capsys, "identify", *images, "--watchlist", str(wl), "--json")
    assert code == 1  # one image was unreadable; the others were still searched
    payload = json.loads(out)
    assert payload["threshold_source"].startswith("calibrated")
    assert payload["enrolment"]["enrolled_subjects"] == ["Colin_Powell", "George_W_Bush"]
    res = {Path(r["image"]).name: r for r in payload["images"]}
    powell = res["Colin_Powell_0003.jpg"]["faces"]
    assert powell[0]["subject"] == "Colin_Powell"
    assert powell[0]["similarity"] >= payload["threshold"]
    assert res["George_W_Bush_0003.jpg"]["faces"][0]["subject"] == "George_W_Bush"
    assert [f["subject"] for f in res["Aaron_Eckhart_0001.jpg"]["faces"]] == [None]
    assert res["grey.png"]["faces"] == []
    assert "not a supported image" in res["bad.jpg"]["error"]
    assert "Traceback" not in err


@pytest.mark.data
def test_identify_against_stored_watchlist_table(monkeypatch, capsys, setup):
    wl, p = setup
    assert run(monkeypatch, capsys, "watchlist", "enrol", "--from", str(wl), "-w", "two")[0] == 0
    code, out, _ = run(
        monkeypatch, capsys, "identify", str(p["powell"]), str(p["stranger"]), str(p["grey"]),
        "--watchlist", "two",
    )  # fmt: skip
    assert code == 0
    assert "watchlist two: 2 people, 2 templates" in out
    assert "Colin_Powell" in out and "unknown" in out and "no face found" in out
    # an absurdly strict threshold: nobody matches
    code, out, _ = run(
        monkeypatch, capsys, "identify", str(p["powell"]), "-w", "two", "--threshold", "0.999",
        "--json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["images"][0]["faces"][0]["subject"] is None


@pytest.mark.data
def test_identify_errors(monkeypatch, capsys, setup):
    wl, p = setup
    code, _, err = run(monkeypatch, capsys, "identify", str(p["powell"]), "-w", "nope")
    assert code == 2 and "no watchlist named 'nope'" in err
    code, _, err = run(monkeypatch, capsys, "identify", str(p["powell"]), "-w", str(wl), "-t", "2")
    assert code == 2 and "threshold" in err and "Traceback" not in err
