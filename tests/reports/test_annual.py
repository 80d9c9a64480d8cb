"""The annual report: totals of the period, charts, every format."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from PIL import Image

from openlfr.reports import annual_report


def test_annual_report_sums_the_period_and_draws_charts(store, world, tmp_path):
    today = world["today"]
    report = annual_report(store, today - timedelta(days=200), today)
    t = report.totals
    assert (t.deployments, t.faces_seen, t.alerts, t.false_alerts, t.arrests) == (
        2, 25_000, 5, 1, 2,
    )  # fmt: skip
    files = {f.name: f for f in report.write(tmp_path)}
    expected = {"annual-report.html", "annual-report.pdf", "annual-report.json",
                "annual-report-deployments.csv", "chart-1.png", "chart-2.png"}  # fmt: skip
    assert expected <= set(files)
    for chart in ("chart-1.png", "chart-2.png"):
        with Image.open(io.BytesIO(files[chart].read_bytes())) as im:
            assert im.width > 400 and im.height > 150
    data = json.loads(files["annual-report.json"].read_text())
    assert data["totals"]["alerts"] == 5 and len(data["deployments"]) == 2
    html = files["annual-report.html"].read_text()
    assert "data:image/png;base64," in html and "2 deployments" in html
    assert "False alerts" in html and "1 (1 in 25,000 faces)" in html
    assert files["annual-report.pdf"].read_bytes().startswith(b"%PDF-")


def test_an_empty_period_still_makes_a_report(store, world, tmp_path):
    today = world["today"]
    report = annual_report(store, today + timedelta(days=1), today + timedelta(days=30))
    assert report.totals.deployments == 0 and report.totals.false_alert_rate is None
    report.write(tmp_path)
    assert "None in this period." in (tmp_path / "annual-report.html").read_text()
