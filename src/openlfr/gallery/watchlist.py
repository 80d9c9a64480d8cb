"""Watchlists on disk: a simple store under `data_dir()/watchlists/<NAME>/` (a later issue
moves them into the database).

Layout of one watchlist:
- `manifest.json`: name, model_id, dim, created (UTC), the subjects, and per source image
  its verdict and SHA-256 (never its pixels, never a template of a rejected image);
- `templates.npy`: (n, dim) float32, row i belongs to `manifest["template_subjects"][i]`.

A watchlist is written whole into a temporary folder beside the target and then renamed
into place, so a failed or interrupted run never leaves a half-built watchlist.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from openlfr import paths
from openlfr.errors import ConfigError, WatchlistError
from openlfr.gallery.enrol import EnrolmentReport

FORMAT = 1
MANIFEST = "manifest.json"
TEMPLATES = "templates.npy"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def validate_name(name: str) -> str:
    """A watchlist name: 1-64 letters, digits, '.', '_' or '-', starting with a letter or
    digit (so never a path, never '..', never hidden)."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise ConfigError(
            f"bad watchlist name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def root() -> Path:
    return paths.data_dir() / "watchlists"


def path_of(name: str) -> Path:
    return root() / validate_name(name)


@dataclass
class Watchlist:
    """An enrolled watchlist: subjects and their templates (several per subject allowed)."""

    name: str
    model_id: str
    dim: int
    subjects: list[str]  # every person named at enrolment, enrolled or not
    templates: np.ndarray  # (n, dim) float32
    template_subjects: list[str]  # subject of each row of `templates`
    images: list[dict] = field(default_factory=list)  # per-image verdict records
    created: str = ""
    source: str = ""

    @classmethod
    def from_report(cls, name: str, report: EnrolmentReport, source: str = "") -> Watchlist:
        rows: list[np.ndarray] = []
        owners: list[str] = []
        for subject, vectors in report.templates().items():
            rows.extend(vectors)
            owners.extend([subject] * len(vectors))
        templates = (
            np.stack(rows).astype(np.float32)
            if rows
            else np.zeros((0, max(report.dim, 0)), dtype=np.float32)
        )
        return cls(
            name=validate_name(name),
            model_id=report.model_id,
            dim=int(templates.shape[1]) if rows else report.dim,
            subjects=list(report.subjects),
            templates=templates,
            template_subjects=owners,
            images=[v.to_json() for v in report.verdicts],
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            source=source,
        )

    @property
    def enrolled_subjects(self) -> list[str]:
        got = set(self.template_subjects)
        return [s for s in self.subjects if s in got]

    @property
    def not_enrolled(self) -> list[str]:
        got = set(self.template_subjects)
        return [s for s in self.subjects if s not in got]

    def items(self) -> list[tuple[str, np.ndarray]]:
        """(subject, (k, dim) templates) per enrolled subject: what `build_index` takes."""
        owners = np.asarray(self.template_subjects)
        return [(s, self.templates[owners == s]) for s in self.enrolled_subjects]

    def index(self, kind: str = "auto"):
        """A 1:N index over this watchlist's templates (max fusion over a subject's)."""
        from openlfr.gallery.index import build_index

        if not self.template_subjects:
            raise WatchlistError(f"watchlist {self.name!r} has no enrolled subject")
        return build_index(self.model_id, self.dim, self.items(), kind=kind)

    def manifest(self) -> dict:
        return {
            "format": FORMAT,
            "name": self.name,
            "model_id": self.model_id,
            "dim": self.dim,
            "created": self.created,
            "source": self.source,
            "subjects": [
                {"id": s, "templates": self.template_subjects.count(s)} for s in self.subjects
            ],
            "template_subjects": self.template_subjects,
            "images": self.images,
        }


@dataclass(frozen=True)
class WatchlistSummary:
    name: str
    model_id: str
    subjects: int
    enrolled: int
    templates: int
    created: str

    def to_json(self) -> dict:
        return self.__dict__.copy()


def exists(name: str) -> bool:
    return (path_of(name) / MANIFEST).is_file()


# Leftovers of a run killed outright (SIGKILL, power loss) are cleaned up on the next use;
# a young temporary folder may belong to a run still going, so it is left alone.
_STALE_AFTER_S = 3600


