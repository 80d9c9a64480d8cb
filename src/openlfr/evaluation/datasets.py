"""Reading evaluation sets: LFW pairs files, `<person>/<image>` folders, label CSVs."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from openlfr.errors import ConfigError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass(frozen=True)
class Pair:
    """One verification pair of image paths; `same` when both show one person."""

    a: Path
    b: Path
    same: bool
    fold: int


@dataclass(frozen=True)
class Probe:
    """One image to search with; `person` is its identity (None: unknown, a stranger)."""

    path: Path
    person: str | None


@dataclass(frozen=True)
class Split:
    """Open-set 1:N: one enrolled image per person, mated and non-mated searches."""

    gallery: list[Probe]
    mated: list[Probe]
    nonmated: list[Probe]


def _require_dir(path: Path, what: str) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"{what} is not a folder: {path}")
    return path


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def lfw_image(faces_dir: Path, person: str, number: int) -> Path:
    return faces_dir / person / f"{person}_{number:04d}.jpg"


def read_pairs(path: Path, faces_dir: Path) -> list[Pair]:
    """Parse an LFW pairs file: header `folds n` (or just `n` for one fold), then per fold
    n mated lines `name i j` and n non-mated lines `name1 i name2 j`."""
    path = Path(path)
    faces_dir = _require_dir(faces_dir, "--faces")
    if not path.is_file():
        raise ConfigError(f"pairs file not found: {path}")
    lines = [ln.split() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    if not lines:
        raise ConfigError(f"pairs file is empty: {path}")
    try:
        header = [int(x) for x in lines[0]]
    except ValueError:
        raise ConfigError(f"pairs file {path}: first line must be 'folds pairs'") from None
    folds, per_set = (header[0], header[1]) if len(header) == 2 else (1, header[0])
    body = lines[1:]
    if folds < 1 or per_set < 1 or len(body) != folds * per_set * 2:
        raise ConfigError(
            f"pairs file {path}: header says {folds} folds x {per_set} x 2 pairs, "
            f"found {len(body)} lines"
        )
    pairs: list[Pair] = []
    for i, parts in enumerate(body, start=2):
        fold = (i - 2) // (2 * per_set)
        try:
            if len(parts) == 3:
                name, n1, n2 = parts
                a, b, same = (
                    lfw_image(faces_dir, name, int(n1)),
                    lfw_image(faces_dir, name, int(n2)),
                    True,
                )
            elif len(parts) == 4:
                name1, n1, name2, n2 = parts
                a, b, same = (
                    lfw_image(faces_dir, name1, int(n1)),
                    lfw_image(faces_dir, name2, int(n2)),
                    False,
                )
            else:
                raise ValueError
        except ValueError:
            raise ConfigError(
                f"pairs file {path}, line {i}: not a pair: {' '.join(parts)}"
            ) from None
        pairs.append(Pair(a, b, same, fold))
    return pairs


def limit_pairs(pairs: list[Pair], per_fold: int) -> list[Pair]:
    """At most `per_fold` pairs from each fold, half mated and half non-mated."""
    kept: list[Pair] = []
    for fold in sorted({p.fold for p in pairs}):
        for same, quota in ((True, (per_fold + 1) // 2), (False, per_fold // 2)):
            kept += [p for p in pairs if p.fold == fold and p.same == same][:quota]
    return kept


def scan_people(faces_dir: Path) -> dict[str, list[Path]]:
    """`<person>/<image>` folders: each person's images, sorted by name (people sorted too)."""
    faces_dir = _require_dir(faces_dir, "--faces")
    people = {}
    for sub in sorted(p for p in faces_dir.iterdir() if p.is_dir()):
        images = sorted(p for p in sub.iterdir() if _is_image(p))
        if images:
            people[sub.name] = images
    return people


