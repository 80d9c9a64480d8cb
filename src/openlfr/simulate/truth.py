"""The scene's ground truth: who is where in which frame, and who is on the watchlist.

``truth.json`` in a scene folder::

    {"format": "openlfr-scene", "version": 1, "video": "scene.mp4", "watchlist": "watchlist",
     "fps": 25, "width": 960, "height": 540, "frames": 7500, "seed": 0, "faces": "...",
     "people": [{"id": "p0001", "identity": "Jane_Doe", "listed": true,
                 "probe": "Jane_Doe/Jane_Doe_0003.jpg",
                 "enrolment": ["watchlist/Jane_Doe/Jane_Doe_0001.jpg"],
                 "first_frame": 120, "last_frame": 219, "first_visible_frame": 121,
                 "boxes": [[x1, y1, x2, y2], ...],   # one per frame, first to last
                 "visible": [1.0, 0.98, ...]}]}      # share of the face box in view

Boxes are the face box (about what a detector reports) in pixels; ``visible`` counts the
parts outside the frame or behind something as hidden. A pass *appears* at its
``first_visible_frame``: the first frame with at least half the face in view.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from openlfr.errors import ConfigError

FORMAT = "openlfr-scene"
VERSION = 1
TRUTH_FILE = "truth.json"
VIDEO_FILE = "scene.mp4"
WATCHLIST_DIR = "watchlist"
APPEARS_AT = 0.5  # share of the face in view from which a pass counts as having appeared


@dataclass(frozen=True)
class PassTruth:
    """One person's one walk through the scene."""

    id: str
    identity: str
    listed: bool
    probe: str
    enrolment: tuple[str, ...]
    first_frame: int
    last_frame: int
    first_visible_frame: int | None
    boxes: tuple[tuple[int, int, int, int], ...] = field(repr=False)
    visible: tuple[float, ...] = field(repr=False)

    def box_at(self, frame: int) -> tuple[int, int, int, int] | None:
        if not self.first_frame <= frame <= self.last_frame:
            return None
        return self.boxes[frame - self.first_frame]

    def visible_at(self, frame: int) -> float:
        if not self.first_frame <= frame <= self.last_frame:
            return 0.0
        return self.visible[frame - self.first_frame]

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "identity": self.identity,
            "listed": self.listed,
            "probe": self.probe,
            "enrolment": list(self.enrolment),
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "first_visible_frame": self.first_visible_frame,
            "boxes": [list(b) for b in self.boxes],
            "visible": list(self.visible),
        }


@dataclass(frozen=True)
class SceneTruth:
    fps: float
    width: int
    height: int
    frames: int
    seed: int
    faces: str
    passes: tuple[PassTruth, ...]
    video: str = VIDEO_FILE
    watchlist: str = WATCHLIST_DIR

    @property
    def listed(self) -> list[PassTruth]:
        return [p for p in self.passes if p.listed]

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "video": self.video,
            "watchlist": self.watchlist,
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "seed": self.seed,
            "faces": self.faces,
            "people": [p.to_json() for p in self.passes],
        }

    def write(self, scene_dir: Path) -> Path:
        path = Path(scene_dir) / TRUTH_FILE
        # One person per line: readable, diffable, and still one JSON document.
        people = ",\n".join(json.dumps(p.to_json(), separators=(",", ":")) for p in self.passes)
        head = json.dumps({k: v for k, v in self.to_json().items() if k != "people"})
        path.write_text(head[:-1] + ', "people": [\n' + people + "\n]}\n")
        return path


def first_visible(visible: list[float] | tuple[float, ...], first_frame: int) -> int | None:
    for i, v in enumerate(visible):
        if v >= APPEARS_AT:
            return first_frame + i
    return None


def load_truth(scene_dir: Path) -> SceneTruth:
    """Read and check a scene's truth.json; any inconsistency is a ConfigError."""
    scene_dir = Path(scene_dir)
    path = scene_dir / TRUTH_FILE
    if not path.is_file():
        raise ConfigError(f"not a scene folder (no {TRUTH_FILE}): {scene_dir}")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable JSON ({exc})") from None
    return parse_truth(data, str(path))


def parse_truth(data: object, where: str = "truth") -> SceneTruth:
    def bad(msg: str) -> ConfigError:
        return ConfigError(f"{where}: {msg}")

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise bad(f"not an {FORMAT} file")
    if data.get("version") != VERSION:
        raise bad(f"version {data.get('version')!r} is not supported (expected {VERSION})")
    try:
        fps, width, height = float(data["fps"]), int(data["width"]), int(data["height"])
        frames, people = int(data["frames"]), data["people"]
    except (KeyError, TypeError, ValueError) as exc:
        raise bad(f"missing or malformed field {exc}") from None
    if fps <= 0 or width <= 0 or height <= 0 or frames <= 0 or not isinstance(people, list):
        raise bad("fps, width, height and frames must be positive; people a list")
    passes = []
    seen = set()
    for i, p in enumerate(people):
        try:
            first, last = int(p["first_frame"]), int(p["last_frame"])
            boxes = tuple(tuple(int(v) for v in b) for b in p["boxes"])
            visible = tuple(float(v) for v in p["visible"])
            fv = p.get("first_visible_frame")
            item = PassTruth(
                id=str(p["id"]),
                identity=str(p["identity"]),
                listed=bool(p["listed"]),
                probe=str(p["probe"]),
                enrolment=tuple(str(e) for e in p.get("enrolment", [])),
                first_frame=first,
                last_frame=last,
                first_visible_frame=None if fv is None else int(fv),
                boxes=boxes,  # type: ignore[arg-type]
                visible=visible,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise bad(f"person {i}: missing or malformed field {exc}") from None
        n = last - first + 1
        if not 0 <= first <= last < frames:
            raise bad(f"person {item.id}: frames {first}..{last} outside 0..{frames - 1}")
        if len(boxes) != n or len(visible) != n or any(len(b) != 4 for b in boxes):
            raise bad(f"person {item.id}: needs one box [x1,y1,x2,y2] and visibility per frame")
        if item.first_visible_frame is not None and not first <= item.first_visible_frame <= last:
            raise bad(f"person {item.id}: first_visible_frame outside the pass")
        if item.id in seen:
            raise bad(f"person id {item.id} appears twice")
        if item.listed and not item.enrolment:
            raise bad(f"listed person {item.id} has no enrolment images")
        seen.add(item.id)
        passes.append(item)
    return SceneTruth(
        fps=fps,
        width=width,
        height=height,
        frames=frames,
        seed=int(data.get("seed", 0)),
        faces=str(data.get("faces", "")),
        passes=tuple(passes),
        video=str(data.get("video", VIDEO_FILE)),
        watchlist=str(data.get("watchlist", WATCHLIST_DIR)),
    )
