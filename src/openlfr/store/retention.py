"""`openlfr purge`: apply the retention policy. What was deleted is audited as counts only."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update

from openlfr.domain.audit import Action
from openlfr.domain.clock import as_utc, utcnow
from openlfr.domain.retention import RetentionPolicy
from openlfr.store import audit
from openlfr.store.db import Database
from openlfr.store.models import AlertRow, SnapshotEntryRow, SnapshotRow, SubjectRow


@dataclass(frozen=True)
class PurgeReport:
    alert_images: int  # live face images removed from alerts
    alert_evidence: int  # alerts whose link to a person was removed
    snapshots: int  # watchlist snapshots deleted
    snapshot_templates: int
    expired_subjects: int  # subjects past their expiry date (with their images)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def purge(
    db: Database, actor: str, policy: RetentionPolicy | None = None, now: datetime | None = None
) -> PurgeReport:
    """Delete everything past its period, in one transaction, and audit the counts."""
    policy = policy or RetentionPolicy()
    now = as_utc(now or utcnow())
    with db.transaction() as s:
        media = s.execute(
            update(AlertRow)
            .where(AlertRow.at <= policy.alert_media_cutoff(now), AlertRow.live_image.is_not(None))
            .values(live_image=None, media_purged_at=now)
        ).rowcount
        evidence = s.execute(
            update(AlertRow)
            .where(
                AlertRow.at <= policy.evidence_cutoff(now), AlertRow.evidence_purged_at.is_(None)
            )
            .values(subject_id=None, reference_image_id=None, track_id=None, evidence_purged_at=now)
        ).rowcount
        due = list(
            s.scalars(
                select(SnapshotRow.id).where(
                    SnapshotRow.delete_by <= now, SnapshotRow.deleted_at.is_(None)
                )
            )
        )
        templates = 0
        if due:
            templates = s.scalar(select(func.count()).where(SnapshotEntryRow.snapshot_id.in_(due)))
            s.execute(delete(SnapshotEntryRow).where(SnapshotEntryRow.snapshot_id.in_(due)))
            s.execute(update(SnapshotRow).where(SnapshotRow.id.in_(due)).values(deleted_at=now))
        expired = list(s.scalars(select(SubjectRow).where(SubjectRow.expires_at <= now)))
        for subject in expired:
            s.delete(subject)  # ORM delete: cascades to its reference images
        report = PurgeReport(media, evidence, len(due), int(templates or 0), len(expired))
        audit.append(
            s, actor, Action.PURGE, "retention", None,
            {**report.as_dict(), "policy": {
                "alert_media_days": policy.alert_media.total_seconds() / 86400,
                "evidence_days": policy.evidence.total_seconds() / 86400,
                "snapshot_hours": policy.snapshot_after_close.total_seconds() / 3600}},
            at=now,
        )  # fmt: skip
        return report
