"""The `openlfr evaluate` commands, end to end through `main` with a test-double engine."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PIL import Image

from openlfr.cli import evaluate as evaluate_cli
from openlfr.cli import main
from openlfr.evaluation.cache import EngineSpec
from openlfr.vision.face import Face, Template


class _Detector:
    def detect(self, image):
        h, w = image.shape[:2]
        return [] if image.mean() < 10 else [Face((w / 4, h / 4, 3 * w / 4, 3 * h / 4), 1.0)]


class _Engine:
    """Colour is identity: the template is the image's normalised mean colour."""

    model_id = "cli-fake"
    detector = _Detector()

    def embed(self, image, faces):
        v = np.r_[image.reshape(-1, 3).mean(axis=0), 30.0].astype(np.float32)
        return [f.with_(template=Template(v / np.linalg.norm(v), self.model_id)) for f in faces]

    def analyse(self, image):
        return self.embed(image, self.detector.detect(image))


class _Spec(EngineSpec):
    def build(self):
        return _Engine()


@pytest.fixture
def faces(tmp_path, monkeypatch):
    monkeypatch.setattr(evaluate_cli, "_spec", lambda backend, normaliser="auto": _Spec(backend))
    rng = np.random.default_rng(0)
    root = tmp_path / "faces"
    for i in range(120):
        n = 2 if i < 30 else 1
        base = rng.integers(20, 230, 3)
        for k in range(n):
            (root / f"P{i:03d}").mkdir(parents=True, exist_ok=True)
            colour = np.clip(base + 2 * k, 0, 255).astype(np.uint8)
            Image.fromarray(np.tile(colour, (32, 32, 1))).save(
                root / f"P{i:03d}" / f"P{i:03d}_{k + 1:04d}.png"
            )
    return root


def _run(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["openlfr", "evaluate", *map(str, args)])
    with pytest.raises(SystemExit) as exc:
        main()
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_identification_json_and_plot(tmp_path, faces, monkeypatch, capsys):
    js, png = tmp_path / "id.json", tmp_path / "det.png"
    code, out, err = _run(
        monkeypatch,
        capsys,
        "identification",
        "--faces",
        faces,
        "--json",
        js,
        "--plot",
        png,
        "--no-progress",
    )
    assert code in (0, None), err
    data = json.loads(js.read_text())
    assert data["n_gallery"] == 30 and data["n_mated"] == 30 and data["n_nonmated"] == 90
    assert set(data["tpir"]) >= {"0.01", "0.001", "0.0001"} and data["tpir"]["0.01"] is None
    assert data["tpir"]["0.1"] is not None and 0 <= data["tpir"]["0.1"] <= 1
    assert data["missed_detections"] == 0 and data["model"] == "cli-fake"
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "Open-set identification" in out and "FPIR 0.1" in out


def test_demographics_json(tmp_path, faces, monkeypatch, capsys):
    labels = tmp_path / "labels.csv"
    rows = [f"P{i:03d},P{i:03d}_0001.png,{'F' if i % 2 else 'M'}" for i in range(120)]
    labels.write_text("person,image,gender\n" + "\n".join(rows) + "\n")
    js = tmp_path / "d.json"
    code, out, err = _run(
        monkeypatch,
        capsys,
        "demographics",
        "--faces",
        faces,
        "--labels",
        labels,
        "--group-by",
        "gender",
        "--threshold",
        "0.99",
        "--json",
        js,
        "--no-progress",
    )
    assert code in (0, None), err
    data = json.loads(js.read_text())
    assert set(data["groups"]) == {"F", "M"} and data["threshold"] == 0.99
    for g in data["groups"].values():
        assert set(g) >= {"fpir", "ci_low", "ci_high", "n"} and g["ci_low"] <= g["ci_high"]
    assert "ratio" in data


@pytest.mark.parametrize(
    "args, message",
    [
        (["verification", "--faces", ".", "--pairs", "/nope.txt"], "pairs file not found"),
        (["identification", "--faces", "/nope"], "not a folder"),
        (["identification", "--faces", ".", "--json", "/nope/x.json"], "folder does not exist"),
        (["demographics", "--faces", ".", "--labels", "/nope.csv", "--group-by", "g"], "labels"),
    ],
)
def test_bad_paths_are_one_line_errors(args, message, faces, monkeypatch, capsys):
    code, out, err = _run(monkeypatch, capsys, *args)
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_backend_is_a_one_line_error(monkeypatch, capsys, tmp_path):
    code, out, err = _run(
        monkeypatch, capsys, "identification", "--faces", tmp_path, "--backend", "nope"
    )
    assert code == 2 and "unknown backend" in err
