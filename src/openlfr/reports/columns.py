"""The published columns: the Met's deployment records, plus the fields an FOI answer may
release or withhold (cameras, system type). One place says each column's label and how it
reads in a document; machine-readable files carry the raw values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str  # text, date, time, int, threshold, rate


RECORD_COLUMNS: tuple[Column, ...] = (
    Column("date", "Date", "date"),
    Column("location", "Location", "text"),
    Column("borough", "Borough", "text"),
    Column("use_case", "Use case", "text"),
    Column("start", "Start", "time"),
    Column("end", "End", "time"),
    Column("watchlist_size", "Watchlist size", "int"),
    Column("threshold", "Threshold", "threshold"),
    Column("faces_seen", "Faces seen", "int"),
    Column("alerts", "Alerts", "int"),
    Column("true_alerts", "True alerts", "int"),
    Column("false_alerts", "False alerts", "int"),
    Column("false_alert_rate", "False alert rate", "rate"),
    Column("engagements", "Engagements", "int"),
    Column("arrests", "Arrests", "int"),
)
# Released under FOI only where the redaction profile allows.
SYSTEM_COLUMNS: tuple[Column, ...] = (
    Column("cameras", "Number of cameras", "int"),
    Column("system_type", "System type", "text"),
)
CONTRACT_COLUMNS: tuple[Column, ...] = (
    Column("supplier", "Supplier", "text"),
    Column("description", "Description", "text"),
    Column("start", "Start", "date"),
    Column("end", "End", "date"),
    Column("contract_value", "Contract value (GBP)", "money"),
)


class Withheld:
    """A value withheld under an exemption: reads 'Withheld - s31(1)' in documents and is
    left out of machine-readable files."""

    def __init__(self, section: str) -> None:
        self.section = section

    def __str__(self) -> str:
        return f"Withheld - {self.section}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Withheld) and other.section == self.section

    def __hash__(self) -> int:
        return hash(("withheld", self.section))


def rate_text(rate: float | None) -> str:
    """A false alert rate as the Met print it (a percentage), with '1 in N' for reading."""
    if rate is None:
        return "n/a"
    if rate == 0:
        return "0%"
    return f"{rate * 100:.4f}% (1 in {round(1 / rate):,})"


def cell(value: object, kind: str) -> str:
    """How one value reads in an HTML or PDF document."""
    if isinstance(value, Withheld):
        return str(value)
    if value is None:
        return "—"
    if kind == "date" and isinstance(value, (date, datetime)):
        return value.strftime("%d/%m/%Y")
    if kind == "time" and isinstance(value, datetime):
        return value.strftime("%H:%M")
    if kind == "int" and isinstance(value, int):
        return f"{value:,}"
    if kind == "threshold" and isinstance(value, float):
        return f"{value:.2f}"
    if kind == "rate" and isinstance(value, float):
        return rate_text(value)
    if kind == "money" and isinstance(value, (int, float)):
        return f"£{value:,.2f}"
    return str(value)


def raw(value: object) -> object:
    """A value for CSV or JSON: dates and times in ISO 8601, everything else as is."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
