"""The annual report: the totals of a period, every deployment's record, and charts
(alerts and false alerts over time; false alert rate per deployment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openlfr.reports import charts
from openlfr.reports.columns import RECORD_COLUMNS, Column, rate_text
from openlfr.reports.document import (
    Document,
    Figure,
    Table,
    Text,
    machine_rows,
    to_csv,
    to_html,
    to_json,
)
from openlfr.reports.pdf import to_pdf
from openlfr.reports.register import Totals, check_period, register, totals
from openlfr.store import Store

TOTAL_COLUMNS = (Column("measure", "Measure", "text"), Column("value", "Value", "text"))


@dataclass
class AnnualReport:
    date_from: date
    date_to: date
    rows: list[dict]
    totals: Totals
    document: Document

    def payload(self) -> dict:
        return {
            "period": {"from": self.date_from, "to": self.date_to},
            "totals": self.totals.as_dict(),
            "deployments": machine_rows(RECORD_COLUMNS, self.rows),
        }

    def write(self, out: str | Path) -> list[Path]:
        """annual-report.{html,pdf,json,csv} and the charts as PNG files in `out`."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "annual-report.html": to_html(self.document).encode(),
            "annual-report.pdf": to_pdf(self.document),
            "annual-report.json": to_json(self.payload()).encode(),
            "annual-report-deployments.csv": to_csv(RECORD_COLUMNS, self.rows).encode(),
        }
        for i, s in enumerate(x for x in self.document.sections if isinstance(x, Figure)):
            files[f"chart-{i + 1}.png"] = s.png
        written = []
        for name, data in files.items():
            (out / name).write_bytes(data)
            written.append(out / name)
        return written


def _summary(t: Totals) -> list[dict]:
    one_in = f"1 in {round(t.faces_seen / t.false_alerts):,} faces" if t.false_alerts else "none"
    return [
        {"measure": "Deployments", "value": f"{t.deployments:,}"},
        {"measure": "Faces seen (estimated)", "value": f"{t.faces_seen:,}"},
        {"measure": "Alerts", "value": f"{t.alerts:,}"},
        {"measure": "True alerts", "value": f"{t.true_alerts:,}"},
        {"measure": "False alerts", "value": f"{t.false_alerts:,} ({one_in})"},
        {"measure": "False alert rate", "value": rate_text(t.false_alert_rate)},
        {"measure": "Engagements", "value": f"{t.engagements:,}"},
        {"measure": "Arrests", "value": f"{t.arrests:,}"},
        {"measure": "Alerts awaiting adjudication", "value": f"{t.unadjudicated:,}"},
    ]


def annual_report(store: Store, date_from: date, date_to: date) -> AnnualReport:
    check_period(date_from, date_to)
    rows = register(store, date_from, date_to)
    t = totals(rows)
    period = f"{date_from:%d/%m/%Y} to {date_to:%d/%m/%Y}"
    doc = Document(
        "Live Facial Recognition: annual report",
        period,
        [
            Text(
                "Summary",
                [
                    f"Between {period} there were {t.deployments:,} deployments. About "
                    f"{t.faces_seen:,} faces passed the cameras; {t.alerts:,} alerts were raised, "
                    f"of which {t.false_alerts:,} were false alerts; {t.arrests:,} arrests "
                    "followed an engagement.",
                    "Every figure is computed from the stored deployment records. Faces that "
                    "raised no alert were deleted at once and are counted, never kept.",
                ],
            ),  # fmt: skip
            Table("Totals", TOTAL_COLUMNS, _summary(t)),
            Figure(
                "Alerts and false alerts over time",
                charts.alerts_over_time(rows, date_from, date_to),
                "Bar chart of alerts and false alerts per month of the period",
            ),
            Figure(
                "False alert rate per deployment",
                charts.false_alert_rate_per_deployment(rows),
                "Bar chart of each deployment's false alert rate",
            ),
            Table("Deployments", RECORD_COLUMNS, rows),
        ],
    )
    return AnnualReport(date_from, date_to, rows, t, doc)
