"""Scenario simulator: people walking towards a camera, with ground truth and a watchlist.

`simulate_folder` builds a scene from an LFW-layout folder; `build_scene` from any cast
(`CastMember`: an identity, the photo to show, its face box, enrolment photos), so shipped
sample photos work as well as LFW. `load_truth` reads a scene's ground truth back.
"""

from openlfr.simulate.cast import CastMember, choose_cast, lfw_face_box
from openlfr.simulate.plan import PersonPlan, Pose, SceneConfig, plan_scene, pose
from openlfr.simulate.render import Renderer, make_sprite
from openlfr.simulate.scene import build_scene, folder_name, simulate_folder
from openlfr.simulate.truth import (
    TRUTH_FILE,
    VIDEO_FILE,
    WATCHLIST_DIR,
    PassTruth,
    SceneTruth,
    load_truth,
    parse_truth,
)

__all__ = [
    "TRUTH_FILE",
    "VIDEO_FILE",
    "WATCHLIST_DIR",
    "CastMember",
    "PassTruth",
    "PersonPlan",
    "Pose",
    "Renderer",
    "SceneConfig",
    "SceneTruth",
    "build_scene",
    "choose_cast",
    "folder_name",
    "lfw_face_box",
    "load_truth",
    "make_sprite",
    "parse_truth",
    "plan_scene",
    "pose",
    "simulate_folder",
]
