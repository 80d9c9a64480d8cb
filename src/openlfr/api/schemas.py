"""Request bodies: strict shapes (unknown fields are errors), bounded strings without NUL
or lone surrogates (the databases refuse them), aware datetimes, finite numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from openlfr.auth.roles import Role
from openlfr.domain.alerts import Outcome, Verdict
from openlfr.domain.subjects import Category


def _clean(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode") from None
    return value


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("date out of range") from None


def Text(max_length: int, min_length: int = 1):  # noqa: N802 - a type factory
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_clean)
    ]


When = Annotated[AwareDatetime, AfterValidator(_utc)]
# Ids are UUIDs made by the service; anything else cannot name a record.
Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class LoginIn(Strict):
    username: Text(100)
    password: Text(1024)


class PasswordChangeIn(Strict):
    current_password: Text(1024)
    new_password: Text(1024)


class UserIn(Strict):
    username: Text(64)
    password: Text(1024)
    roles: list[Role] = Field(max_length=len(Role))
    display_name: Text(200) | None = None


class UserPatch(Strict):
    roles: list[Role] | None = Field(None, max_length=len(Role))
    active: bool | None = None
    display_name: Text(200) | None = None


class PasswordResetIn(Strict):
    new_password: Text(1024)


class TokenIn(Strict):
    name: Text(64)
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    expires_at: When | None = None


class WatchlistIn(Strict):
    name: Text(200)


class MemberIn(Strict):
    subject_id: Text(64)


class SubjectIn(Strict):
    display_name: Text(200)
    category: Category
    offence: Text(200) | None = None
    expires_at: When


class CameraIn(Strict):
    name: Text(100)
    source: Text(2000) | None = Field(
        None,
        description="A video file on the server, an rtsp:// or http(s):// URL (credentials "
        "allowed: stored encrypted, shown redacted) or /dev/videoN",
    )


class DeploymentIn(Strict):
    location: Text(200)
    borough: Text(100)
    use_case: Text(200)
    start: When
    end: When
    cameras: list[Text(100) | CameraIn] = Field(
        min_length=1, max_length=64, description="Camera names, or {name, source} objects"
    )
    watchlist_id: Text(64)
    threshold: float | None = Field(None, gt=0, le=1)
    name: Text(100) | None = None


class ReasonIn(Strict):
    reason: Text(1000)


class ThresholdIn(Strict):
    threshold: float = Field(gt=0, le=1)
    reason: Text(1000)


class AdjudicationIn(Strict):
    verdict: Verdict
    override_reason: Text(1000) | None = None


class OutcomeIn(Strict):
    outcome: Outcome
    override_reason: Text(1000) | None = None
