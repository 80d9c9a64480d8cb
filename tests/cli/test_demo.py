"""`openlfr demo`: the simulated camera from shipped photos, and the LFW-folder variant."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

from openlfr import paths
from openlfr.cli import main
from openlfr.demo import assets, shipped_cast
from openlfr.demo.scene import LISTED_RENDERINGS, render
from openlfr.errors import ConfigError
from openlfr.vision.engine import FaceEngine


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["openlfr", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def figures(out: str) -> dict[str, int]:
    text = " ".join(out[out.index("Figures:") :].split())
    m = re.search(
        r"faces seen (\d+); alerts (\d+): true (\d+), false (\d+), repeats (\d+); "
        r"listed people alerted (\d+)/(\d+)",
        text,
    )
    assert m, text
    keys = ("seen", "alerts", "true", "false", "repeats", "alerted", "listed")
    return dict(zip(keys, map(int, m.groups()), strict=True))


def test_shipped_cast():
    assert assets.package_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg")
    with pytest.raises(ConfigError, match="does not ship"):
        assets.package_file("matplotlib", "no-such-file.png")
    cast, how = shipped_cast(FaceEngine.from_backend(cnn_fallback=False))
    listed = [m for m in cast if m.listed]
    assert {m.identity for m in listed} == {assets.GRACE_HOPPER, assets.EILEEN_COLLINS}
    assert set(how) == {m.identity for m in listed}
    for m in listed:
        # Enrolled from the original package file; shown as an altered rendering of it.
        assert len(m.enrolment) == 1 and m.enrolment[0].is_file()
        assert isinstance(m.probe, np.ndarray) and m.face_box is not None
    hopper = assets.grace_hopper()
    shown = next(m for m in listed if m.identity == assets.GRACE_HOPPER).probe
    assert shown.shape == hopper.image.shape and not np.array_equal(shown, hopper.image)
    assert np.array_equal(shown, render(hopper.image, LISTED_RENDERINGS[assets.GRACE_HOPPER]))
    assert sum(not m.listed for m in cast) >= 6  # the cameraman and LFW crops walk past


def test_shipped_demo(monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, "demo")
    assert code == 0, err
    f = figures(out)
    assert f["true"] >= 1 and f["false"] == 0
    assert f["alerts"] == f["true"] + f["repeats"] and f["listed"] == 2
    assert f["seen"] >= 2 + 5  # the listed people and most passers-by are seen
    alerts = [line for line in out.splitlines() if line.startswith("ALERT")]
    assert len(alerts) == f["alerts"]
    assert all("Grace Hopper" in a or "Eileen Collins" in a for a in alerts)
    assert "calibrated" in out  # the default threshold, from the shipped calibration
    assert "altered renderings of their enrolment photo" in " ".join(out.split())
    assert not paths.data_dir().exists()  # nothing written to the data directory


@pytest.mark.data
def test_faces_demo(monkeypatch, capsys, tmp_path, shared_data):
    lfw = shared_data / "lfw"
    root = tmp_path / "faces"
    # Two people with several photos (listed: one shown, one enrolled) and four without.
    picks = {"Colin_Powell": 3, "Tony_Blair": 3, "Aaron_Eckhart": 1, "AJ_Cook": 1}
    picks |= {"Abba_Eban": 1, "Adam_Sandler": 1}
    for person, n in picks.items():
        (root / person).mkdir(parents=True)
        for i in range(1, n + 1):
            src = lfw / person / f"{person}_{i:04d}.jpg"
            (root / person / src.name).write_bytes(src.read_bytes())
    args = ("demo", "--faces", str(root), "--people", "6", "--listed", "2", "--seconds", "20")
    code, out, err = run(monkeypatch, capsys, *args)
    assert code == 0, err
    f = figures(out)
    assert f["listed"] == 2 and f["false"] == 0 and f["seen"] >= 3
    assert "Colin_Powell" in out and "Tony_Blair" in out
    code, _, err = run(monkeypatch, capsys, "demo", "--faces", str(tmp_path / "nope"))
    assert code == 2 and "not a folder" in err
