"""`openlfr report register|annual|foi` as the installed command would run them."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openlfr.cli import _register, app

_spec = importlib.util.spec_from_file_location(
    "_reports_conftest", Path(__file__).parents[1] / "reports" / "conftest.py"
)
_reports = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_reports)
store, world = _reports.store, _reports.world

_register()
runner = CliRunner()


def _run(*args: str):
    result = runner.invoke(app, list(args))
    return result


@pytest.fixture
def db(tmp_path) -> list[str]:
    return ["--db", f"sqlite:///{tmp_path / 'reports.db'}"]  # the store fixture's database


def test_foi_pack_from_the_command_line(store, world, tmp_path, db):
    today = str(world["today"])
    out = tmp_path / "pack"
    result = _run("report", "foi", "--from", today, "--to", today, "--profile", "default",
                  "--out", str(out), *db)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "deployment-records.csv" in result.output
    header = (out / "deployment-records.csv").read_text().splitlines()[0]
    assert "cameras" not in header and "location" in header
    assert "Withheld - s31(1)" in (out / "deployment-records.html").read_text()
    # producing a pack is audited
    events = [e for e in store.audit_events() if e.object_type == "foi_pack"]
    assert len(events) == 1 and events[0].details["profile"] == "default"


def test_register_and_annual_from_the_command_line(store, world, tmp_path, db):
    out = tmp_path / "register.csv"
    assert _run("report", "register", "--format", "csv", "--out", str(out), *db).exit_code == 0
    assert len(list(csv.DictReader(io.StringIO(out.read_text())))) == 2
    today = str(world["today"])
    result = _run("report", "annual", "--from", "2020-01-01", "--to", today,
                  "--out", str(tmp_path / "annual"), *db)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 deployments, 25,000 faces seen, 5 alerts (1 false), 2 arrests" in result.output
    data = json.loads((tmp_path / "annual" / "annual-report.json").read_text())
    assert data["totals"]["arrests"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["foi", "--from", "2025-13-01", "--to", "2025-12-31"], "is not a date"),
        (["foi", "--from", "2025-02-01", "--to", "2025-01-01"], "ends"),
        (["foi", "--from", "2025-01-01", "--to", "2025-12-31", "--profile", "nope"],
         "no redaction profile"),
        (["register", "--format", "docx"], "unknown format"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line(tmp_path, args, message, db):
    import subprocess
    import sys

    main = "from openlfr.cli import main; main()"
    cmd = [sys.executable, "-c", main, "report", *args, "--out", str(tmp_path / "x"), *db]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
