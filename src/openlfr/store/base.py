"""What every repository shares: the database, sealing helpers, typed not-found errors."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from sqlalchemy.orm import Session

from openlfr.domain.errors import NotFoundError
from openlfr.store.db import Database
from openlfr.store.models import Base, seal_context

M = TypeVar("M", bound=Base)


class Repository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _get(self, session: Session, model: type[M], row_id: str, what: str) -> M:
        row = session.get(model, row_id) if row_id else None
        if row is None:
            raise NotFoundError(f"no {what} with id {row_id!r}")
        return row

    def _seal(self, model: type[Base], column: str, row_id: str, data: bytes) -> bytes:
        return self.db.keyring.seal(data, seal_context(model, column, row_id))

    def _open(self, model: type[Base], column: str, row_id: str, blob: bytes) -> bytes:
        return self.db.keyring.open(blob, seal_context(model, column, row_id))


def template_bytes(vector: np.ndarray) -> bytes:
    """A template as little-endian float32 bytes (what gets sealed)."""
    vec = np.asarray(vector, dtype="<f4")
    if vec.ndim != 1 or vec.size == 0 or not np.all(np.isfinite(vec)):
        raise ValueError("a template must be a non-empty finite 1-D vector")
    return vec.tobytes()


def template_vector(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
