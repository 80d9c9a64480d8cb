"""`openlfr calibrate --faces DIR`: real dlib embeddings of a small LFW slice, and errors."""

from __future__ import annotations

import json
import sys

import pytest

from openlfr.cli import main
from openlfr.errors import ConfigError
from openlfr.gallery.calibration import default_path, load_calibration


def _run(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["openlfr", "calibrate", *map(str, args)])
    with pytest.raises(SystemExit) as exc:
        main()
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture(scope="module")
def lfw_slice(shared_data, tmp_path_factory):
    # 40 people spread over the alphabet, two photos each where they have two (links only)
    root = tmp_path_factory.mktemp("lfw-slice")
    people = sorted(p for p in (shared_data / "lfw").iterdir() if p.is_dir())
    for person in people[:: len(people) // 40][:40]:
        (root / person.name).mkdir()
        for img in sorted(person.iterdir())[:2]:
            (root / person.name / img.name).symlink_to(img)
    return root


@pytest.mark.data
def test_calibrate_lfw_slice_with_dlib(lfw_slice, monkeypatch, capsys):
    code, out, err = _run(
        monkeypatch, capsys, "--faces", lfw_slice, "--backend", "dlib-onnx", "--no-progress"
    )
    assert code in (0, None), err
    assert "model: dlib-resnet-v1+flip" in out and "non-mated scores:" in out
    assert "FPIR N=100" in out and "FPIR N=10000" in out
    assert "FPIR 0.001:" in out
    model_id = out.split("model: ")[1].split()[0]
    cal = load_calibration(model_id)  # stored under the data dir
    assert default_path(model_id).is_file()
    assert cal.n_identities >= 35 and cal.n_scores > 1000
    t = cal.threshold_for_fpir(1e-2, 1000)
    assert 0.0 < t <= 1.0 and cal.expected_fpir(t, 1000) <= 1e-2 * (1 + 1e-9)
    # more templates in the watchlist: a higher threshold for the same FPIR
    assert cal.threshold_for_fpir(1e-2, 1000) > cal.threshold_for_fpir(1e-2, 100)


@pytest.mark.data
def test_calibrate_to_explicit_file_with_max_images(lfw_slice, monkeypatch, capsys, tmp_path):
    out_file = tmp_path / "cal.json"
    code, out, err = _run(
        monkeypatch,
        capsys,
        "--faces",
        lfw_slice,
        "--max-images",
        30,
        "--out",
        out_file,
        "--no-progress",
    )
    assert code in (0, None), err
    doc = json.loads(out_file.read_text())
    assert doc["n_templates"] <= 30 and doc["source"] == str(lfw_slice)


def test_missing_folder_is_one_line_error(monkeypatch, capsys, tmp_path):
    code, out, err = _run(monkeypatch, capsys, "--faces", tmp_path / "nope")
    assert code == 2 and "error:" in err and "Traceback" not in err


def test_one_person_is_one_line_error(monkeypatch, capsys, tmp_path):
    (tmp_path / "faces" / "Only_One").mkdir(parents=True)
    (tmp_path / "faces" / "Only_One" / "a.jpg").write_bytes(b"x")
    code, out, err = _run(monkeypatch, capsys, "--faces", tmp_path / "faces")
    assert code == 2 and "at least two people" in err


def test_unknown_backend_and_bad_out(monkeypatch, capsys, tmp_path):
    (tmp_path / "f").mkdir()
    code, _, err = _run(monkeypatch, capsys, "--faces", tmp_path / "f", "--backend", "nope")
    assert code == 2 and "error:" in err
    code, _, err = _run(
        monkeypatch, capsys, "--faces", tmp_path / "f", "--out", tmp_path / "no" / "c.json"
    )
    assert code == 2 and "--out" in err


def test_help():
    from typer.testing import CliRunner

    from openlfr.cli import _register, app

    _register()
    result = CliRunner().invoke(app, ["calibrate", "--help"])
    assert result.exit_code == 0 and "--faces" in result.output and "FPIR" in result.output


def test_fuse_model_options_parse_and_bad_ones_are_one_line_errors():
    from openlfr.cli.calibrate import parse_model

    assert parse_model("faceres:flip=true:project=128") == (
        "faceres",
        {"flip": True, "project": 128},
    )
    assert parse_model("dlib-onnx") == ("dlib-onnx", {})
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_model("faceres:flip")
    with pytest.raises(ConfigError, match="number of dimensions"):
        parse_model("faceres:project=big")
