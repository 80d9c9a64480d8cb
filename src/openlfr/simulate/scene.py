"""Building a scene folder: the video, its ground truth and the watchlist of listed people.

SCENE_DIR/scene.mp4      people walking towards the camera
SCENE_DIR/truth.json     who is where in which frame (see `openlfr.simulate.truth`)
SCENE_DIR/watchlist/<identity>/<photo>   *other* photos of the listed people
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from openlfr.errors import ConfigError
from openlfr.simulate.cast import CastMember, choose_cast
from openlfr.simulate.encode import Mp4Writer
from openlfr.simulate.plan import PersonPlan, SceneConfig, plan_scene
from openlfr.simulate.render import Renderer, layout, visibility
from openlfr.simulate.truth import (
    TRUTH_FILE,
    VIDEO_FILE,
    WATCHLIST_DIR,
    PassTruth,
    SceneTruth,
    first_visible,
)

Progress = Callable[[int, int], None]


def simulate_folder(
    faces_dir: Path,
    out_dir: Path,
    *,
    people: int = 300,
    listed: int = 30,
    enrol_images: int = 1,
    config: SceneConfig | None = None,
    progress: Progress | None = None,
) -> SceneTruth:
    """A scene from an LFW-layout folder (one sub-folder of photos per person)."""
    from openlfr.evaluation.datasets import scan_people

    config = config or SceneConfig()
    config.validate()
    found = scan_people(Path(faces_dir))
    if not found:
        raise ConfigError(f"--faces: no <person>/<photo> sub-folders in {faces_dir}")
    cast = choose_cast(found, people, listed, enrol_images=enrol_images, seed=config.seed)
    return build_scene(cast, out_dir, config, faces_root=Path(faces_dir), progress=progress)


def build_scene(
    cast: Sequence[CastMember],
    out_dir: Path,
    config: SceneConfig,
    *,
    faces_root: Path | None = None,
    loader: Callable[[Path], np.ndarray] | None = None,
    progress: Progress | None = None,
) -> SceneTruth:
    """Render ``cast`` into ``out_dir`` (created; a previous scene there is replaced)."""
    out_dir = Path(out_dir)
    _prepare(out_dir)
    plans = plan_scene(cast, config)
    enrolment = _write_watchlist(cast, out_dir / WATCHLIST_DIR)
    renderer = Renderer(plans, config, loader)
    boxes: dict[str, list[list[int]]] = {p.id: [] for p in plans}
    seen: dict[str, list[float]] = {p.id: [] for p in plans}
    total = config.frames
    with Mp4Writer(out_dir / VIDEO_FILE, config.width, config.height, config.fps) as video:
        for frame in range(total):
            items = layout(plans, config, frame)
            for (plan, pose), vis in zip(
                items, visibility(items, config, renderer.lamp), strict=True
            ):
                boxes[plan.id].append([round(v) for v in pose.box])
                seen[plan.id].append(round(vis, 3))
            video.write(renderer.draw(frame, items))
            if progress is not None and (frame % 25 == 0 or frame == total - 1):
                progress(frame + 1, total)
    truth = SceneTruth(
        fps=float(config.fps),
        width=config.width,
        height=config.height,
        frames=total,
        seed=config.seed,
        faces=str(faces_root) if faces_root else "",
        passes=tuple(_pass(p, boxes, seen, enrolment, faces_root) for p in plans),
    )
    truth.write(out_dir)
    return truth


def _prepare(out_dir: Path) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ConfigError(f"--out is a file, not a folder: {out_dir}")
        mine = {TRUTH_FILE, VIDEO_FILE, WATCHLIST_DIR}
        others = [p.name for p in out_dir.iterdir() if p.name not in mine]
        if others and not (out_dir / TRUTH_FILE).exists():
            raise ConfigError(f"--out must be a new or empty folder (or a scene): {out_dir}")
        shutil.rmtree(out_dir / WATCHLIST_DIR, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)


def folder_name(identity: str) -> str:
    """A watchlist sub-folder name for an identity (the alert's subject)."""
    name = re.sub(r"[^\w.\- ]", "_", identity).strip(" .")
    if not name:
        raise ConfigError(f"identity {identity!r} cannot be a folder name")
    return name


def _digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _write_watchlist(cast: Sequence[CastMember], root: Path) -> dict[str, tuple[str, ...]]:
    """Copy each listed person's enrolment photos; the shown photo must not be among them."""
    out: dict[str, tuple[str, ...]] = {}
    names = [folder_name(m.identity) for m in cast]
    if len(set(names)) != len(names):
        raise ConfigError("two people in the scene share an identity")
    for member, name in zip(cast, names, strict=True):
        if not member.listed:
            continue
        if not member.enrolment:
            raise ConfigError(f"listed person {member.identity!r} has no enrolment photo")
        probe_digest = _digest(member.probe) if isinstance(member.probe, Path) else None
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        copied = []
        for src in member.enrolment:
            if probe_digest is not None and _digest(src) == probe_digest:
                raise ConfigError(
                    f"{member.identity}: the photo shown walking ({member.probe}) is also an "
                    "enrolment photo; the watchlist must hold other photos"
                )
            dst = folder / Path(src).name
            shutil.copyfile(src, dst)
            copied.append(f"{WATCHLIST_DIR}/{name}/{dst.name}")
        out[member.identity] = tuple(copied)
    return out


def _pass(
    plan: PersonPlan,
    boxes: Mapping[str, list[list[int]]],
    seen: Mapping[str, list[float]],
    enrolment: Mapping[str, tuple[str, ...]],
    faces_root: Path | None,
) -> PassTruth:
    m = plan.member
    probe = m.probe_name
    if isinstance(m.probe, Path) and faces_root is not None:
        with contextlib.suppress(ValueError):
            probe = str(m.probe.resolve().relative_to(Path(faces_root).resolve()))
    vis = seen[plan.id]
    return PassTruth(
        id=plan.id,
        identity=folder_name(m.identity) if m.listed else m.identity,
        listed=m.listed,
        probe=probe,
        enrolment=enrolment.get(m.identity, ()),
        first_frame=plan.first_frame,
        last_frame=plan.last_frame,
        first_visible_frame=first_visible(vis, plan.first_frame),
        boxes=tuple(tuple(b) for b in boxes[plan.id]),  # type: ignore[misc]
        visible=tuple(vis),
    )
