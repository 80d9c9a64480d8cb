"""Alembic environment. Run programmatically by openlfr.store.migrate (a connection is passed
in `config.attributes`), or from the command line with `-x url=...` / sqlalchemy.url."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from openlfr.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = create_engine(url)
    with engine.begin() as conn:
        _configure(conn)


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) mode is not supported")
run()
