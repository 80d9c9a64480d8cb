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


# -- builders shared by the storage tests ------------------------------------------------------
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1)) * 4


def unit_template(seed: int, dim: int = 128):
    import numpy as np

    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def live_deployment(store):
    """A subject with a reference image and template, on a watchlist, in a live deployment."""
    from datetime import timedelta

    from openlfr.domain import Category, Deployment, ReferenceImageInfo, Subject
    from openlfr.domain.clock import utcnow

    now = utcnow()
    sid = store.subjects.add(
        Subject("Subject A", Category.WANTED_BY_COURTS, "pc1", now + timedelta(days=90)), "pc1"
    )
    info = ReferenceImageInfo("custody image", "PACE s64A", "pc1")
    image_id = store.subjects.add_image(sid, JPEG, info, "pc1", unit_template(1), "dlib-r34")
    wl = store.watchlists.create("central", "pc1")
    store.watchlists.add_subject(wl, sid, "pc1")
    dep = Deployment(
        "Oxford Circus", "Westminster", "wanted offenders",
        now - timedelta(hours=1), now + timedelta(hours=5), ("cam-1", "cam-2"), 0.64,
        "planner", watchlist_id=wl,
    )  # fmt: skip
    did = store.deployments.create(dep, "planner")
    store.deployments.authorise(did, "Supt Jones")
    store.watchlists.build_snapshot(did, "planner")
    store.deployments.go_live(did, "planner")
    return {"subject": sid, "image": image_id, "watchlist": wl, "deployment": did}


@pytest.fixture
def samples():
    """The bytes the builders store: a JPEG, a PNG, and template(seed) -> unit vector."""
    from types import SimpleNamespace

    return SimpleNamespace(jpeg=JPEG, png=PNG, template=unit_template)
