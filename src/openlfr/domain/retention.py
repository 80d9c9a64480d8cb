"""How long things are kept. `openlfr purge` applies these; the audit log is always kept."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from openlfr.domain.clock import as_utc
from openlfr.domain.deployments import SNAPSHOT_MAX_KEEP
from openlfr.domain.errors import RetentionError

ENV_VARS = {
    "alert_media_days": "OPENLFR_RETAIN_ALERT_MEDIA_DAYS",
    "evidence_days": "OPENLFR_RETAIN_EVIDENCE_DAYS",
    "snapshot_hours": "OPENLFR_RETAIN_SNAPSHOT_HOURS",
}


@dataclass(frozen=True)
class RetentionPolicy:
    """Periods after which data is deleted.

    alert_media: the live face images attached to alerts.
    evidence: the alert's link to a person (subject, track, reference image); the anonymous
      verdict and outcome stay so that deployment records can still be computed.
    snapshot_after_close: a deployment's watchlist snapshot, counted from close (at most 24 h).
    """

    alert_media: timedelta = timedelta(days=31)
    evidence: timedelta = timedelta(days=31)
    snapshot_after_close: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        for name in ("alert_media", "evidence", "snapshot_after_close"):
            if getattr(self, name) < timedelta(0):
                raise RetentionError(f"retention period {name} cannot be negative")
        if self.snapshot_after_close > SNAPSHOT_MAX_KEEP:
            raise RetentionError("a watchlist snapshot must be deleted within 24 hours of close")

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> RetentionPolicy:
        """From {'alert_media_days', 'evidence_days', 'snapshot_hours'}; unknown keys are errors."""
        unknown = set(values) - set(ENV_VARS)
        if unknown:
            raise RetentionError(f"unknown retention setting(s): {', '.join(sorted(unknown))}")
        kwargs = {}
        try:
            if "alert_media_days" in values:
                kwargs["alert_media"] = timedelta(days=float(values["alert_media_days"]))
            if "evidence_days" in values:
                kwargs["evidence"] = timedelta(days=float(values["evidence_days"]))
            if "snapshot_hours" in values:
                kwargs["snapshot_after_close"] = timedelta(hours=float(values["snapshot_hours"]))
        except (TypeError, ValueError) as exc:
            raise RetentionError(f"bad retention period: {exc}") from None
        return cls(**kwargs)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetentionPolicy:
        environ = os.environ if environ is None else environ
        return cls.from_mapping({k: environ[v] for k, v in ENV_VARS.items() if environ.get(v)})

    def alert_media_cutoff(self, now: datetime) -> datetime:
        """Alert images captured before this instant are due for deletion."""
        return as_utc(now) - self.alert_media

    def evidence_cutoff(self, now: datetime) -> datetime:
        return as_utc(now) - self.evidence

    def snapshot_delete_by(self, closed_at: datetime) -> datetime:
        return as_utc(closed_at) + self.snapshot_after_close
