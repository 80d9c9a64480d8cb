"""Scene planning: when each person enters, the path they walk and what happens on the way.

Everything random is drawn here, once, from the seed; a person's pose in any frame is then
a pure function of their plan and the frame number, so rendering and ground truth agree and
a seed always gives the same scene.

Geometry: a camera above head height looks along a street. A person walks at constant speed
towards it, so the face's apparent size grows as 1/distance (slowly at first, fast at the
end), and its position moves out from the vanishing point in proportion to its size.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from openlfr.errors import ConfigError
from openlfr.simulate.cast import CastMember


@dataclass(frozen=True)
class SceneConfig:
    """What to render. Face sizes are face-box widths in pixels."""

    minutes: float = 5.0
    seed: int = 0
    width: int = 960
    height: int = 540
    fps: int = 25
    pass_seconds: tuple[float, float] = (3.0, 6.0)
    far_face: tuple[float, float] = (26.0, 34.0)
    near_face: tuple[float, float] = (120.0, 170.0)
    occluded_share: float = 0.25  # people who hide part of their face for a while
    max_yaw_deg: float = 25.0

    def validate(self) -> None:
        if not self.minutes > 0:
            raise ConfigError("--minutes must be more than 0")
        if self.width < 160 or self.height < 120 or self.width % 2 or self.height % 2:
            raise ConfigError("the video size must be even and at least 160x120")
        if not 1 <= self.fps <= 120:
            raise ConfigError("--fps must be between 1 and 120")
        lo, hi = self.pass_seconds
        if not 0 < lo <= hi:
            raise ConfigError("pass duration range must be positive and ordered")
        if self.frames < round(hi * self.fps):
            raise ConfigError(
                f"the scene ({self.minutes * 60:.0f} s) is shorter than one pass ({hi:.0f} s)"
            )
        if self.near_face[1] * 1.6 > self.height:
            raise ConfigError("the near face size does not fit the video height")

    @classmethod
    def sized(cls, width: int, height: int, **kwargs) -> SceneConfig:
        """A config for this video size, face sizes scaled from the 960x540 defaults so the
        scene looks the same at any size (faces about 30 to 150 px at 540 lines)."""
        k = height / cls.height
        far, near = cls.far_face, cls.near_face
        return cls(
            width=width,
            height=height,
            far_face=(far[0] * k, far[1] * k),
            near_face=(near[0] * k, near[1] * k),
            **kwargs,
        )

    @property
    def frames(self) -> int:
        return round(self.minutes * 60 * self.fps)

    @property
    def horizon(self) -> float:
        return 0.28 * self.height


@dataclass(frozen=True)
class Occluder:
    """Something in front of part of the face (a phone, a scarf, a hat brim) for a while.
    ``rect`` is relative to the face box (0..1 each way); active for ``u`` in [start, end]."""

    rect: tuple[float, float, float, float]
    start: float
    end: float
    colour: tuple[int, int, int]


@dataclass(frozen=True)
class PersonPlan:
    """One pass of one person; ``u`` (0 at entry, 1 at exit) runs over ``frames`` frames."""

    id: str
    member: CastMember
    first_frame: int
    frames: int
    far: float  # face width at entry (px)
    near: float  # face width at exit (px)
    lateral: float  # distance from the centre line, in face widths
    height: float  # how far below the horizon the face sits, in face widths
    sway: float  # side-to-side gait amplitude, in face widths
    step_hz: float
    phase: float
    yaw_bias: float  # degrees
    yaw_amp: float
    yaw_hz: float
    roll: float  # degrees
    gain_start: float  # light on the face at entry and exit (shade to sun, ...)
    gain_end: float
    side_light: float  # -1..1: a darker left (<0) or right (>0) half
    exposure: float  # share of a frame the shutter is open: 1/250 s to 1/50 s at 25 fps
    occluder: Occluder | None
    body_colour: tuple[int, int, int]

    @property
    def last_frame(self) -> int:
        return self.first_frame + self.frames - 1

    def on_screen(self, frame: int) -> bool:
        return self.first_frame <= frame <= self.last_frame


@dataclass(frozen=True)
class Pose:
    """Where and how a face is drawn in one frame. ``size`` is the face-box width."""

    cx: float
    cy: float
    size: float
    yaw: float
    roll: float
    gain: float
    blur: float  # motion blur length in pixels
    blur_angle: float  # degrees
    occluder: Occluder | None

    @property
    def box(self) -> tuple[float, float, float, float]:
        half = self.size / 2
        return (self.cx - half, self.cy - half, self.cx + half, self.cy + half)


_OCCLUDERS = (
    ((0.55, 0.35, 1.1, 1.1), "phone"),  # a hand and phone at the right cheek
    ((-0.1, 0.35, 0.45, 1.1), "phone"),  # ... or the left
    ((-0.1, 0.58, 1.1, 1.15), "scarf"),  # mouth and chin
    ((-0.15, -0.15, 1.15, 0.22), "hat"),  # a brim over the forehead
)


def plan_scene(cast: Sequence[CastMember], config: SceneConfig) -> list[PersonPlan]:
    """Plan one pass per cast member, spread at random over the scene; deterministic."""
    config.validate()
    if not cast:
        raise ConfigError("no people to put in the scene")
    rng = random.Random(f"plan:{config.seed}")
    fps, total = config.fps, config.frames
    drafts = []
    for member in cast:
        frames = round(rng.uniform(*config.pass_seconds) * fps)
        first = rng.randrange(0, total - frames + 1)
        drafts.append((first, frames, member))
    drafts.sort(key=lambda d: d[0])
    plans = []
    for i, (first, frames, member) in enumerate(drafts):
        near = rng.uniform(*config.near_face)
        # Keep the near face inside the frame: |lateral| * near + near/2 < width/2.
        reach = max(0.0, (config.width / 2 - 0.75 * near) / near)
        occ = None
        if rng.random() < config.occluded_share:
            rect, kind = rng.choice(_OCCLUDERS)
            start = rng.uniform(0.05, 0.6)
            occ = Occluder(
                rect, start, min(1.0, start + rng.uniform(0.2, 0.45)), _colour(rng, kind)
            )
        plans.append(
            PersonPlan(
                id=f"p{i + 1:04d}",
                member=member,
                first_frame=first,
                frames=frames,
                far=rng.uniform(*config.far_face),
                near=near,
                lateral=rng.uniform(-reach, reach),
                height=rng.uniform(0.75, 1.05) * (config.height * 0.3) / config.near_face[1],
                sway=rng.uniform(0.02, 0.06),
                step_hz=rng.uniform(0.8, 1.0),
                phase=rng.uniform(0, 2 * math.pi),
                yaw_bias=rng.uniform(-0.4, 0.4) * config.max_yaw_deg,
                yaw_amp=rng.uniform(0.1, 0.6) * config.max_yaw_deg,
                yaw_hz=rng.uniform(0.15, 0.4),
                roll=rng.uniform(-6, 6),
                gain_start=rng.uniform(0.55, 1.2),
                gain_end=rng.uniform(0.75, 1.25),
                side_light=rng.uniform(-0.5, 0.5),
                exposure=rng.uniform(0.1, 0.5),
                occluder=occ,
                body_colour=_colour(rng, "clothes"),
            )
        )
    return plans


def _colour(rng: random.Random, kind: str) -> tuple[int, int, int]:
    if kind == "phone":
        return (rng.randint(10, 40),) * 3
    if kind == "clothes":
        base = rng.randint(20, 200)
        return tuple(max(0, min(255, base + rng.randint(-40, 40))) for _ in range(3))  # type: ignore[return-value]
    return (rng.randint(30, 220), rng.randint(30, 220), rng.randint(30, 220))


def _raw(plan: PersonPlan, config: SceneConfig, t: float) -> tuple[float, float, float]:
    """Face centre and width at pass time t (seconds; may run past the ends)."""
    u = t * config.fps / max(1, plan.frames - 1)
    inv = 1 / plan.far + (1 / plan.near - 1 / plan.far) * u
    size = 1 / max(inv, 1e-6)
    sway = plan.sway * math.sin(2 * math.pi * plan.step_hz * t + plan.phase)
    cx = config.width / 2 + (plan.lateral + sway) * size
    bob = 0.03 * abs(math.sin(2 * math.pi * plan.step_hz * t + plan.phase))
    cy = config.horizon + (plan.height - bob) * size
    return cx, cy, size


def pose(plan: PersonPlan, config: SceneConfig, frame: int) -> Pose:
    """The face's pose in a frame of the scene (the frame must be within the pass)."""
    k = frame - plan.first_frame
    t = k / config.fps
    u = k / max(1, plan.frames - 1)
    cx, cy, size = _raw(plan, config, t)
    nx, ny, nsize = _raw(plan, config, t + 1 / config.fps)
    # Blur along the motion of the face's centre plus its growth (edges move outwards).
    dx, dy = nx - cx, ny - cy
    speed = math.hypot(dx, dy) + 0.5 * (nsize - size)
    yaw = plan.yaw_bias + plan.yaw_amp * math.sin(2 * math.pi * plan.yaw_hz * t + plan.phase)
    s = u * u * (3 - 2 * u)  # smoothstep: light changes gradually along the way
    gain = plan.gain_start + (plan.gain_end - plan.gain_start) * s
    occ = plan.occluder
    active = occ is not None and occ.start <= u <= occ.end
    return Pose(
        cx=cx,
        cy=cy,
        size=size,
        yaw=yaw,
        roll=plan.roll,
        gain=gain,
        blur=plan.exposure * speed,
        blur_angle=math.degrees(math.atan2(dy, dx)) if speed > 0 else 0.0,
        occluder=occ if active else None,
    )