def scan_images(faces_dir: Path) -> list[Path]:
    """A flat folder of images (no identities), sorted by name."""
    faces_dir = _require_dir(faces_dir, "--faces")
    return sorted(p for p in faces_dir.iterdir() if _is_image(p))


def has_identities(faces_dir: Path) -> bool:
    """True for a `<person>/<image>` layout, False for a flat folder of images."""
    faces_dir = _require_dir(faces_dir, "--faces")
    return any(p.is_dir() for p in faces_dir.iterdir())


def spread(items: list, n: int) -> list:
    # Evenly spaced picks, so a limited run still spans the alphabet (and its groups).
    if n >= len(items):
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def identification_split(people: dict[str, list[Path]], limit: int | None = None) -> Split:
    """NIST-style: the first image of each person with two or more is enrolled; their
    other images are mated searches; people with a single image are non-mated searches.
    `limit` keeps at most that many enrolled people and that many non-mated people."""
    multi = [name for name, imgs in people.items() if len(imgs) >= 2]
    single = [name for name, imgs in people.items() if len(imgs) == 1]
    if limit is not None:
        multi, single = spread(multi, limit), spread(single, limit)
    gallery = [Probe(people[n][0], n) for n in multi]
    mated = [Probe(p, n) for n in multi for p in people[n][1:]]
    nonmated = [Probe(people[n][0], None) for n in single]
    if not gallery:
        raise ConfigError("no person has two or more images: nothing to enrol")
    return Split(gallery, mated, nonmated)


def heldout_split(images: list[Path], watchlist_share: float = 0.5) -> Split:
    """For a folder without identities (every image a different person): every other
    image (by sorted name, so deterministic) is enrolled; the rest are non-mated searches."""
    if not 0 < watchlist_share < 1:
        raise ConfigError("watchlist share must be between 0 and 1")
    step = round(1 / watchlist_share)
    enrolled = set(images[::step])
    gallery = [Probe(p, p.name) for p in images if p in enrolled]
    nonmated = [Probe(p, None) for p in images if p not in enrolled]
    if not gallery or not nonmated:
        raise ConfigError("too few images to split into a watchlist and searches")
    return Split(gallery, [], nonmated)


def read_labels(path: Path, column: str) -> dict[str, str]:
    """Label CSV -> {image key: group}. The `image` column names the file (LFW's
    `person,image,gender`, UTKFace's `image,age,gender,race`); keys are file names.
    Blank labels are left out (reported as unlabelled by the caller)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"labels file not found: {path}")
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        if "image" not in fields:
            raise ConfigError(
                f"labels file {path} has no 'image' column (has: {', '.join(fields)})"
            )
        if column not in fields:
            raise ConfigError(
                f"labels file {path} has no column {column!r}; choose one of: {', '.join(fields)}"
            )
        labels = {}
        for row in reader:
            value = (row.get(column) or "").strip()
            image = (row.get("image") or "").strip()
            if image and value:
                labels[Path(image).name] = value
    if not labels:
        raise ConfigError(f"labels file {path} has no labelled rows for {column!r}")
    return labels


def read_people_list(path: Path) -> set[str]:
    """Names from an LFW people file (`name<TAB>count` lines, a leading count line) or a
    plain list of one name per line."""
    try:
        lines = Path(path).read_text().split("\n")
    except OSError as exc:
        raise ConfigError(f"cannot read people list {path}: {exc.strerror or exc}") from None
    names = {line.split()[0] for line in lines if line.strip() and not line.strip().isdigit()}
    if not names:
        raise ConfigError(f"people list {path} names nobody")
    return names


def select_people(
    people: dict[str, list[Path]], names: set[str] | None, faces_dir: Path
) -> dict[str, list[Path]]:
    """Only the named people (all when `names` is None); naming nobody present is an error."""
    if names is None:
        return people
    chosen = {name: imgs for name, imgs in people.items() if name in names}
    if not chosen:
        raise ConfigError(f"none of the listed people has a folder in {faces_dir}")
    return chosen
