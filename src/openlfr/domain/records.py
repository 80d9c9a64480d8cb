"""The published deployment record, computed from stored data (never typed in)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime

from openlfr.domain.alerts import Outcome, Verdict
from openlfr.domain.deployments import Deployment


@dataclass(frozen=True)
class DeploymentRecord:
    """The Met's columns. Start and end are the actual live and close times when known."""

    deployment_id: str | None
    date: date
    location: str
    borough: str
    use_case: str
    start: datetime
    end: datetime
    watchlist_size: int
    threshold: float
    faces_seen: int
    alerts: int
    true_alerts: int
    false_alerts: int
    false_alert_rate: float | None  # false alerts / faces seen; None when no faces were seen
    engagements: int
    arrests: int
    unadjudicated: int  # not a published column: alerts still awaiting a decision

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        for key in ("date", "start", "end"):
            out[key] = out[key].isoformat()
        return out


def compute_record(
    deployment: Deployment,
    watchlist_size: int,
    faces_seen: int,
    alerts: Iterable[tuple[Verdict | None, Outcome | None]],
) -> DeploymentRecord:
    """`alerts`: each alert's current (verdict, outcome)."""
    total = true_ = false_ = engaged = arrests = 0
    for verdict, outcome in alerts:
        total += 1
        true_ += verdict is Verdict.TRUE_ALERT
        false_ += verdict is Verdict.FALSE_ALERT
        if outcome is not None:
            engaged += outcome.engaged
            arrests += outcome is Outcome.ENGAGED_ARRESTED
    start = deployment.live_at or deployment.planned_start
    end = deployment.closed_at or deployment.planned_end
    return DeploymentRecord(
        deployment_id=deployment.id,
        date=start.date(),
        location=deployment.location,
        borough=deployment.borough,
        use_case=deployment.use_case,
        start=start,
        end=end,
        watchlist_size=watchlist_size,
        threshold=deployment.threshold,
        faces_seen=faces_seen,
        alerts=total,
        true_alerts=true_,
        false_alerts=false_,
        false_alert_rate=(false_ / faces_seen) if faces_seen else None,
        engagements=engaged,
        arrests=arrests,
        unadjudicated=total - true_ - false_,
    )
