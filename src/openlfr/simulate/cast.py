"""Who walks through a simulated scene: people, their probe photo and their enrolment photos.

The renderer only needs, per person, one photo to show (the *probe*) and where the face is
in it; the watchlist gets *other* photos of the listed people. `choose_cast` picks them from
any `{identity: [image paths]}` mapping (an LFW-layout folder, or a few shipped photos).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from openlfr.errors import ConfigError

# Where dlib's detector finds the face in a 250x250 LFW (deep-funneled) image: the mean box
# over a sample of 30 people (std about 6 px). Used when a cast member gives no box.
LFW_SIZE = 250
LFW_FACE_BOX = (70.0, 79.0, 177.0, 184.0)


@dataclass(frozen=True)
class CastMember:
    """One person in the scene.

    ``probe``: the photo shown walking (a path, or an RGB uint8 array for an altered
    rendering). ``face_box``: (x1, y1, x2, y2) of the face in that photo; None means an
    LFW-style photo with the face centred (the LFW box scaled to the photo's size).
    ``enrolment``: photos copied to the watchlist folder (listed people only).
    """

    identity: str
    listed: bool
    probe: Path | np.ndarray = field(compare=False)
    enrolment: tuple[Path, ...] = ()
    face_box: tuple[float, float, float, float] | None = None

    @property
    def probe_name(self) -> str:
        return str(self.probe) if isinstance(self.probe, Path) else "<image>"


def lfw_face_box(width: int, height: int) -> tuple[float, float, float, float]:
    """The LFW face box scaled to a photo of this size."""
    sx, sy = width / LFW_SIZE, height / LFW_SIZE
    x1, y1, x2, y2 = LFW_FACE_BOX
    return (x1 * sx, y1 * sy, x2 * sx, y2 * sy)


def choose_cast(
    people: Mapping[str, Sequence[Path]],
    n_people: int,
    n_listed: int,
    *,
    enrol_images: int = 1,
    seed: int = 0,
) -> list[CastMember]:
    """Pick ``n_people`` distinct people, ``n_listed`` of them listed (a listed person needs
    two or more photos: one to show, the others to enrol). Deterministic for a seed; the
    cast comes back in a shuffled order (listed people spread among the others)."""
    if n_people < 1:
        raise ConfigError("--people must be at least 1")
    if not 0 <= n_listed <= n_people:
        raise ConfigError("--listed must be between 0 and --people")
    if enrol_images < 1:
        raise ConfigError("enrolment images per listed person must be at least 1")
    rng = random.Random(f"cast:{seed}")
    names = sorted(people)
    multi = [n for n in names if len(people[n]) >= 2]
    if len(multi) < n_listed:
        raise ConfigError(
            f"{n_listed} listed people asked for, but only {len(multi)} people in the folder "
            "have two or more photos (one is shown walking, the others are enrolled)"
        )
    if len(names) < n_people:
        raise ConfigError(f"{n_people} people asked for, but the folder has only {len(names)}")
    listed = rng.sample(multi, n_listed)
    taken = set(listed)
    others = rng.sample([n for n in names if n not in taken], n_people - n_listed)
    cast: list[CastMember] = []
    for name in listed:
        photos = sorted(people[name])
        probe = rng.choice(photos)
        rest = [p for p in photos if p != probe]
        enrol = tuple(sorted(rng.sample(rest, min(enrol_images, len(rest)))))
        cast.append(CastMember(name, True, Path(probe), enrol))
    for name in others:
        cast.append(CastMember(name, False, Path(rng.choice(sorted(people[name])))))
    rng.shuffle(cast)
    return cast
