"""Who may be on a watchlist: a fixed list of categories (no catch-all) and recorded provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from openlfr.domain.clock import as_utc
from openlfr.domain.errors import SubjectError


class Category(StrEnum):
    """The only grounds for a watchlist entry. There is deliberately no 'other'."""

    WANTED_BY_COURTS = "wanted_by_courts"
    WANTED_FOR_OFFENCE = "wanted_for_offence"  # needs the offence
    COURT_CONDITIONS = "court_conditions"
    MISSING_OR_VULNERABLE = "missing_or_vulnerable"
    RISK_OF_HARM = "risk_of_harm"

    @classmethod
    def parse(cls, value: str | Category) -> Category:
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(c.value for c in cls)
            raise SubjectError(f"unknown category {value!r}; allowed: {allowed}") from None


def _required(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise SubjectError(f"{what} is required")
    return text


@dataclass(frozen=True)
class ReferenceImageInfo:
    """Provenance of one reference image: where it came from and the lawful basis for using it."""

    image_source: str
    legal_basis: str
    added_by: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_source", _required(self.image_source, "image source"))
        object.__setattr__(self, "legal_basis", _required(self.legal_basis, "legal basis"))
        object.__setattr__(self, "added_by", _required(self.added_by, "added by"))


@dataclass(frozen=True)
class Subject:
    """A person sought. Validated on construction: a bad subject cannot exist."""

    display_name: str
    category: Category
    added_by: str
    expires_at: datetime
    offence: str | None = None
    id: str | None = None
    created_at: datetime | None = None
    images: tuple[ReferenceImageInfo, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "display_name", _required(self.display_name, "display name"))
        object.__setattr__(self, "added_by", _required(self.added_by, "added by"))
        object.__setattr__(self, "category", Category.parse(self.category))
        if not isinstance(self.expires_at, datetime):
            raise SubjectError("expiry date is required")
        object.__setattr__(self, "expires_at", as_utc(self.expires_at))
        offence = (self.offence or "").strip() or None
        if self.category is Category.WANTED_FOR_OFFENCE and offence is None:
            raise SubjectError("category wanted_for_offence needs the offence")
        if self.category is not Category.WANTED_FOR_OFFENCE and offence is not None:
            raise SubjectError("an offence is only recorded for category wanted_for_offence")
        object.__setattr__(self, "offence", offence)
        if self.created_at is not None and self.expires_at <= as_utc(self.created_at):
            raise SubjectError("expiry date must be after the date the subject was added")

    def is_expired(self, now: datetime) -> bool:
        return as_utc(now) >= self.expires_at
