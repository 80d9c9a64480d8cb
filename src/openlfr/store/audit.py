"""The audit log's storage: appends under a lock (no forks), verification from the rows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.domain.audit import AuditEvent, ChainBreak, check_details, verify_chain
from openlfr.domain.clock import as_utc, utcnow
from openlfr.store.models import AuditEventRow, AuditHeadRow


def _event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        seq=row.seq,
        at=as_utc(row.at),
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        details=row.details or {},
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def append(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None = None,
    details: Mapping[str, object] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one event inside the caller's transaction (so the change and its record commit
    together). The head row is locked first: concurrent appenders queue, never fork."""
    details = dict(details or {})
    check_details(details)
    head = session.execute(
        select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()
    ).scalar_one()
    event = AuditEvent(
        seq=head.seq + 1,
        at=as_utc(at or utcnow()),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details,
        prev_hash=head.hash,
    )
    event = AuditEvent(**{**event.__dict__, "hash": event.compute_hash()})
    session.add(
        AuditEventRow(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            details=details,
            prev_hash=event.prev_hash,
            hash=event.hash,
        )
    )
    head.seq, head.hash = event.seq, event.hash
    session.flush()
    return event


def iter_events(session: Session, since_seq: int = 0) -> Iterator[AuditEvent]:
    rows = session.execute(
        select(AuditEventRow).where(AuditEventRow.seq > since_seq).order_by(AuditEventRow.seq)
    ).scalars()
    for row in rows:
        yield _event(row)


def verify(session: Session) -> ChainBreak | None:
    """Re-compute the whole chain; None when intact, else the first broken link."""
    head = session.get(AuditHeadRow, 1)
    if head is None:
        return ChainBreak(0, "the chain's head record is missing")
    return verify_chain(iter_events(session), (head.seq, head.hash))
