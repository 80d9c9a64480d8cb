"""Opening the database: an engine, a session factory, migrations applied on open."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from openlfr import paths
from openlfr.errors import ConfigError
from openlfr.store import migrate
from openlfr.store.crypto import KeyRing, load_keyring


def default_url() -> str:
    """OPENLFR_DATABASE_URL, else one SQLite file in the data directory."""
    env = os.environ.get("OPENLFR_DATABASE_URL")
    if env:
        return env
    return f"sqlite:///{paths.data_dir() / 'openlfr.db'}"


def normalise_url(url: str) -> str:
    """Plain postgresql:// URLs use psycopg 3 (the driver we depend on)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"not a database URL: {url!r}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
        )
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA secure_delete=ON")  # deleted blobs are overwritten, not left
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # Take the write lock at the start: two writers queue instead of failing mid-way,
        # and the audit chain's read-then-append cannot interleave.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """An open, migrated database plus the key ring that seals its biometric columns."""

    def __init__(
        self, url: str | None = None, keyring: KeyRing | None = None, migrate_on_open: bool = True
    ) -> None:
        self.url = normalise_url(url or default_url())
        self.engine = make_engine(self.url)
        self.keyring = keyring if keyring is not None else load_keyring()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate_on_open:
            try:
                migrate.upgrade(self.engine)
            except OperationalError as exc:
                raise ConfigError(f"cannot open database {self.safe_url}: {exc.orig}") from None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
