"""`openlfr audit verify`, `openlfr keys rotate`, `openlfr purge` on a real SQLite store."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import openlfr.cli
from openlfr.cli import app
from openlfr.domain import ReferenceImageInfo, Subject
from openlfr.domain.clock import utcnow
from openlfr.errors import ConfigError
from openlfr.paths import data_dir
from openlfr.store import Store
from openlfr.store.crypto import encode_key, new_key

openlfr.cli._register()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def _seed() -> str:
    store = Store()
    sid = store.subjects.add(
        Subject("A", "risk_of_harm", "pc1", utcnow() + timedelta(days=5)), "pc1"
    )
    store.subjects.add_image(sid, PNG, ReferenceImageInfo("s", "b", "pc1"), "pc1")
    store.close()
    return sid


def test_help():
    for args in (("audit", "verify"), ("keys", "rotate"), ("purge",)):
        result = _run(*args, "--help")
        assert result.exit_code == 0 and "--db" in result.output


def test_audit_verify_reports_intact_then_the_broken_link():
    _seed()
    result = _run("audit", "verify")
    assert result.exit_code == 0 and "intact: 2 events" in result.output
    conn = sqlite3.connect(data_dir() / "openlfr.db")
    conn.execute("DROP TRIGGER audit_events_no_update")
    conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    conn.commit()
    conn.close()
    result = _run("audit", "verify")
    assert result.exit_code == 1 and "broken at event 2" in result.output


def test_keys_rotate_with_the_key_file():
    _seed()
    result = _run("keys", "rotate", "--actor", "admin1")
    assert result.exit_code == 0 and "re-encrypted 1 blobs" in result.output
    assert _run("audit", "verify").exit_code == 0


def test_keys_rotate_from_the_environment_needs_the_new_key(monkeypatch):
    monkeypatch.setenv("OPENLFR_KEY", encode_key(new_key()))
    result = _run("keys", "rotate")
    assert isinstance(result.exception, ConfigError)
    monkeypatch.setenv("OPENLFR_NEW_KEY", encode_key(new_key()))
    result = _run("keys", "rotate")
    assert result.exit_code == 0 and "set OPENLFR_KEY" in result.output


def test_purge_prints_counts_and_bad_settings_are_one_line_errors():
    env = {**os.environ, "OPENLFR_DATA_DIR": str(data_dir())}
    exe = Path(sys.executable).with_name("openlfr")
    if not exe.exists():
        pytest.skip("the openlfr command is not installed in this environment")
    done = subprocess.run([exe, "purge"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "snapshots: 0" in done.stdout
    bad = subprocess.run(
        [exe, "purge", "--snapshot-hours", "48"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "24 hours" in bad.stderr and "Traceback" not in bad.stderr
