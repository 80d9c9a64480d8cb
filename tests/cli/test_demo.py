"""`openlfr demo`: the shipped-photo demo and the LFW-folder variant."""

from __future__ import annotations

import re
import sys

import pytest

from openlfr import paths
from openlfr.cli import main
from openlfr.demo import assets
from openlfr.demo.run import (
    CORRECT_UNKNOWN,
    FALSE_MATCH,
    MISSED,
    NO_FACE,
    TRUE_MATCH,
    WRONG_PERSON,
    score,
)
from openlfr.errors import ConfigError
from openlfr.gallery.identify import FaceResult, ImageResult, Match


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["openlfr", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def figures(out: str) -> dict[str, int]:
    line = out[out.index("Figures:") :].replace("\n", " ")
    m = re.search(
        r"true matches (\d+)/(\d+) listed probes; missed (\d+); correct unknowns (\d+)/(\d+) "
        r"unlisted faces; false matches (\d+); photos with no face found (\d+)",
        " ".join(line.split()),
    )
    assert m, line
    keys = ("true", "listed", "missed", "unknowns", "unlisted", "false", "noface")
    return dict(zip(keys, map(int, m.groups()), strict=True))


def _face(subject=None, sim=None) -> FaceResult:
    cands = [Match(subject, sim)] if subject else []
    return FaceResult((0, 0, 10, 10), 0.9, (), cands)


def test_score_outcomes():
    r = ImageResult("p", [_face("A", 0.97), _face("B", 0.95)])
    rows = score(r, "A", "how", expect_face=True)
    assert [x.outcome for x in rows] == [TRUE_MATCH, FALSE_MATCH]  # 2nd face is not A
    assert score(ImageResult("p", [_face()]), "A", "h", True)[0].outcome == MISSED
    assert score(ImageResult("p", [_face("B", 0.95)]), "A", "h", True)[0].outcome == WRONG_PERSON
    assert score(ImageResult("p", [_face()]), None, "h", True)[0].outcome == CORRECT_UNKNOWN
    assert score(ImageResult("p", []), None, "h", False)[0].outcome == NO_FACE
    missed = score(ImageResult("p", []), "A", "h", True)[0]
    assert missed.outcome == MISSED and not missed.found_face


def test_shipped_assets_exist():
    assert assets.package_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg")
    assert assets.eileen_collins().image.shape == (270, 250, 3)
    with pytest.raises(ConfigError, match="does not ship"):
        assets.package_file("matplotlib", "no-such-file.png")
    a = assets.grace_hopper()
    shapes = {how: img.shape for how, img in assets.renderings(a)}
    assert len(shapes) == 7 and shapes["scaled to 60%"][0] == round(a.image.shape[0] * 0.6)


def test_shipped_demo(monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, "demo")
    assert code == 0, err
    f = figures(out)
    assert f["listed"] == 14 and f["true"] == 14 and f["missed"] == 0
    assert f["false"] == 0 and f["unknowns"] == f["unlisted"] >= 4 + 7
    assert f["noface"] == 2
    assert "altered renderings of their enrolment photo" in " ".join(out.split())
    assert "Grace Hopper" in out and "Eileen Collins" in out
    assert not paths.data_dir().exists()  # nothing written to the data directory


@pytest.mark.data
def test_faces_demo(monkeypatch, capsys, tmp_path, shared_data):
    lfw = shared_data / "lfw"
    root = tmp_path / "faces"
    picks = {"Colin_Powell": 3, "George_W_Bush": 3, "Aaron_Eckhart": 1, "AJ_Cook": 1}
    for person, n in picks.items():
        (root / person).mkdir(parents=True)
        for i in range(1, n + 1):
            src = lfw / person / f"{person}_{i:04d}.jpg"
            (root / person / src.name).write_bytes(src.read_bytes())
    code, out, err = run(
        monkeypatch, capsys, "demo", "--faces", str(root), "--people", "2", "--probes", "2"
    )
    assert code == 0, err
    f = figures(out)
    assert f["listed"] == 4 and f["true"] >= 3
    assert f["unlisted"] == 2 and f["false"] == 0
    code, _, err = run(monkeypatch, capsys, "demo", "--faces", str(tmp_path / "nope"))
    assert code == 2 and "not found" in err
