"""Deployment records and the register, in HTML, CSV, JSON and PDF, computed from the store."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from openlfr.errors import ConfigError
from openlfr.reports import record_document, register, register_document, totals
from openlfr.reports.columns import RECORD_COLUMNS


def test_register_lists_only_deployments_that_ran(store, world):
    rows = register(store)
    assert [r["location"] for r in rows] == ["Oxford Circus", "Croydon High St"]
    t = totals(rows)
    assert (t.deployments, t.faces_seen, t.alerts, t.true_alerts, t.false_alerts) == (
        2, 25_000, 5, 3, 1,
    )  # fmt: skip
    assert (t.engagements, t.arrests, t.unadjudicated) == (3, 2, 1)
    assert t.false_alert_rate == pytest.approx(1 / 25_000)


def test_register_period_filters_by_date(store, world):
    today = world["today"]
    assert len(register(store, today, today)) == 2
    assert register(store, today + timedelta(days=1), today + timedelta(days=9)) == []
    with pytest.raises(ConfigError, match="ends"):
        register(store, today, today - timedelta(days=1))


def test_record_csv_and_json_carry_the_stored_figures(store, world):
    expected = store.deployments.record(world["a"])
    rows = list(csv.DictReader(io.StringIO(record_document(store, world["a"], "csv").decode())))
    assert len(rows) == 1
    row = rows[0]
    assert list(row) == [c.key for c in RECORD_COLUMNS]  # the Met's columns, in order
    assert row["faces_seen"] == "20000" and row["alerts"] == "3"
    assert (row["true_alerts"], row["false_alerts"]) == ("2", "1")
    assert (row["engagements"], row["arrests"], row["watchlist_size"]) == ("2", "1", "3")
    assert float(row["false_alert_rate"]) == pytest.approx(expected.false_alert_rate)
    data = json.loads(record_document(store, world["a"], "json"))
    assert data["deployment_id"] == world["a"] and data["alerts"] == expected.alerts
    assert data["start"] == expected.start.isoformat()


def test_record_html_reads_as_a_person_would(store, world):
    html = record_document(store, world["b"], "html").decode()
    assert "Croydon High St" in html and "Faces seen" in html
    assert "5,000" in html  # thousands separated in documents
    assert "1 alert still awaiting adjudication" in html
    assert "<script" not in html


def test_register_csv_totals_and_pdf(store, world):
    text = register_document(store, fmt="csv").decode()
    assert len(list(csv.DictReader(io.StringIO(text)))) == 2
    data = json.loads(register_document(store, fmt="json"))
    assert data["totals"]["faces_seen"] == 25_000 and len(data["deployments"]) == 2
    html = register_document(store, fmt="html").decode()
    assert "Total: 2 deployments" in html and "0.0040% (1 in 25,000)" in html
    pdf = register_document(store, fmt="pdf")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/Type /Page" in pdf


def test_unknown_format_is_refused(store, world):
    with pytest.raises(ValueError, match="unknown format"):
        record_document(store, world["a"], "docx")


def test_hostile_text_is_escaped(store, world):
    from openlfr.domain import Deployment
    from openlfr.domain.clock import utcnow

    now = utcnow()
    did = store.deployments.create(
        Deployment("<script>alert(1)</script>", "B", "U", now - timedelta(hours=1),
                   now + timedelta(hours=1), ("c",), 0.64, "op", watchlist_id=None),
        "op",
    )  # fmt: skip
    html = record_document(store, did, "html").decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert record_document(store, did, "pdf").startswith(b"%PDF-")
