"""A deployment and its life: planned -> authorised -> live -> closed (or cancelled).

The rules: it can go live only when authorised, inside its planned window, with a
watchlist snapshot built no earlier than 24 hours before its start; closing it
schedules the snapshot's deletion within 24 hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from openlfr.domain.clock import as_utc
from openlfr.domain.errors import DeploymentStateError

SNAPSHOT_LEAD = timedelta(hours=24)  # earliest a watchlist snapshot may be built before start
SNAPSHOT_MAX_KEEP = timedelta(hours=24)  # latest it may be deleted after close


class DeploymentState(StrEnum):
    PLANNED = "planned"
    AUTHORISED = "authorised"
    LIVE = "live"
    CLOSED = "closed"
    CANCELLED = "cancelled"


_THRESHOLD_EDITABLE = {DeploymentState.PLANNED, DeploymentState.AUTHORISED, DeploymentState.LIVE}


def _text(value: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise DeploymentStateError(f"{what} is required")
    return text


def check_threshold(value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or not 0.0 < value <= 1.0:
        raise DeploymentStateError(f"threshold must be in (0, 1], got {value}")
    return value


_NAME_MAX = 100


def check_name(name: str | None) -> str | None:
    """An optional deployment name: 1-100 printable characters, not only digits and dashes
    (so that it can never be mistaken for an id)."""
    if name is None:
        return None
    text = str(name).strip()
    if not text or len(text) > _NAME_MAX or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise DeploymentStateError(
            f"a deployment name is 1-{_NAME_MAX} printable characters, got {name!r}"
        )
    if all(c in "0123456789abcdef-" for c in text.lower()) and len(text) >= 32:
        raise DeploymentStateError("a deployment name may not look like a deployment id")
    return text


@dataclass
class Deployment:
    location: str
    borough: str
    use_case: str
    planned_start: datetime
    planned_end: datetime
    cameras: tuple[str, ...]
    threshold: float
    created_by: str
    watchlist_id: str | None = None
    id: str | None = None
    state: DeploymentState = DeploymentState.PLANNED
    authorising_officer: str | None = None
    authorised_at: datetime | None = None
    live_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    snapshot_built_at: datetime | None = None
    snapshot_delete_by: datetime | None = None
    created_at: datetime | None = field(default=None)
    name: str | None = None  # optional, unique: how scripts and the CLI refer to it

    def __post_init__(self) -> None:
        self.name = check_name(self.name)
        self.location = _text(self.location, "location")
        self.borough = _text(self.borough, "borough")
        self.use_case = _text(self.use_case, "use case")
        self.created_by = _text(self.created_by, "created by")
        self.planned_start = as_utc(self.planned_start)
        self.planned_end = as_utc(self.planned_end)
        if self.planned_end <= self.planned_start:
            raise DeploymentStateError("planned end must be after planned start")
        self.cameras = tuple(_text(c, "camera name") for c in self.cameras)
        if not self.cameras:
            raise DeploymentStateError("a deployment needs at least one camera")
        if len(set(self.cameras)) != len(self.cameras):
            raise DeploymentStateError("camera names must be unique")
        self.threshold = check_threshold(self.threshold)
        self.state = DeploymentState(self.state)

    # -- transitions -----------------------------------------------------------------------
    def _require(self, *states: DeploymentState, action: str) -> None:
        if self.state not in states:
            allowed = " or ".join(s.value for s in states)
            raise DeploymentStateError(
                f"cannot {action} a deployment that is {self.state.value} (must be {allowed})"
            )

    def authorise(self, officer: str, at: datetime) -> None:
        self._require(DeploymentState.PLANNED, action="authorise")
        at = as_utc(at)
        if at >= self.planned_end:
            raise DeploymentStateError("cannot authorise a deployment whose window has passed")
        if self.watchlist_id is None:
            raise DeploymentStateError("cannot authorise a deployment without a watchlist")
        self.authorising_officer = _text(officer, "authorising officer")
        self.authorised_at = at
        self.state = DeploymentState.AUTHORISED

    def check_snapshot_time(self, built_at: datetime) -> None:
        """A snapshot must be built within 24 hours before start (or during the window)."""
        self._require(
            DeploymentState.PLANNED, DeploymentState.AUTHORISED, action="build a snapshot for"
        )
        built_at = as_utc(built_at)
        if built_at < self.planned_start - SNAPSHOT_LEAD:
            raise DeploymentStateError(
                "the watchlist snapshot may be built no earlier than 24 hours before the start"
            )
        if built_at >= self.planned_end:
            raise DeploymentStateError("the deployment window has passed")

    def record_snapshot(self, built_at: datetime) -> None:
        self.check_snapshot_time(built_at)
        self.snapshot_built_at = as_utc(built_at)

    def go_live(self, now: datetime) -> None:
        self._require(DeploymentState.AUTHORISED, action="go live with")
        now = as_utc(now)
        if not self.planned_start <= now < self.planned_end:
            raise DeploymentStateError(
                f"cannot go live at {now.isoformat()}: outside the planned window "
                f"{self.planned_start.isoformat()} - {self.planned_end.isoformat()}"
            )
        built = self.snapshot_built_at
        if built is None:
            raise DeploymentStateError("cannot go live without a watchlist snapshot")
        if built < self.planned_start - SNAPSHOT_LEAD or built > now:
            raise DeploymentStateError(
                "the watchlist snapshot must be built no earlier than 24 hours before the start"
            )
        self.live_at = now
        self.state = DeploymentState.LIVE

    def close(self, now: datetime, snapshot_keep: timedelta = SNAPSHOT_MAX_KEEP) -> None:
        self._require(DeploymentState.LIVE, action="close")
        now = as_utc(now)
        self.closed_at = now
        self.snapshot_delete_by = now + min(snapshot_keep, SNAPSHOT_MAX_KEEP)
        self.state = DeploymentState.CLOSED

    def cancel(
        self, now: datetime, reason: str, snapshot_keep: timedelta = SNAPSHOT_MAX_KEEP
    ) -> None:
        self._require(DeploymentState.PLANNED, DeploymentState.AUTHORISED, action="cancel")
        now = as_utc(now)
        self.cancel_reason = _text(reason, "cancel reason")
        self.cancelled_at = now
        if self.snapshot_built_at is not None:
            self.snapshot_delete_by = now + min(snapshot_keep, SNAPSHOT_MAX_KEEP)
        self.state = DeploymentState.CANCELLED

    def change_threshold(self, value: float) -> float:
        """Set a new threshold; returns the old one (the caller audits the change)."""
        if self.state not in _THRESHOLD_EDITABLE:
            raise DeploymentStateError(
                f"cannot change the threshold of a {self.state.value} deployment"
            )
        old, self.threshold = self.threshold, check_threshold(value)
        return old
