"""A report as data (title, text, tables, figures), written out as HTML or PDF, and its
tables as CSV or JSON. Withheld values read 'Withheld - s31(1)' in HTML and PDF and are
left out of CSV and JSON."""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from openlfr.domain.clock import utcnow
from openlfr.reports.columns import Column, Withheld, cell, raw


@dataclass
class Text:
    heading: str | None
    paragraphs: list[str]


@dataclass
class Table:
    heading: str
    columns: tuple[Column, ...]
    rows: list[dict[str, object]]
    footer: dict[str, object] | None = None  # a totals row (keys of `columns`)
    note: str | None = None


@dataclass
class Figure:
    heading: str
    png: bytes
    alt: str


@dataclass
class Document:
    title: str
    subtitle: str = ""
    sections: list[Text | Table | Figure] = field(default_factory=list)
    generated: datetime = field(default_factory=utcnow)


# -- machine-readable -------------------------------------------------------------------------
def released_columns(columns: tuple[Column, ...], rows: list[dict]) -> tuple[Column, ...]:
    """The columns with no withheld value in any row (withheld ones are left out)."""
    return tuple(c for c in columns if not any(isinstance(r.get(c.key), Withheld) for r in rows))


def machine_rows(columns: tuple[Column, ...], rows: list[dict]) -> list[dict[str, object]]:
    kept = released_columns(columns, rows)
    return [{c.key: raw(r.get(c.key)) for c in kept} for r in rows]


def to_csv(columns: tuple[Column, ...], rows: list[dict]) -> str:
    kept = released_columns(columns, rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.key for c in kept])
    for r in machine_rows(columns, rows):
        writer.writerow(["" if r[c.key] is None else r[c.key] for c in kept])
    return buf.getvalue()


def to_json(payload: object) -> str:
    return json.dumps(payload, indent=2, default=raw, ensure_ascii=False) + "\n"


# -- HTML -------------------------------------------------------------------------------------
_ENV = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["cell"] = lambda value, column: cell(value, column.kind)
_ENV.filters["b64"] = lambda data: base64.b64encode(data).decode()
_ENV.tests["withheld"] = lambda value: isinstance(value, Withheld)
_ENV.tests["table"] = lambda s: isinstance(s, Table)
_ENV.tests["figure"] = lambda s: isinstance(s, Figure)


def to_html(doc: Document) -> str:
    """One self-contained page (figures embedded), readable and printable."""
    return _ENV.get_template("document.html").render(doc=doc)
