"""A deployment record as JSON, CSV or a self-contained HTML page (for publication)."""

from __future__ import annotations

import csv
import html
import io
import json

from openlfr.domain.records import DeploymentRecord

FORMATS = ("json", "csv", "html")

_LABELS = {
    "deployment_id": "Deployment",
    "date": "Date",
    "location": "Location",
    "borough": "Borough",
    "use_case": "Use case",
    "start": "Start",
    "end": "End",
    "watchlist_size": "Watchlist size",
    "threshold": "Threshold",
    "faces_seen": "Faces seen",
    "alerts": "Alerts",
    "true_alerts": "True alerts",
    "false_alerts": "False alerts",
    "false_alert_rate": "False alert rate",
    "engagements": "Engagements",
    "arrests": "Arrests",
    "unadjudicated": "Alerts not yet adjudicated",
}


def render(record: DeploymentRecord, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(record.as_dict(), indent=1) + "\n"
    if fmt == "csv":
        row = record.as_dict()
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(row), lineterminator="\n")
        writer.writeheader()
        writer.writerow(row)
        return buf.getvalue()
    if fmt == "html":
        return _html(record)
    from openlfr.errors import ConfigError

    raise ConfigError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


def _cell(key: str, value: object) -> str:
    if value is None:
        return "-"
    if key == "false_alert_rate":
        return f"{float(value):.6f}"
    return str(value)


def _html(record: DeploymentRecord) -> str:
    rows = "\n".join(
        f'<tr><th scope="row">{html.escape(_LABELS.get(k, k))}</th>'
        f"<td>{html.escape(_cell(k, v))}</td></tr>"
        for k, v in record.as_dict().items()
    )
    title = html.escape(f"Deployment record: {record.location}, {record.date.isoformat()}")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "th,td{border:1px solid #999;padding:.3em .8em;text-align:left}</style></head>\n"
        f"<body><h1>{title}</h1>\n<p>Computed from the stored data by OpenLFR.</p>\n"
        f"<table>\n{rows}\n</table></body></html>\n"
    )
