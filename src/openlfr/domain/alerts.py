"""Alerts and their human decisions: every alert is adjudicated (true / false) and gets an outcome.

Deciding twice needs a recorded override reason; the full history is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from openlfr.domain.clock import as_utc
from openlfr.domain.errors import AdjudicationError


class Verdict(StrEnum):
    TRUE_ALERT = "true_alert"
    FALSE_ALERT = "false_alert"


class Outcome(StrEnum):
    NOT_ENGAGED = "not_engaged"
    ENGAGED_NO_FURTHER_ACTION = "engaged_no_further_action"
    ENGAGED_ARRESTED = "engaged_arrested"
    ENGAGED_OTHER_DISPOSAL = "engaged_other_disposal"

    @property
    def engaged(self) -> bool:
        return self is not Outcome.NOT_ENGAGED


@dataclass(frozen=True)
class AlertEvent:
    """What the live pipeline hands over when a track matches at or above the threshold.

    `live_image` is the encoded (JPEG/PNG) face crop kept as evidence; the store encrypts it.
    """

    deployment_id: str
    camera: str
    subject_id: str
    score: float
    at: datetime
    track_id: str | None = None
    reference_image_id: str | None = None
    live_image: bytes | None = None


@dataclass(frozen=True)
class Adjudication:
    verdict: Verdict
    by: str
    at: datetime
    override_reason: str | None = None


@dataclass(frozen=True)
class OutcomeRecord:
    outcome: Outcome
    by: str
    at: datetime
    override_reason: str | None = None


def _who(value: str) -> str:
    text = (value or "").strip()
    if not text:
        raise AdjudicationError("the operator's name is required")
    return text


def _reason(current: object, reason: str | None, what: str) -> str | None:
    reason = (reason or "").strip() or None
    if current is not None and reason is None:
        raise AdjudicationError(
            f"this alert already has {what}; changing it needs an override reason"
        )
    if current is None and reason is not None:
        raise AdjudicationError(f"nothing to override: the alert has no {what} yet")
    return reason


@dataclass
class Alert:
    deployment_id: str
    camera: str
    subject_id: str | None
    score: float
    at: datetime
    id: str | None = None
    track_id: str | None = None
    adjudications: list[Adjudication] = field(default_factory=list)
    outcomes: list[OutcomeRecord] = field(default_factory=list)

    @property
    def adjudication(self) -> Adjudication | None:
        return self.adjudications[-1] if self.adjudications else None

    @property
    def verdict(self) -> Verdict | None:
        return self.adjudication.verdict if self.adjudication else None

    @property
    def outcome(self) -> Outcome | None:
        return self.outcomes[-1].outcome if self.outcomes else None

    def adjudicate(
        self, verdict: Verdict | str, by: str, at: datetime, override_reason: str | None = None
    ) -> Adjudication:
        reason = _reason(self.adjudication, override_reason, "an adjudication")
        try:
            verdict = Verdict(verdict)
        except ValueError:
            raise AdjudicationError(f"unknown verdict {verdict!r}") from None
        record = Adjudication(verdict, _who(by), as_utc(at), reason)
        self.adjudications.append(record)
        return record

    def set_outcome(
        self, outcome: Outcome | str, by: str, at: datetime, override_reason: str | None = None
    ) -> OutcomeRecord:
        if self.adjudication is None:
            raise AdjudicationError("adjudicate the alert before recording its outcome")
        reason = _reason(
            self.outcomes[-1] if self.outcomes else None, override_reason, "an outcome"
        )
        try:
            outcome = Outcome(outcome)
        except ValueError:
            raise AdjudicationError(f"unknown outcome {outcome!r}") from None
        record = OutcomeRecord(outcome, _who(by), as_utc(at), reason)
        self.outcomes.append(record)
        return record
