"""Watchlists (sets of subjects) and the frozen snapshot a deployment runs with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from openlfr.domain.audit import Action
from openlfr.domain.clock import as_utc, utcnow
from openlfr.domain.errors import DeploymentStateError, NotFoundError
from openlfr.errors import WatchlistError
from openlfr.store import audit
from openlfr.store.base import Repository, template_vector
from openlfr.store.deployments import to_domain
from openlfr.store.models import (
    DeploymentRow,
    ReferenceImageRow,
    SnapshotEntryRow,
    SnapshotRow,
    SubjectRow,
    WatchlistMemberRow,
    WatchlistRow,
    new_id,
)


@dataclass(frozen=True)
class SnapshotEntry:
    """One template of the snapshot, decrypted for the matcher."""

    subject_id: str | None
    reference_image_id: str | None
    category: str
    vector: np.ndarray
    model_id: str


@dataclass(frozen=True)
class SnapshotInfo:
    id: str
    deployment_id: str
    built_at: datetime
    size: int  # subjects
    templates: int


class WatchlistRepo(Repository):
    def create(self, name: str, actor: str) -> str:
        name = (name or "").strip()
        if not name:
            raise WatchlistError("a watchlist needs a name")
        try:
            with self.db.transaction() as s:
                row = WatchlistRow(id=new_id(), name=name, created_by=actor)
                s.add(row)
                s.flush()
                audit.append(s, actor, Action.CREATE, "watchlist", row.id, {"name": name})
                return row.id
        except IntegrityError:
            raise WatchlistError(f"a watchlist named {name!r} already exists") from None

    def by_name(self, name: str) -> str:
        with self.db.transaction() as s:
            found = s.scalar(select(WatchlistRow.id).where(WatchlistRow.name == name))
        if found is None:
            raise NotFoundError(f"no watchlist named {name!r}")
        return found

    def add_subject(self, watchlist_id: str, subject_id: str, actor: str) -> None:
        with self.db.transaction() as s:
            self._get(s, WatchlistRow, watchlist_id, "watchlist")
            self._get(s, SubjectRow, subject_id, "subject")
            if s.get(WatchlistMemberRow, (watchlist_id, subject_id)) is not None:
                return
            s.add(
                WatchlistMemberRow(watchlist_id=watchlist_id, subject_id=subject_id, added_by=actor)
            )
            s.flush()
            audit.append(
                s, actor, Action.UPDATE, "watchlist", watchlist_id, {"added_subject": subject_id}
            )

    def remove_subject(self, watchlist_id: str, subject_id: str, actor: str) -> None:
        with self.db.transaction() as s:
            row = s.get(WatchlistMemberRow, (watchlist_id, subject_id))
            if row is None:
                raise NotFoundError("that subject is not on that watchlist")
            s.delete(row)
            audit.append(
                s, actor, Action.UPDATE, "watchlist", watchlist_id, {"removed_subject": subject_id}
            )

    def members(self, watchlist_id: str) -> list[str]:
        with self.db.transaction() as s:
            self._get(s, WatchlistRow, watchlist_id, "watchlist")
            return list(
                s.scalars(
                    select(WatchlistMemberRow.subject_id)
                    .where(WatchlistMemberRow.watchlist_id == watchlist_id)
                    .order_by(WatchlistMemberRow.subject_id)
                )
            )

    # -- snapshots ---------------------------------------------------------------------------
    def build_snapshot(
        self, deployment_id: str, actor: str, now: datetime | None = None
    ) -> SnapshotInfo:
        """Freeze the deployment's watchlist: unexpired subjects with templates, copied and
        re-sealed for this snapshot. Allowed no earlier than 24 hours before the start."""
        now = as_utc(now or utcnow())
        with self.db.transaction() as s:
            drow = self._get(s, DeploymentRow, deployment_id, "deployment")
            deployment = to_domain(drow)
            deployment.check_snapshot_time(now)
            if drow.watchlist_id is None:
                raise DeploymentStateError("the deployment has no watchlist")
            if s.scalar(select(SnapshotRow.id).where(SnapshotRow.deployment_id == deployment_id)):
                raise DeploymentStateError("this deployment already has a watchlist snapshot")
            rows = s.execute(
                select(SubjectRow, ReferenceImageRow)
                .join(WatchlistMemberRow, WatchlistMemberRow.subject_id == SubjectRow.id)
                .join(ReferenceImageRow, ReferenceImageRow.subject_id == SubjectRow.id)
                .where(
                    WatchlistMemberRow.watchlist_id == drow.watchlist_id,
                    SubjectRow.expires_at > now,
                    ReferenceImageRow.template.is_not(None),
                )
                .order_by(SubjectRow.id, ReferenceImageRow.added_at)
            ).all()
            if not rows:
                raise WatchlistError("the watchlist has no unexpired subject with a template")
            snap = SnapshotRow(
                id=new_id(),
                deployment_id=deployment_id,
                built_at=now,
                built_by=actor,
                size=len({subject.id for subject, _ in rows}),
            )
            s.add(snap)
            s.flush()  # the entries refer to it (no ORM relationship orders the inserts)
            for subject, image in rows:
                plain = self._open(ReferenceImageRow, "template", image.id, image.template)
                entry_id = new_id()
                s.add(
                    SnapshotEntryRow(
                        id=entry_id,
                        snapshot_id=snap.id,
                        subject_id=subject.id,
                        reference_image_id=image.id,
                        category=subject.category,
                        template=self._seal(SnapshotEntryRow, "template", entry_id, plain),
                        model_id=image.model_id,
                    )
                )
            s.flush()
            audit.append(
                s, actor, Action.CREATE, "watchlist_snapshot", snap.id,
                {"deployment_id": deployment_id, "subjects": snap.size, "templates": len(rows)},
            )  # fmt: skip
            return SnapshotInfo(snap.id, deployment_id, now, snap.size, len(rows))

    def snapshot_templates(self, deployment_id: str, actor: str) -> list[SnapshotEntry]:
        """The decrypted templates for the matcher (audited as a view of biometric data)."""
        with self.db.transaction() as s:
            snap = s.scalar(select(SnapshotRow).where(SnapshotRow.deployment_id == deployment_id))
            if snap is None or snap.deleted_at is not None:
                raise NotFoundError("this deployment has no live watchlist snapshot")
            entries = s.scalars(
                select(SnapshotEntryRow)
                .where(SnapshotEntryRow.snapshot_id == snap.id)
                .order_by(SnapshotEntryRow.id)
            ).all()
            out = [
                SnapshotEntry(
                    e.subject_id,
                    e.reference_image_id,
                    e.category,
                    template_vector(self._open(SnapshotEntryRow, "template", e.id, e.template)),
                    e.model_id,
                )
                for e in entries
            ]
            audit.append(
                s, actor, Action.VIEW_BIOMETRIC, "watchlist_snapshot", snap.id,
                {"deployment_id": deployment_id, "templates": len(out), "purpose": "matching"},
            )  # fmt: skip
            return out
