"""Deployments: persisted through the domain state machine; every transition is audited."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openlfr.domain.alerts import Outcome, Verdict
from openlfr.domain.audit import Action
from openlfr.domain.clock import as_utc, utcnow
from openlfr.domain.deployments import Deployment, DeploymentState
from openlfr.domain.errors import DeploymentStateError, NotFoundError
from openlfr.domain.records import DeploymentRecord, compute_record
from openlfr.domain.retention import RetentionPolicy
from openlfr.store import audit
from openlfr.store.base import Repository
from openlfr.store.models import (
    AlertRow,
    DeploymentRow,
    FaceCountRow,
    SnapshotRow,
    WatchlistMemberRow,
    WatchlistRow,
    new_id,
)

_FIELDS = (
    "location", "borough", "use_case", "planned_start", "planned_end", "threshold",
    "watchlist_id", "created_by", "authorising_officer", "authorised_at", "live_at",
    "closed_at", "cancelled_at", "cancel_reason", "name",
)  # fmt: skip
_TIMES = {"planned_start", "planned_end", "authorised_at", "live_at", "closed_at", "cancelled_at"}


def _t(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def to_domain(row: DeploymentRow, snapshot: SnapshotRow | None = None) -> Deployment:
    values = {f: getattr(row, f) for f in _FIELDS}
    values.update({f: _t(values[f]) for f in _TIMES})
    return Deployment(
        id=row.id,
        cameras=tuple(row.cameras),
        state=DeploymentState(row.state),
        created_at=_t(row.created_at),
        snapshot_built_at=_t(snapshot.built_at) if snapshot else None,
        snapshot_delete_by=_t(snapshot.delete_by) if snapshot else None,
        **values,
    )


def _store(row: DeploymentRow, deployment: Deployment) -> None:
    for f in _FIELDS:
        setattr(row, f, getattr(deployment, f))
    row.cameras = list(deployment.cameras)
    row.state = deployment.state.value


class DeploymentRepo(Repository):
    def _load(self, s: Session, deployment_id: str) -> tuple[DeploymentRow, SnapshotRow | None]:
        row = self._get(s, DeploymentRow, deployment_id, "deployment")
        snap = s.scalar(select(SnapshotRow).where(SnapshotRow.deployment_id == deployment_id))
        return row, snap

    def create(
        self, deployment: Deployment, actor: str, sources: Mapping[str, str] | None = None
    ) -> str:
        """Store a planned deployment; `sources` (camera -> file or URL) are sealed with it
        in the same transaction."""
        from openlfr.store.cameras import write_sources

        if deployment.state is not DeploymentState.PLANNED:
            raise DeploymentStateError("a new deployment starts as planned")
        try:
            with self.db.transaction() as s:
                if deployment.watchlist_id is not None:
                    self._get(s, WatchlistRow, deployment.watchlist_id, "watchlist")
                row = DeploymentRow(id=deployment.id or new_id())
                _store(row, deployment)
                s.add(row)
                s.flush()
                shown = write_sources(self, s, row, sources or {})
                details = {
                    "location": row.location, "borough": row.borough, "use_case": row.use_case,
                    "threshold": row.threshold, "cameras": len(row.cameras),
                    "planned_start": row.planned_start.isoformat(),
                    "planned_end": row.planned_end.isoformat(),
                }  # fmt: skip
                if row.name is not None:
                    details["name"] = row.name
                if shown:
                    details["sources"] = shown
                audit.append(s, actor, Action.CREATE, "deployment", row.id, details)
                return row.id
        except IntegrityError:
            if deployment.name is not None and self._name_taken(deployment.name):
                raise DeploymentStateError(
                    f"a deployment named {deployment.name!r} already exists"
                ) from None
            raise

    def _name_taken(self, name: str) -> bool:
        with self.db.transaction() as s:
            return s.scalar(select(DeploymentRow.id).where(DeploymentRow.name == name)) is not None

    def resolve(self, ref: str) -> str:
        """The id of the deployment named `ref`, or `ref` itself when it is an id."""
        ref = (ref or "").strip()
        with self.db.transaction() as s:
            found = s.scalar(select(DeploymentRow.id).where(DeploymentRow.name == ref))
            if found is None and ref and s.get(DeploymentRow, ref) is not None:
                found = ref
        if found is None:
            raise NotFoundError(f"no deployment named or with id {ref!r}")
        return found

    def get(self, deployment_id: str) -> Deployment:
        with self.db.transaction() as s:
            return to_domain(*self._load(s, deployment_id))

    def find(self, state: DeploymentState | None = None) -> list[Deployment]:
        with self.db.transaction() as s:
            query = select(DeploymentRow).order_by(DeploymentRow.planned_start)
            if state is not None:
                query = query.where(DeploymentRow.state == DeploymentState(state).value)
            return [to_domain(r) for r in s.scalars(query)]

    def _transition(
        self,
        deployment_id: str,
        actor: str,
        change: Callable[[Deployment], dict[str, object]],
        action: str = Action.TRANSITION,
    ) -> Deployment:
        with self.db.transaction() as s:
            row, snap = self._load(s, deployment_id)
            deployment = to_domain(row, snap)
            before = deployment.state
            details = change(deployment)  # raises a typed error when illegal: nothing written
            _store(row, deployment)
            if snap is not None and deployment.snapshot_delete_by is not None:
                snap.delete_by = deployment.snapshot_delete_by
            audit.append(
                s, actor, action, "deployment", deployment_id,
                {"from": before.value, "to": deployment.state.value, **details},
            )  # fmt: skip
            return deployment

    def authorise(
        self, deployment_id: str, officer: str, now: datetime | None = None
    ) -> Deployment:
        """The authorising officer approves; they are the actor of the audit event."""
        at = as_utc(now or utcnow())
        return self._transition(
            deployment_id, officer, lambda d: d.authorise(officer, at) or {"officer": officer}
        )

    def go_live(self, deployment_id: str, actor: str, now: datetime | None = None) -> Deployment:
        at = as_utc(now or utcnow())
        return self._transition(deployment_id, actor, lambda d: d.go_live(at) or {})

    def close(
        self,
        deployment_id: str,
        actor: str,
        now: datetime | None = None,
        policy: RetentionPolicy | None = None,
    ) -> Deployment:
        at = as_utc(now or utcnow())
        keep = (policy or RetentionPolicy()).snapshot_after_close

        def change(d: Deployment) -> dict[str, object]:
            d.close(at, keep)
            return {"snapshot_delete_by": d.snapshot_delete_by.isoformat()}

        return self._transition(deployment_id, actor, change)

    def cancel(
        self, deployment_id: str, actor: str, reason: str, now: datetime | None = None
    ) -> Deployment:
        at = as_utc(now or utcnow())
        return self._transition(
            deployment_id, actor, lambda d: d.cancel(at, reason) or {"reason": reason}
        )

    def change_threshold(
        self, deployment_id: str, value: float, actor: str, reason: str
    ) -> Deployment:
        if not (reason or "").strip():
            raise DeploymentStateError("a threshold change needs a reason")

        def change(d: Deployment) -> dict[str, object]:
            old = d.change_threshold(value)
            return {"old": old, "new": d.threshold, "reason": reason.strip()}

        return self._transition(deployment_id, actor, change, Action.THRESHOLD_CHANGE)

    def record_faces_seen(
        self, deployment_id: str, camera: str, count: int, at: datetime | None = None
    ) -> None:
        """Add a count of faces seen (counts only: who they were is never stored)."""
        if int(count) < 0:
            raise DeploymentStateError("a face count cannot be negative")
        with self.db.transaction() as s:
            row = self._get(s, DeploymentRow, deployment_id, "deployment")
            if row.state != DeploymentState.LIVE.value:
                raise DeploymentStateError("faces are only counted while a deployment is live")
            if camera not in row.cameras:
                raise DeploymentStateError(f"camera {camera!r} is not part of this deployment")
            s.add(
                FaceCountRow(
                    deployment_id=deployment_id,
                    camera=camera,
                    at=as_utc(at or utcnow()),
                    faces_seen=int(count),
                )
            )

    def record(self, deployment_id: str) -> DeploymentRecord:
        """The deployment record, computed from what is stored."""
        with self.db.transaction() as s:
            row, snap = self._load(s, deployment_id)
            deployment = to_domain(row, snap)
            if snap is not None:
                size = snap.size
            elif row.watchlist_id is not None:
                size = s.scalar(
                    select(func.count()).where(WatchlistMemberRow.watchlist_id == row.watchlist_id)
                )
            else:
                size = 0
            faces = s.scalar(
                select(func.coalesce(func.sum(FaceCountRow.faces_seen), 0)).where(
                    FaceCountRow.deployment_id == deployment_id
                )
            )
            alerts = [
                (Verdict(v) if v else None, Outcome(o) if o else None)
                for v, o in s.execute(
                    select(AlertRow.verdict, AlertRow.outcome).where(
                        AlertRow.deployment_id == deployment_id
                    )
                )
            ]
            return compute_record(deployment, int(size or 0), int(faces or 0), alerts)
