"""Read-only listings for the API and console: pages of subjects, watchlists, alerts and
audit events, and the reference templates a duplicate check compares against.

Listings carry no biometric data, except `reference_templates`, which is audited as a view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select

from openlfr.domain.alerts import Alert
from openlfr.domain.audit import Action, AuditEvent
from openlfr.domain.subjects import Subject
from openlfr.store import audit
from openlfr.store.alerts import _to_alert
from openlfr.store.audit import _event
from openlfr.store.base import Repository, template_vector
from openlfr.store.models import (
    AlertDecisionRow,
    AlertRow,
    AuditEventRow,
    ReferenceImageRow,
    SubjectRow,
    WatchlistMemberRow,
    WatchlistRow,
)
from openlfr.store.subjects import _to_subject


@dataclass(frozen=True)
class WatchlistInfo:
    id: str
    name: str
    created_by: str
    created_at: datetime
    members: int


@dataclass(frozen=True)
class AlertView:
    """An alert with what an operator needs beside it (no image: that is a separate,
    audited view)."""

    alert: Alert
    threshold: float
    has_image: bool
    subject_name: str | None
    subject_category: str | None


@dataclass(frozen=True)
class ReferenceTemplate:
    subject_id: str
    display_name: str
    image_id: str
    vector: np.ndarray


class Listing(Repository):
    def subjects(self, limit: int = 100, offset: int = 0) -> list[Subject]:
        with self.db.transaction() as s:
            rows = s.scalars(
                select(SubjectRow)
                .order_by(SubjectRow.created_at, SubjectRow.id)
                .limit(limit)
                .offset(offset)
            )
            return [_to_subject(r) for r in rows]

    def watchlists(self) -> list[WatchlistInfo]:
        with self.db.transaction() as s:
            counts = dict(
                s.execute(
                    select(WatchlistMemberRow.watchlist_id, func.count()).group_by(
                        WatchlistMemberRow.watchlist_id
                    )
                ).all()
            )
            return [
                WatchlistInfo(r.id, r.name, r.created_by, r.created_at, int(counts.get(r.id, 0)))
                for r in s.scalars(select(WatchlistRow).order_by(WatchlistRow.name))
            ]

    def watchlist(self, watchlist_id: str) -> WatchlistInfo:
        with self.db.transaction() as s:
            r = self._get(s, WatchlistRow, watchlist_id, "watchlist")
            n = s.scalar(
                select(func.count()).where(WatchlistMemberRow.watchlist_id == watchlist_id)
            )
            return WatchlistInfo(r.id, r.name, r.created_by, r.created_at, int(n or 0))

    def _alert_view(self, s, row: AlertRow) -> AlertView:
        decisions = list(
            s.scalars(
                select(AlertDecisionRow)
                .where(AlertDecisionRow.alert_id == row.id)
                .order_by(AlertDecisionRow.id)
            )
        )
        subject = s.get(SubjectRow, row.subject_id) if row.subject_id else None
        return AlertView(
            _to_alert(row, decisions),
            row.threshold,
            row.live_image is not None,
            subject.display_name if subject else None,
            subject.category if subject else None,
        )

    def alerts(
        self,
        deployment_id: str | None = None,
        unadjudicated: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AlertView]:
        with self.db.transaction() as s:
            query = select(AlertRow).order_by(AlertRow.at.desc(), AlertRow.id)
            if deployment_id is not None:
                query = query.where(AlertRow.deployment_id == deployment_id)
            if unadjudicated is True:
                query = query.where(AlertRow.verdict.is_(None))
            elif unadjudicated is False:
                query = query.where(AlertRow.verdict.is_not(None))
            rows = s.scalars(query.limit(limit).offset(offset)).all()
            return [self._alert_view(s, r) for r in rows]

    def alert(self, alert_id: str) -> AlertView:
        with self.db.transaction() as s:
            return self._alert_view(s, self._get(s, AlertRow, alert_id, "alert"))

    def audit_page(
        self,
        after_seq: int = 0,
        limit: int = 100,
        action: str | None = None,
        actor: str | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
    ) -> list[AuditEvent]:
        with self.db.transaction() as s:
            query = select(AuditEventRow).where(AuditEventRow.seq > after_seq)
            for column, value in (
                (AuditEventRow.action, action),
                (AuditEventRow.actor, actor),
                (AuditEventRow.object_type, object_type),
                (AuditEventRow.object_id, object_id),
            ):
                if value is not None:
                    query = query.where(column == value)
            rows = s.scalars(query.order_by(AuditEventRow.seq).limit(limit))
            return [_event(r) for r in rows]

    def reference_templates(
        self, model_id: str, actor: str, exclude_subject: str | None = None
    ) -> list[ReferenceTemplate]:
        """Every stored template of this model (other subjects only), decrypted for a
        duplicate check; audited as a view of biometric data."""
        with self.db.transaction() as s:
            query = (
                select(ReferenceImageRow, SubjectRow.display_name)
                .join(SubjectRow, SubjectRow.id == ReferenceImageRow.subject_id)
                .where(
                    ReferenceImageRow.template.is_not(None),
                    ReferenceImageRow.model_id == model_id,
                )
            )
            if exclude_subject is not None:
                query = query.where(ReferenceImageRow.subject_id != exclude_subject)
            out = [
                ReferenceTemplate(
                    image.subject_id,
                    name,
                    image.id,
                    template_vector(
                        self._open(ReferenceImageRow, "template", image.id, image.template)
                    ),
                )
                for image, name in s.execute(query).all()
            ]
            audit.append(
                s, actor, Action.VIEW_BIOMETRIC, "reference_templates", None,
                {"purpose": "duplicate check", "templates": len(out), "model_id": model_id},
            )  # fmt: skip
            return out
