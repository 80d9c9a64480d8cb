"""`openlfr init` and `openlfr serve`, run as the installed command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

PASSWORD = "a long enough password"
EXE = Path(sys.executable).with_name("openlfr")


@pytest.fixture
def env(tmp_path):
    if not EXE.exists():
        pytest.skip("the openlfr command is not installed in this environment")
    out = {k: v for k, v in os.environ.items() if not k.startswith("OPENLFR_")}
    out["OPENLFR_DATA_DIR"] = str(tmp_path / "install")
    return out


def _run(env, *args, **extra):
    return subprocess.run(
        [EXE, *args], env={**env, **extra}, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_init_creates_everything_once_and_never_prints_the_password(env, monkeypatch):
    done = _run(env, "init", OPENLFR_ADMIN_PASSWORD=PASSWORD)
    assert done.returncode == 0, done.stderr
    assert "administrator 'admin'" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    data = Path(env["OPENLFR_DATA_DIR"])
    assert (data / "openlfr.db").is_file() and (data / "keys" / "openlfr.keys").is_file()
    assert data.stat().st_mode & 0o077 == 0
    again = _run(env, "init", OPENLFR_ADMIN_PASSWORD="another long password")
    assert again.returncode == 0 and "already initialised" in again.stdout
    from openlfr.store import Store

    monkeypatch.setenv("OPENLFR_DATA_DIR", env["OPENLFR_DATA_DIR"])  # the key file is there
    store = Store(f"sqlite:///{data / 'openlfr.db'}")
    try:
        (user,) = store.users.list()
        assert user.username == "admin" and [r.value for r in user.roles] == ["admin"]
        store.users.login("admin", PASSWORD, "127.0.0.1")
    finally:
        store.close()


def test_init_without_a_password_or_with_a_weak_one_is_a_one_line_error(env):
    done = _run(env, "init")
    assert done.returncode == 2 and "OPENLFR_ADMIN_PASSWORD" in done.stderr
    assert "Traceback" not in done.stderr
    weak = _run(env, "init", OPENLFR_ADMIN_PASSWORD="short")
    assert weak.returncode == 2 and "12 characters" in weak.stderr and "short" not in weak.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_and_runs_the_retention_schedule(env):
    assert _run(env, "init", OPENLFR_ADMIN_PASSWORD=PASSWORD).returncode == 0
    port = _free_port()
    proc = subprocess.Popen(
        [EXE, "serve", "--host", "127.0.0.1", "--port", str(port), "--purge-every", "0.01",
         "--insecure-cookies"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).json()["status"] == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "openlfr serve did not answer"
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=10) as http:
            r = http.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
            assert r.status_code == 200
            csrf = r.json()["csrf_token"]
            r = http.post(
                "/api/tokens",
                json={"name": "auditor", "roles": ["auditor"]},
                headers={"X-CSRF-Token": csrf},
            )
            assert r.status_code == 201
            auditor = {"Authorization": f"Bearer {r.json()['token']}"}
            time.sleep(1.5)  # a purge every 0.6 s
            events = http.get("/api/audit", params={"action": "purge"}, headers=auditor).json()
            assert len(events["events"]) >= 2
            assert events["events"][0]["actor"] == "system:retention"
            assert http.get("/docs").status_code == 200
    finally:
        proc.terminate()
        proc.wait(20)
