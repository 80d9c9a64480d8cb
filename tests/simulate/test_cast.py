"""Choosing who walks through a scene."""

from __future__ import annotations

from pathlib import Path

import pytest

from openlfr.errors import ConfigError
from openlfr.simulate.cast import LFW_FACE_BOX, CastMember, choose_cast, lfw_face_box


def people(n_multi: int, n_single: int) -> dict[str, list[Path]]:
    out = {f"M{i}": [Path(f"M{i}/{k}.jpg") for k in range(3)] for i in range(n_multi)}
    out.update({f"S{i}": [Path(f"S{i}/0.jpg")] for i in range(n_single)})
    return out


def test_counts_listed_people_have_other_photos_enrolled():
    cast = choose_cast(people(10, 10), 12, 4, enrol_images=2, seed=1)
    assert len(cast) == 12
    assert len({m.identity for m in cast}) == 12
    listed = [m for m in cast if m.listed]
    assert len(listed) == 4
    for m in listed:
        assert m.identity.startswith("M")  # only people with two or more photos
        assert len(m.enrolment) == 2
        assert m.probe not in m.enrolment
    assert all(m.enrolment == () for m in cast if not m.listed)


def test_deterministic_for_a_seed_and_different_across_seeds():
    a = choose_cast(people(20, 20), 15, 5, seed=3)
    b = choose_cast(people(20, 20), 15, 5, seed=3)
    c = choose_cast(people(20, 20), 15, 5, seed=4)
    key = [(m.identity, m.listed, m.probe, m.enrolment) for m in a]
    assert key == [(m.identity, m.listed, m.probe, m.enrolment) for m in b]
    assert key != [(m.identity, m.listed, m.probe, m.enrolment) for m in c]


@pytest.mark.parametrize(
    ("n", "k", "message"),
    [
        (5, 4, "only 3 people"),  # 3 people with two photos, 4 listed asked for
        (20, 2, "only 13"),
        (5, 6, "between 0 and --people"),
        (0, 0, "at least 1"),
    ],
)
def test_impossible_requests_are_clear_errors(n, k, message):
    with pytest.raises(ConfigError, match=message):
        choose_cast(people(3, 10), n, k)


def test_lfw_face_box_scales_with_the_photo():
    assert lfw_face_box(250, 250) == LFW_FACE_BOX
    x1, y1, x2, y2 = lfw_face_box(500, 125)
    assert (x1, x2) == (140.0, 354.0)
    assert (y1, y2) == (39.5, 92.0)


def test_a_cast_member_may_show_an_array():
    import numpy as np

    m = CastMember("X", False, np.zeros((10, 10, 3), np.uint8))
    assert m.probe_name == "<image>"
