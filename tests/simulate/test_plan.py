"""Scene planning: paths, poses, determinism."""

from __future__ import annotations

from pathlib import Path

import pytest

from openlfr.errors import ConfigError
from openlfr.simulate.cast import CastMember
from openlfr.simulate.plan import SceneConfig, plan_scene, pose


def cast(n: int) -> list[CastMember]:
    return [CastMember(f"P{i}", i % 3 == 0, Path(f"P{i}.jpg"), (Path("e.jpg"),)) for i in range(n)]


def test_passes_fit_in_the_scene_and_ids_follow_entry_order():
    config = SceneConfig(minutes=1, seed=2)
    plans = plan_scene(cast(40), config)
    assert len(plans) == 40
    assert [p.first_frame for p in plans] == sorted(p.first_frame for p in plans)
    assert [p.id for p in plans] == [f"p{i + 1:04d}" for i in range(40)]
    lo, hi = config.pass_seconds
    for p in plans:
        assert p.first_frame >= 0 and p.last_frame < config.frames
        assert round(lo * config.fps) <= p.frames <= round(hi * config.fps)


def test_faces_grow_from_far_to_near_and_stay_in_the_frame():
    config = SceneConfig(minutes=1, seed=7)
    for p in plan_scene(cast(30), config):
        sizes = [pose(p, config, f).size for f in range(p.first_frame, p.last_frame + 1)]
        assert sizes == sorted(sizes)
        assert sizes[0] == pytest.approx(p.far) and 26 <= sizes[0] <= 34
        assert sizes[-1] == pytest.approx(p.near) and 120 <= sizes[-1] <= 170
        last = pose(p, config, p.last_frame)
        x1, y1, x2, y2 = last.box
        assert x1 >= 0 and x2 <= config.width and y1 >= 0 and y2 <= config.height


def test_growth_is_perspective_slow_then_fast():
    config = SceneConfig(minutes=1, seed=1)
    p = plan_scene(cast(1), config)[0]
    mid = pose(p, config, p.first_frame + p.frames // 2).size
    assert mid < (p.far + p.near) / 2  # 1/distance: half way in time is not half the size


def test_same_seed_same_plan_other_seed_other_plan():
    a = plan_scene(cast(20), SceneConfig(minutes=1, seed=9))
    b = plan_scene(cast(20), SceneConfig(minutes=1, seed=9))
    c = plan_scene(cast(20), SceneConfig(minutes=1, seed=10))
    assert a == b
    assert [p.first_frame for p in a] != [p.first_frame for p in c]


def test_some_people_are_occluded_for_part_of_their_walk():
    config = SceneConfig(minutes=2, seed=4)
    plans = plan_scene(cast(100), config)
    hidden = [p for p in plans if p.occluder is not None]
    assert 10 <= len(hidden) <= 45  # about a quarter
    p = hidden[0]
    states = [
        pose(p, config, f).occluder is not None for f in range(p.first_frame, p.last_frame + 1)
    ]
    assert any(states) and not all(states)


def test_moving_faces_are_blurred_along_their_motion():
    config = SceneConfig(minutes=1, seed=3)
    p = plan_scene(cast(1), config)[0]
    assert pose(p, config, p.last_frame - 1).blur > pose(p, config, p.first_frame).blur > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"minutes": 0}, "more than 0"),
        ({"minutes": 0.05}, "shorter than one pass"),
        ({"width": 961}, "even"),
        ({"fps": 0}, "fps"),
        ({"height": 200, "width": 320}, "near face"),
    ],
)
def test_bad_configs(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        plan_scene(cast(2), SceneConfig(**kwargs))


def test_an_empty_cast_is_an_error():
    with pytest.raises(ConfigError, match="no people"):
        plan_scene([], SceneConfig())
