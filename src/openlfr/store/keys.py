"""`openlfr keys rotate`: re-encrypt every sealed blob under a new key, in one transaction.

Order (safe against a crash at any point):
1. the key file gains the new key as active, the old one kept as retired;
2. one transaction re-seals every blob and audits the rotation;
3. the old key is dropped from the file.
With OPENLFR_KEY (no file), the caller supplies the new key and must then set OPENLFR_KEY to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text

from openlfr.domain.audit import Action
from openlfr.store import audit
from openlfr.store.crypto import KeyRing, new_key
from openlfr.store.db import Database
from openlfr.store.models import SEALED_COLUMNS, seal_context


@dataclass(frozen=True)
class RotationReport:
    blobs: int
    old_key_id: str
    new_key_id: str


def rotate_keys(db: Database, actor: str, key: bytes | None = None) -> RotationReport:
    old = db.keyring
    fresh = key if key is not None else new_key()
    both = KeyRing(fresh, [old.active, *old.retired], old.path)
    if both.path is not None:
        both.save()
    count = 0
    with db.transaction() as s:
        if db.dialect == "postgresql":
            # Nobody may add a blob under the old key while we re-seal.
            tables = sorted({m.__tablename__ for m, _ in SEALED_COLUMNS})
            s.execute(text(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE"))
        for model, column in SEALED_COLUMNS:
            col = getattr(model, column)
            pk = model.__mapper__.primary_key[0]
            for row_id, blob in s.execute(select(pk, col).where(col.is_not(None))).all():
                context = seal_context(model, column, row_id)
                plain = both.open(blob, context)
                s.execute(
                    model.__table__.update()
                    .where(pk == row_id)
                    .values({column: both.seal(plain, context)})
                )
                count += 1
        audit.append(
            s, actor, Action.KEY_ROTATION, "keys", None,
            {"blobs": count, "old_key_id": old.active_id.hex(), "new_key_id": both.active_id.hex()},
        )  # fmt: skip
    final = KeyRing(fresh, [], old.path)
    if final.path is not None:
        final.save()
    db.keyring = final
    return RotationReport(count, old.active_id.hex(), final.active_id.hex())
