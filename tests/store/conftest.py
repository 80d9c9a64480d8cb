"""Storage tests run against both databases: a SQLite file and a real PostgreSQL server.

The server is the one scripts/system/postgres.sh starts (`make test` runs it), found through
OPENLFR_TEST_POSTGRES_URL (an admin URL; each test gets its own fresh database). When no
server answers, the PostgreSQL cases fail in CI (CI=true) and are skipped elsewhere.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from openlfr.store import Store
from openlfr.store.crypto import KeyRing, new_key

PG_DEFAULT = "postgresql+psycopg://openlfr@127.0.0.1:55432/postgres"


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get("OPENLFR_TEST_POSTGRES_URL", PG_DEFAULT)
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to reach the server means "no PostgreSQL here"
        message = f"PostgreSQL not reachable at {url} (run scripts/system/postgres.sh): {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'openlfr.db'}"
        return
    admin_url = request.getfixturevalue("pg_admin_url")
    name = f"openlfr_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing(new_key())


@pytest.fixture
def store(db_url, keyring):
    opened = Store(db_url, keyring)
    yield opened
    opened.close()
