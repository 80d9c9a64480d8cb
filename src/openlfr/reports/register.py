"""The register of deployments: every deployment that went live, as its published record
(computed from stored data by the store), for a period; and the totals of a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from openlfr import __version__
from openlfr.domain.deployments import DeploymentState
from openlfr.errors import ConfigError
from openlfr.store import Store

RAN = (DeploymentState.LIVE, DeploymentState.CLOSED)


def system_type() -> str:
    return f"OpenLFR {__version__}"


def record_row(store: Store, deployment_id: str) -> dict[str, object]:
    """One deployment's record with the FOI-only fields (cameras, system type)."""
    record = store.deployments.record(deployment_id)
    deployment = store.deployments.get(deployment_id)
    row: dict[str, object] = {
        "deployment_id": record.deployment_id,
        "date": record.date,
        "location": record.location,
        "borough": record.borough,
        "use_case": record.use_case,
        "start": record.start,
        "end": record.end,
        "watchlist_size": record.watchlist_size,
        "threshold": record.threshold,
        "faces_seen": record.faces_seen,
        "alerts": record.alerts,
        "true_alerts": record.true_alerts,
        "false_alerts": record.false_alerts,
        "false_alert_rate": record.false_alert_rate,
        "engagements": record.engagements,
        "arrests": record.arrests,
        "unadjudicated": record.unadjudicated,
        "state": deployment.state.value,
        "cameras": len(deployment.cameras),
        "system_type": system_type(),
    }
    return row


def check_period(date_from: date | None, date_to: date | None) -> None:
    if date_from is not None and date_to is not None and date_to < date_from:
        raise ConfigError(f"the period ends ({date_to}) before it starts ({date_from})")


def register(
    store: Store, date_from: date | None = None, date_to: date | None = None
) -> list[dict[str, object]]:
    """Records of the deployments that went live with their date inside [from, to], oldest
    first. Planned, authorised and cancelled deployments never ran and are not listed."""
    check_period(date_from, date_to)
    rows = []
    for deployment in store.deployments.find():
        if deployment.state not in RAN:
            continue
        row = record_row(store, deployment.id)
        day = row["date"]
        if (date_from and day < date_from) or (date_to and day > date_to):
            continue
        rows.append(row)
    return sorted(rows, key=lambda r: (r["start"], r["location"]))


@dataclass(frozen=True)
class Totals:
    deployments: int
    faces_seen: int
    alerts: int
    true_alerts: int
    false_alerts: int
    engagements: int
    arrests: int
    unadjudicated: int

    @property
    def false_alert_rate(self) -> float | None:
        return self.false_alerts / self.faces_seen if self.faces_seen else None

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "false_alert_rate": self.false_alert_rate}


def totals(rows: list[dict[str, object]]) -> Totals:
    def total(key: str) -> int:
        return int(sum(int(r[key]) for r in rows))

    return Totals(
        deployments=len(rows),
        faces_seen=total("faces_seen"),
        alerts=total("alerts"),
        true_alerts=total("true_alerts"),
        false_alerts=total("false_alerts"),
        engagements=total("engagements"),
        arrests=total("arrests"),
        unadjudicated=total("unadjudicated"),
    )
