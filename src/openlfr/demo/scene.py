"""The demo's scene: people walking towards a camera, built from what is at hand offline.

`shipped_cast` uses only photos that installed packages ship (see `openlfr.demo.assets`):
the listed people are Grace Hopper and Eileen Collins, enrolled from their original photos
and shown walking as an *altered rendering* of that same photo (mirrored, re-lit,
rotated, JPEG re-encoded; then the simulator adds distance, motion blur, light changes,
head turns and occlusion). The passers-by are the cameraman of scikit-image's
`camera.png` and a few of its 25x25 grey LFW crops, enlarged. `build_demo_scene` renders
either that cast or, with an LFW-layout folder, `simulate_folder`'s cast (listed people
shown with one photo and enrolled from others).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openlfr.demo import assets
from openlfr.errors import ConfigError
from openlfr.simulate import CastMember, SceneConfig, SceneTruth, build_scene, simulate_folder

# Rows of scikit-image's lfw_subset.npy used as passers-by: faces dlib finds confidently
# once enlarged (detector score > 1.5), so they are seen and searched, not skipped.
LFW_CROPS = (1, 2, 3, 5, 14, 20, 21, 31, 41, 51)

# The cameraman's face in scikit-image's camera.png (512x512), as dlib's detector (with
# its CNN fallback) finds it; the HOG detector alone misses this grey, turned face.
CAMERAMAN = (189.0, 117.0, 258.0, 186.0)

# How each listed person's enrolment photo is altered before walking past the camera.
LISTED_RENDERINGS: dict[str, tuple[str, ...]] = {
    assets.GRACE_HOPPER: ("mirrored", "darker (x0.6)", "JPEG quality 30"),
    assets.EILEEN_COLLINS: ("rotated 8 degrees", "brighter (x1.25 +20)"),
}


@dataclass(frozen=True)
class DemoScene:
    truth: SceneTruth
    scene_dir: Path
    listed: dict[str, str]  # identity -> how its walking rendering was made
    passers_by: list[str]  # where each unlisted face came from


def render(image: np.ndarray, steps: tuple[str, ...]) -> np.ndarray:
    """Apply the named `assets.RENDERINGS` steps in order."""
    for step in steps:
        image = np.ascontiguousarray(assets.RENDERINGS[step](image))
    return image


def _face_box(engine, image: np.ndarray, what: str) -> tuple[float, float, float, float]:
    """The largest face's box; the sprite is cut around it and the truth follows it."""
    faces = engine.detect(image)
    if not faces:
        raise ConfigError(f"the demo found no face in {what}; is the package intact?")
    face = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
    return tuple(float(v) for v in face.box)  # type: ignore[return-value]


def shipped_cast(engine, crops: tuple[int, ...] = LFW_CROPS) -> tuple[list[CastMember], dict]:
    """The cast from shipped photos and, per listed identity, how it was altered."""
    cast: list[CastMember] = []
    how: dict[str, str] = {}
    hopper_path = assets.package_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg")
    astronaut_path = assets.package_file("skimage", "data", "astronaut.png")
    originals = (
        (assets.grace_hopper(), hopper_path),
        (assets.eileen_collins(), astronaut_path),  # shown from the head-and-shoulders crop
    )
    for asset, enrol_path in originals:
        steps = LISTED_RENDERINGS[asset.name]
        image = render(asset.image, steps)
        box = _face_box(engine, image, asset.origin)
        cast.append(CastMember(asset.name, True, image, (enrol_path,), box))
        how[asset.name] = f"{asset.origin}, {', '.join(steps)}"
    camera = assets.package_file("skimage", "data", "camera.png")
    from openlfr.vision.image import load_image

    cast.append(
        CastMember("cameraman (scikit-image camera.png)", False, load_image(camera), (), CAMERAMAN)
    )
    for a in assets.unlisted_faces(crops):
        faces = engine.detect(a.image)
        if faces:  # a crop the detector misses would only be an unseen passer-by
            cast.append(CastMember(a.name, False, a.image, (), _face_box(engine, a.image, a.name)))
    return cast, how  # plan_scene spreads their passes over the scene at random


def scene_config(seconds: float, seed: int) -> SceneConfig:
    """A 640x360 scene (faces about 20 to 100 px): small enough to run in well under a
    minute on two busy cores."""
    return SceneConfig.sized(640, 360, minutes=seconds / 60, seed=seed)


def build_demo_scene(
    out_dir: Path,
    engine,
    *,
    faces: Path | None = None,
    people: int = 12,
    listed: int = 3,
    seconds: float = 40.0,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> DemoScene:
    """Render the demo scene into ``out_dir``: from shipped photos, or from ``faces`` (an
    LFW-layout folder: ``people`` people, ``listed`` of them listed)."""
    config = scene_config(seconds, seed)
    config.validate()
    if faces is None:
        cast, how = shipped_cast(engine)
        truth = build_scene(cast, out_dir, config, progress=progress)
        passers = [m.identity for m in cast if not m.listed]
        return DemoScene(truth, Path(out_dir), how, passers)
    truth = simulate_folder(
        Path(faces), out_dir, people=people, listed=listed, config=config, progress=progress
    )
    how = {p.identity: f"{p.probe}, another photo than the enrolled one" for p in truth.listed}
    passers = [p.identity for p in truth.passes if not p.listed]
    return DemoScene(truth, Path(out_dir), how, passers)
