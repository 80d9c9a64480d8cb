"""Alerts from the live pipeline, and the operator's decisions on them."""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.domain.alerts import (
    Adjudication,
    Alert,
    AlertEvent,
    Outcome,
    OutcomeRecord,
    Verdict,
)
from openlfr.domain.audit import Action
from openlfr.domain.clock import as_utc, utcnow
from openlfr.domain.deployments import DeploymentState
from openlfr.domain.errors import AdjudicationError, DeploymentStateError, NotFoundError
from openlfr.store import audit
from openlfr.store.base import Repository
from openlfr.store.models import AlertDecisionRow, AlertRow, DeploymentRow, new_id

_ADJ, _OUT = "adjudication", "outcome"


def _to_alert(row: AlertRow, decisions: list[AlertDecisionRow]) -> Alert:
    alert = Alert(
        id=row.id,
        deployment_id=row.deployment_id,
        camera=row.camera,
        subject_id=row.subject_id,
        score=row.score,
        at=as_utc(row.at),
        track_id=row.track_id,
    )
    for d in decisions:
        if d.kind == _ADJ:
            alert.adjudications.append(
                Adjudication(Verdict(d.value), d.by, as_utc(d.at), d.override_reason)
            )
        else:
            alert.outcomes.append(
                OutcomeRecord(Outcome(d.value), d.by, as_utc(d.at), d.override_reason)
            )
    return alert


class AlertRepo(Repository):
    def _decisions(self, s: Session, alert_id: str) -> list[AlertDecisionRow]:
        return list(
            s.scalars(
                select(AlertDecisionRow)
                .where(AlertDecisionRow.alert_id == alert_id)
                .order_by(AlertDecisionRow.id)
            )
        )

    def create_from_event(self, event: AlertEvent) -> str:
        """Store an alert the pipeline raised. Only a live deployment's cameras raise alerts,
        and only at or above the deployment's threshold."""
        score = float(event.score)
        if not math.isfinite(score):
            raise DeploymentStateError("an alert's score must be a number")
        with self.db.transaction() as s:
            dep = self._get(s, DeploymentRow, event.deployment_id, "deployment")
            if dep.state != DeploymentState.LIVE.value:
                raise DeploymentStateError("alerts are only accepted while a deployment is live")
            if event.camera not in dep.cameras:
                raise DeploymentStateError(
                    f"camera {event.camera!r} is not part of this deployment"
                )
            if score < dep.threshold:
                raise DeploymentStateError(
                    f"score {score:.3f} is below the deployment's threshold {dep.threshold:.3f}"
                )
            alert_id = new_id()
            image = event.live_image
            s.add(
                AlertRow(
                    id=alert_id,
                    deployment_id=dep.id,
                    camera=event.camera,
                    track_id=event.track_id,
                    subject_id=event.subject_id,
                    reference_image_id=event.reference_image_id,
                    score=score,
                    threshold=dep.threshold,
                    at=as_utc(event.at),
                    live_image=None
                    if image is None
                    else self._seal(AlertRow, "live_image", alert_id, bytes(image)),
                )
            )
            s.flush()
            audit.append(
                s, "pipeline", Action.CREATE, "alert", alert_id,
                {"deployment_id": dep.id, "camera": event.camera, "subject_id": event.subject_id,
                 "score": round(score, 4), "threshold": dep.threshold},
            )  # fmt: skip
            return alert_id

    def get(self, alert_id: str) -> Alert:
        with self.db.transaction() as s:
            row = self._get(s, AlertRow, alert_id, "alert")
            return _to_alert(row, self._decisions(s, alert_id))

    def for_deployment(self, deployment_id: str) -> list[str]:
        with self.db.transaction() as s:
            return list(
                s.scalars(
                    select(AlertRow.id)
                    .where(AlertRow.deployment_id == deployment_id)
                    .order_by(AlertRow.at)
                )
            )

    def adjudicate(
        self,
        alert_id: str,
        verdict: Verdict | str,
        by: str,
        override_reason: str | None = None,
        now: datetime | None = None,
    ) -> Alert:
        """True or false alert. A second decision needs an override reason; both are kept."""
        return self._decide(alert_id, _ADJ, verdict, by, override_reason, now)

    def set_outcome(
        self,
        alert_id: str,
        outcome: Outcome | str,
        by: str,
        override_reason: str | None = None,
        now: datetime | None = None,
    ) -> Alert:
        return self._decide(alert_id, _OUT, outcome, by, override_reason, now)

    def _decide(self, alert_id, kind, value, by, override_reason, now) -> Alert:
        at = as_utc(now or utcnow())
        with self.db.transaction() as s:
            # Lock the alert row so two operators cannot both make the "first" decision.
            row = s.scalar(select(AlertRow).where(AlertRow.id == alert_id).with_for_update())
            if row is None:
                raise NotFoundError(f"no alert with id {alert_id!r}")
            alert = _to_alert(row, self._decisions(s, alert_id))
            if kind == _ADJ:
                record = alert.adjudicate(value, by, at, override_reason)
                row.verdict, stored = record.verdict.value, record.verdict.value
                action = Action.ADJUDICATE
            else:
                record = alert.set_outcome(value, by, at, override_reason)
                row.outcome, stored = record.outcome.value, record.outcome.value
                action = Action.OUTCOME
            s.add(
                AlertDecisionRow(
                    alert_id=alert_id,
                    kind=kind,
                    value=stored,
                    by=record.by,
                    at=at,
                    override_reason=record.override_reason,
                )
            )
            details: dict[str, object] = {kind: stored, "deployment_id": row.deployment_id}
            if record.override_reason:
                details["override_reason"] = record.override_reason
            audit.append(s, record.by, action, "alert", alert_id, details, at=at)
            return alert

    def view_live_image(self, alert_id: str, actor: str, purpose: str) -> bytes:
        """The captured face for side-by-side comparison (audited)."""
        if not (purpose or "").strip():
            raise AdjudicationError("viewing an alert image needs a stated purpose")
        with self.db.transaction() as s:
            row = self._get(s, AlertRow, alert_id, "alert")
            if row.live_image is None:
                raise NotFoundError("this alert has no image (none captured, or purged)")
            data = self._open(AlertRow, "live_image", row.id, row.live_image)
            audit.append(
                s, actor, Action.VIEW_BIOMETRIC, "alert", alert_id, {"purpose": purpose.strip()}
            )
            return data
