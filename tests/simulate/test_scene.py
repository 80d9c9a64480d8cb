"""Building a scene folder: video, ground truth, watchlist."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from openlfr.errors import ConfigError
from openlfr.simulate import CastMember, build_scene, load_truth, simulate_folder


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def frames_of(video: Path) -> list[np.ndarray]:
    with av.open(str(video)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_a_scene_folder_has_video_truth_and_watchlist(faces_dir, small_config, tmp_path):
    out = tmp_path / "scene"
    truth = simulate_folder(faces_dir, out, people=6, listed=2, config=small_config)
    assert load_truth(out) == truth
    assert truth.frames == 60 and (truth.width, truth.height) == (320, 240)
    frames = frames_of(out / "scene.mp4")
    assert len(frames) == 60 and frames[0].shape == (240, 320, 3)
    listed = truth.listed
    assert len(listed) == 2 and len(truth.passes) == 6
    assert sorted(p.name for p in (out / "watchlist").iterdir()) == sorted(
        p.identity for p in listed
    )
    for p in truth.passes:
        assert (faces_dir / p.probe).is_file()
        assert len(p.boxes) == p.last_frame - p.first_frame + 1
    for p in listed:
        folder = out / "watchlist" / p.identity
        enrolled = sorted(folder.iterdir())
        assert [f"watchlist/{p.identity}/{f.name}" for f in enrolled] == list(p.enrolment)
        # Never the photo shown walking: other photos of the same person.
        assert sha(faces_dir / p.probe) not in {sha(f) for f in enrolled}
        assert all(f.name.startswith(p.identity) for f in enrolled)


def test_truth_boxes_follow_the_faces_in_the_video(faces_dir, small_config, tmp_path):
    out = tmp_path / "scene"
    cfg = replace(small_config, occluded_share=0.0)
    truth = simulate_folder(faces_dir, out, people=3, listed=1, config=cfg)
    frames = frames_of(out / "scene.mp4")
    # Where the truth says a visible face is, the picture differs from the empty street.
    p = max(truth.passes, key=lambda q: sum(q.visible))
    f = max(range(p.first_frame, p.last_frame + 1), key=p.visible_at)
    x1, y1, x2, y2 = p.box_at(f)
    crop = frames[f][max(0, y1) : y2, max(0, x1) : x2].astype(int)
    assert crop.size and crop.std() > 10  # eyes, mouth, skin: not flat pavement


def test_same_seed_same_scene_other_seed_other_scene(faces_dir, small_config, tmp_path):
    a = simulate_folder(faces_dir, tmp_path / "a", people=5, listed=2, config=small_config)
    b = simulate_folder(faces_dir, tmp_path / "b", people=5, listed=2, config=small_config)
    c = simulate_folder(
        faces_dir, tmp_path / "c", people=5, listed=2, config=replace(small_config, seed=6)
    )
    assert (tmp_path / "a/truth.json").read_text() == (tmp_path / "b/truth.json").read_text()
    assert a == b and a != c
    fa, fb = frames_of(tmp_path / "a/scene.mp4"), frames_of(tmp_path / "b/scene.mp4")
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb, strict=True))


def test_rerendering_over_a_scene_replaces_it_but_other_folders_are_refused(
    faces_dir, small_config, tmp_path
):
    out = tmp_path / "scene"
    simulate_folder(faces_dir, out, people=4, listed=2, config=small_config)
    t = simulate_folder(faces_dir, out, people=4, listed=1, config=replace(small_config, seed=8))
    assert len(list((out / "watchlist").iterdir())) == 1
    assert json.loads((out / "truth.json").read_text())["seed"] == 8 == t.seed
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="new or empty folder"):
        simulate_folder(faces_dir, busy, people=2, listed=1, config=small_config)
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        simulate_folder(faces_dir, tmp_path / "file", people=2, listed=1, config=small_config)


def test_the_shown_photo_may_not_be_enrolled(faces_dir, small_config, tmp_path):
    photo = next((faces_dir / "Person_0").iterdir())
    cast = [CastMember("Person_0", True, photo, (photo,))]
    with pytest.raises(ConfigError, match="also an enrolment photo"):
        build_scene(cast, tmp_path / "scene", small_config)


def test_any_cast_works_arrays_and_a_face_box(face_image, small_config, tmp_path):
    # Not LFW: a 400x300 photo with the face off-centre, shown as an array.
    import cv2

    enrol = tmp_path / "enrol.png"
    big = np.full((300, 400, 3), 90, np.uint8)
    big[50:300, 100:350] = face_image((200, 40, 40), 1)
    cv2.imwrite(str(enrol), big[:, :, ::-1])
    cast = [
        CastMember("Grace Hopper", True, big, (enrol,), face_box=(170.0, 129.0, 277.0, 234.0)),
        CastMember("Someone", False, face_image((40, 200, 40), 2)),
    ]
    truth = build_scene(cast, tmp_path / "scene", small_config)
    assert [p.identity for p in truth.listed] == ["Grace Hopper"]
    assert (tmp_path / "scene/watchlist/Grace Hopper/enrol.png").is_file()
    assert {p.probe for p in truth.passes} == {"<image>"}


def test_a_folder_without_people_is_an_error(tmp_path, small_config):
    (tmp_path / "flat").mkdir()
    with pytest.raises(ConfigError, match="no <person>/<photo>"):
        simulate_folder(tmp_path / "flat", tmp_path / "scene", config=small_config)


@pytest.mark.data
def test_an_lfw_scene(shared_data, tmp_path):
    from openlfr.simulate import SceneConfig

    cfg = SceneConfig(minutes=0.1, seed=1, width=480, height=320, pass_seconds=(2.0, 3.0),
                      far_face=(20.0, 24.0), near_face=(80.0, 100.0))  # fmt: skip
    truth = simulate_folder(shared_data / "lfw", tmp_path / "s", people=5, listed=2, config=cfg)
    lfw = shared_data / "lfw"
    for p in truth.passes:
        assert p.probe.startswith(p.identity + "/") and (lfw / p.probe).is_file()
    for p in truth.listed:
        photos = sorted((tmp_path / "s/watchlist" / p.identity).iterdir())
        assert photos and all((lfw / p.identity / f.name).is_file() for f in photos)
        assert Path(p.probe).name not in {f.name for f in photos}
