"""The deployment record and the register of deployments as documents and data."""

from __future__ import annotations

from datetime import date

from openlfr.reports.columns import RECORD_COLUMNS
from openlfr.reports.document import Document, Table, Text, machine_rows, to_csv, to_html, to_json
from openlfr.reports.pdf import to_pdf
from openlfr.reports.register import record_row, register, totals
from openlfr.store import Store

FORMATS = ("html", "pdf", "csv", "json")
MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}


def _period(date_from: date | None, date_to: date | None) -> str:
    if date_from is None and date_to is None:
        return "all deployments"
    a = date_from.strftime("%d/%m/%Y") if date_from else "the first deployment"
    b = date_to.strftime("%d/%m/%Y") if date_to else "today"
    return f"{a} to {b}"


def render(doc: Document, columns, rows: list[dict], payload: dict, fmt: str) -> bytes:
    if fmt == "html":
        return to_html(doc).encode()
    if fmt == "pdf":
        return to_pdf(doc)
    if fmt == "csv":
        return to_csv(columns, rows).encode()
    if fmt == "json":
        return to_json(payload).encode()
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def record_document(store: Store, deployment_id: str, fmt: str = "html") -> bytes:
    """One deployment's published record in `fmt` (html, pdf, csv, json)."""
    row = record_row(store, deployment_id)
    doc = Document(
        f"LFR deployment record: {row['location']}, {row['date']:%d/%m/%Y}",
        f"{row['borough']} · {row['use_case']} · state {row['state']}",
        [
            Table("Deployment record", RECORD_COLUMNS, [row], note=_pending_note(row)),
        ],
    )
    payload = machine_rows(RECORD_COLUMNS, [row])[0] | {"deployment_id": deployment_id}
    return render(doc, RECORD_COLUMNS, [row], payload, fmt)


def _pending_note(row: dict) -> str | None:
    n = int(row.get("unadjudicated", 0))
    if not n:
        return None
    return f"{n} alert{'s' if n != 1 else ''} still awaiting adjudication (counted in Alerts only)."


def register_document(
    store: Store, date_from: date | None = None, date_to: date | None = None, fmt: str = "html"
) -> bytes:
    """The register of all deployments that ran in the period, with totals."""
    rows = register(store, date_from, date_to)
    t = totals(rows)
    footer = {k: v for k, v in t.as_dict().items() if k != "deployments"}
    footer["location"] = f"Total: {t.deployments} deployments"
    doc = Document(
        "Register of LFR deployments",
        _period(date_from, date_to),
        [
            Text(
                None,
                [
                    "Every deployment that went live, with its record computed from the stored "
                    "data. The false alert rate is false alerts divided by faces seen.",
                ],
            ),  # fmt: skip
            Table("Deployments", RECORD_COLUMNS, rows, footer=footer),
        ],
    )
    payload = {
        "period": {"from": date_from, "to": date_to},
        "totals": t.as_dict(),
        "deployments": machine_rows(RECORD_COLUMNS, rows),
    }
    return render(doc, RECORD_COLUMNS, rows, payload, fmt)
