"""`openlfr embed` on real images, bad files, and as the installed command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import openlfr.cli
from openlfr.cli import app

openlfr.cli._register()

pytestmark = pytest.mark.data


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_help_mentions_the_options() -> None:
    result = _run("embed", "--help")
    assert result.exit_code == 0
    for option in ("--json", "--backend", "--max-side"):
        assert option in result.output


def test_embed_writes_faces_and_lists_bad_images(shared_data: Path, tmp_path: Path) -> None:
    good = shared_data / "lfw" / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg"
    group = shared_data / "small-sets" / "group-photos" / "two_people.jpg"
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    out = tmp_path / "out.json"

    result = _run("embed", str(good), str(text), str(group), str(empty), "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "4 images, 3 faces, 2 unreadable" in result.output

    doc = json.loads(out.read_text())
    assert doc["backend"] == "fused" and doc["model_id"].startswith("fused-")
    by_name = {Path(r["image"]).name: r for r in doc["images"]}
    assert [Path(r["image"]).name for r in doc["images"]] == [
        "Aaron_Peirsol_0001.jpg",
        "notes.jpg",
        "two_people.jpg",
        "empty.png",
    ]
    assert "not a supported image" in by_name["notes.jpg"]["error"]
    assert "empty file" in by_name["empty.png"]["error"]
    assert by_name["notes.jpg"]["faces"] == []

    lfw = by_name["Aaron_Peirsol_0001.jpg"]
    assert lfw["error"] is None and (lfw["width"], lfw["height"]) == (250, 250)
    (face,) = lfw["faces"]
    x1, y1, x2, y2 = face["box"]
    assert 0 <= x1 < x2 <= 250 and 0 <= y1 < y2 <= 250
    assert face["scheme"] == "dlib5" and len(face["landmarks"]) == 5
    assert 0 <= face["quality"]["score"] <= 1 and isinstance(face["quality"]["reasons"], list)
    vector = np.array(face["template"]["vector"])
    assert face["template"]["model_id"] == doc["model_id"]
    assert vector.shape == (128 + 128,) and abs(np.linalg.norm(vector) - 1) < 1e-4

    assert len(by_name["two_people.jpg"]["faces"]) == 2


def test_embed_to_stdout(shared_data: Path) -> None:
    good = shared_data / "lfw" / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg"
    result = CliRunner().invoke(app, ["embed", str(good), "--json", "-"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout.splitlines()[0])
    assert len(doc["images"][0]["faces"]) == 1


def _openlfr() -> Path:
    return Path(sys.executable).parent / "openlfr"


def test_installed_command_reports_user_errors_in_one_line(
    shared_data: Path, tmp_path: Path
) -> None:
    good = shared_data / "lfw" / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg"
    unknown = subprocess.run(
        [_openlfr(), "embed", str(good), "--backend", "nope", "--json", str(tmp_path / "o.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unknown.returncode == 2
    assert "unknown backend 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1

    nowhere = subprocess.run(
        [_openlfr(), "embed", str(good), "--json", str(tmp_path / "missing" / "o.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert nowhere.returncode == 2
    assert "does not exist" in nowhere.stderr and "Traceback" not in nowhere.stderr
    assert not (tmp_path / "missing").exists()


def test_installed_command_survives_a_bad_image(tmp_path: Path) -> None:
    bad = tmp_path / "cut.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)  # a JPEG that stops at its header
    out = tmp_path / "o.json"
    done = subprocess.run(
        [_openlfr(), "embed", str(bad), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    (record,) = json.loads(out.read_text())["images"]
    assert record["error"].startswith(f"cannot read image {bad}")
