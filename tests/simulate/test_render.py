"""Drawing frames: sprites, compositing, visibility, determinism."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from openlfr.simulate.cast import LFW_FACE_BOX, CastMember
from openlfr.simulate.plan import SceneConfig, plan_scene
from openlfr.simulate.render import Renderer, layout, make_sprite, visibility

RED = (230, 20, 20)


def test_sprite_is_a_soft_oval_around_the_face(face_image):
    sprite = make_sprite(face_image(RED, 0), LFW_FACE_BOX)
    alpha = sprite.rgba[..., 3]
    h, w = alpha.shape
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 0  # corners cut away
    cx, cy = sprite.centre
    assert alpha[int(cy), int(cx)] == 1.0
    assert 0 < alpha[int(cy), 2] < 1 or alpha[int(cy), 1] < 1  # a soft edge
    assert sprite.face_width == LFW_FACE_BOX[2] - LFW_FACE_BOX[0]
    assert sprite.skin[0] > 200 and sprite.skin[1] < 60  # the red face


def test_sprite_near_the_border_of_a_photo_is_padded(face_image):
    sprite = make_sprite(face_image(RED, 0), (0.0, 0.0, 100.0, 100.0))
    assert sprite.rgba.shape[0] > 100 and np.isfinite(sprite.rgba).all()


def one_person(config: SceneConfig, image: np.ndarray, occluded: float = 0.0):
    member = CastMember("Red", True, image, (Path("x.jpg"),))
    plans = plan_scene([member], replace(config, occluded_share=occluded))
    return plans, Renderer(plans, config)


def test_the_face_is_drawn_where_its_pose_says(small_config, face_image):
    plans, renderer = one_person(small_config, face_image(RED, 0))
    p = plans[0]
    empty = Renderer([], small_config).render(p.last_frame)
    frame = p.last_frame - 2
    img = renderer.render(frame)
    assert img.shape == (240, 320, 3) and img.dtype == np.uint8
    ((_, pose),) = layout(plans, small_config, frame)
    cx, cy = int(pose.cx), int(pose.cy)
    patch = img[cy - 3 : cy + 4, cx - 3 : cx + 4].reshape(-1, 3).mean(0)
    assert patch[0] > 1.5 * patch[1]  # red face there
    assert np.abs(img.astype(int) - empty.astype(int)).sum() > 0
    assert p.first_frame > 0
    before = p.first_frame - 1  # nobody there yet: just the street
    assert np.array_equal(renderer.render(before), Renderer([], small_config).render(before))


def test_rendering_is_deterministic(small_config, face_image):
    image = face_image(RED, 0)
    _, a = one_person(small_config, image)
    _, b = one_person(small_config, image)
    for f in (0, 20, 40):
        assert np.array_equal(a.render(f), b.render(f))


def test_visibility_counts_the_lamp_post_nearer_people_and_the_frame_edge(small_config):
    from openlfr.simulate.plan import Pose

    def at(cx, cy, size):
        return Pose(cx, cy, size, 0.0, 0.0, 1.0, 0.0, 0.0, None)

    items = [(None, at(100, 80, 20)), (None, at(200, 80, 20))]
    assert visibility(items, small_config, (0, 0, 1, 1)) == [1.0, 1.0]
    # A pole through the middle of the first face hides about half of it.
    (v,) = visibility(items[:1], small_config, (100, 0, 130, 240))
    assert 0.4 <= v <= 0.6
    # A nearer (bigger, drawn later) person right in front hides the first face.
    behind = [(None, at(100, 80, 20)), (None, at(100, 85, 60))]
    assert visibility(behind, small_config, (0, 0, 1, 1)) == [0.0, 1.0]
    # Half outside the frame.
    (v,) = visibility([(None, at(0, 80, 20))], small_config, (0, 0, 1, 1))
    assert v == 0.5