def recover() -> None:
    """Put back a watchlist whose replacement was killed mid-swap; drop stale temp folders."""

    base = root()
    if not base.is_dir():
        return
    for folder in base.iterdir():
        kind, _, rest = folder.name.partition("-")
        if kind not in (".tmp", ".old", ".del") or not folder.is_dir():
            continue
        name = rest.rsplit("-", 1)[0]
        if kind == ".old" and (folder / "wl").is_dir() and not (base / name).exists():
            try:  # the swap was killed between its two renames: the old one goes back
                os.replace(folder / "wl", base / name)
            except OSError:
                continue
        try:
            if time.time() - folder.stat().st_mtime >= _STALE_AFTER_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def save(watchlist: Watchlist, *, replace: bool = False) -> Path:
    """Write a watchlist all or nothing; an existing one is replaced only when asked."""
    target = path_of(watchlist.name)
    if not watchlist.template_subjects:
        raise WatchlistError(
            f"no image was enrolled, so watchlist {watchlist.name!r} was not created"
        )
    if len(watchlist.template_subjects) != len(watchlist.templates):
        raise WatchlistError("templates and their subjects do not match")  # a bug, not input
    if target.exists() and not replace:
        raise WatchlistError(
            f"watchlist {watchlist.name!r} already exists; use --replace to enrol it anew"
        )
    base = root()
    recover()
    try:
        base.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{watchlist.name}-", dir=base))
    except OSError as exc:
        raise ConfigError(f"cannot write to the data directory {base}: {exc}") from None
    old: Path | None = None
    try:
        _write(tmp, watchlist)
        if target.exists():
            # Swap: move the old one aside, the new one in, then delete the old one.
            old = Path(tempfile.mkdtemp(prefix=f".old-{watchlist.name}-", dir=base))
            os.replace(target, old / "wl")
        os.replace(tmp, target)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and (old / "wl").exists() and not target.exists():
            os.replace(old / "wl", target)  # put the previous watchlist back
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        if isinstance(exc, OSError):  # disk full, permissions: the user's to fix
            raise ConfigError(
                f"cannot write watchlist {watchlist.name!r} to {base}: {exc.strerror or exc}"
            ) from None
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def _write(folder: Path, watchlist: Watchlist) -> None:
    with open(folder / TEMPLATES, "wb") as fh:
        np.save(fh, np.ascontiguousarray(watchlist.templates, dtype=np.float32))
        fh.flush()
        os.fsync(fh.fileno())
    with open(folder / MANIFEST, "w", encoding="utf-8") as fh:
        json.dump(watchlist.manifest(), fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())


def load(name: str) -> Watchlist:
    """Read a stored watchlist; a missing or damaged one is a WatchlistError."""
    folder = path_of(name)
    recover()
    if not (folder / MANIFEST).is_file():
        known = ", ".join(s.name for s in list_watchlists()) or "none"
        raise WatchlistError(f"no watchlist named {name!r} (stored: {known})")
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        templates = np.load(folder / TEMPLATES, allow_pickle=False)
        wl = Watchlist(
            name=manifest["name"],
            model_id=manifest["model_id"],
            dim=int(manifest["dim"]),
            subjects=[s["id"] for s in manifest["subjects"]],
            templates=np.asarray(templates, dtype=np.float32),
            template_subjects=list(manifest["template_subjects"]),
            images=list(manifest.get("images", [])),
            created=manifest.get("created", ""),
            source=manifest.get("source", ""),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WatchlistError(f"watchlist {name!r} is damaged: {exc}") from None
    if wl.templates.ndim != 2 or wl.templates.shape != (len(wl.template_subjects), wl.dim):
        raise WatchlistError(f"watchlist {name!r} is damaged: templates do not match manifest")
    return wl


def list_watchlists() -> list[WatchlistSummary]:
    """Every stored watchlist, by name (temporary and damaged folders are left out)."""
    base = root()
    if not base.is_dir():
        return []
    out = []
    for folder in sorted(base.iterdir()):
        if folder.name.startswith(".") or not (folder / MANIFEST).is_file():
            continue
        try:
            m = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            subjects = m["subjects"]
            out.append(
                WatchlistSummary(
                    name=m["name"],
                    model_id=m["model_id"],
                    subjects=len(subjects),
                    enrolled=sum(1 for s in subjects if s["templates"] > 0),
                    templates=len(m["template_subjects"]),
                    created=m.get("created", ""),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


def delete(name: str) -> None:
    folder = path_of(name)
    if not folder.exists():
        raise WatchlistError(f"no watchlist named {name!r}")
    # Rename first so that a crash mid-delete leaves no half-deleted watchlist under its name.
    trash = Path(tempfile.mkdtemp(prefix=f".del-{name}-", dir=root()))
    os.replace(folder, trash / "wl")
    shutil.rmtree(trash, ignore_errors=True)
