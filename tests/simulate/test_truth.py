"""The ground-truth file: round trip and validation."""

from __future__ import annotations

import json

import pytest

from openlfr.errors import ConfigError
from openlfr.simulate.truth import PassTruth, SceneTruth, first_visible, load_truth, parse_truth


def truth() -> SceneTruth:
    a = PassTruth(
        "p0001", "Ann", True, "Ann/Ann_0002.jpg", ("watchlist/Ann/Ann_0001.jpg",), 2, 4, 3,
        ((10, 10, 20, 20), (11, 11, 22, 22), (12, 12, 24, 24)), (0.2, 0.9, 1.0),
    )  # fmt: skip
    b = PassTruth("p0002", "Bob", False, "Bob/Bob_0001.jpg", (), 0, 1, None,
                  ((1, 1, 5, 5), (1, 1, 6, 6)), (0.0, 0.3))  # fmt: skip
    return SceneTruth(25.0, 320, 240, 10, 7, "/faces", (a, b))


def test_round_trip(tmp_path):
    t = truth()
    path = t.write(tmp_path)
    assert json.loads(path.read_text())["format"] == "openlfr-scene"
    back = load_truth(tmp_path)
    assert back == t
    assert back.listed == [t.passes[0]]
    assert back.passes[0].box_at(3) == (11, 11, 22, 22)
    assert back.passes[0].box_at(5) is None
    assert back.passes[0].visible_at(2) == 0.2 and back.passes[0].visible_at(9) == 0.0
    assert back.duration_s == pytest.approx(0.4)


def test_first_visible_is_the_first_frame_with_half_the_face_in_view():
    assert first_visible([0.1, 0.49, 0.5, 1.0], 10) == 12
    assert first_visible([0.1, 0.2], 10) is None


def edit(change) -> dict:
    data = truth().to_json()
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="other"), "not an openlfr-scene"),
        (lambda d: d.update(version=99), "version 99"),
        (lambda d: d.pop("fps"), "fps"),
        (lambda d: d.update(frames=0), "positive"),
        (lambda d: d["people"][0].update(last_frame=10), "outside"),
        (lambda d: d["people"][0]["boxes"].pop(), "one box"),
        (lambda d: d["people"][0]["visible"].append(1.0), "one box"),
        (lambda d: d["people"][0].update(first_visible_frame=9), "first_visible_frame"),
        (lambda d: d["people"][1].update(id="p0001"), "twice"),
        (lambda d: d["people"][0].update(enrolment=[]), "no enrolment"),
        (lambda d: d["people"][0].pop("identity"), "identity"),
        (lambda d: d["people"][0].update(boxes=[[1, 2, 3]] * 3), "one box"),
    ],
)
def test_inconsistent_truth_is_a_clear_error(change, message):
    with pytest.raises(ConfigError, match=message):
        parse_truth(edit(change))


def test_missing_or_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="not a scene folder"):
        load_truth(tmp_path)
    (tmp_path / "truth.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not readable JSON"):
        load_truth(tmp_path)
