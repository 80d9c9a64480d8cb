"""Where OpenLFR keeps its own data, its caches, and where it looks for the shared face data."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The installation's data directory: watchlists, calibrations, (later) the database."""
    env = os.environ.get("OPENLFR_DATA_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "openlfr"


def cache_dir() -> Path:
    """Re-computable things only (embedding caches, converted models)."""
    env = os.environ.get("OPENLFR_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "openlfr"


def shared_faces_dir() -> Path:
    """The research face data (LFW, UTKFace, videos): OPENLFR_DATA, else ../shared/data."""
    env = os.environ.get("OPENLFR_DATA")
    if env:
        return Path(env).expanduser()
    here = Path(__file__).resolve()
    # src/openlfr/paths.py -> the checkout's parent holds shared/data
    return here.parents[3] / "shared" / "data"


def write_json(path: str | Path, doc: object, indent: int | None = None) -> Path:
    """Write `doc` as JSON to `path` (creating its folder), through a temporary file and a
    rename, so a reader or a crash never leaves half a file."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=indent) + ("\n" if indent is not None else ""))
    tmp.replace(path)
    return path
