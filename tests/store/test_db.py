import pytest
from sqlalchemy import inspect

from openlfr.errors import ConfigError
from openlfr.store import Store, default_url
from openlfr.store.db import normalise_url
from openlfr.store.migrate import current_revision, head_revision


def test_open_applies_migrations_and_reopening_is_a_no_op(db_url, keyring):
    store = Store(db_url, keyring)
    assert current_revision(store.engine) == head_revision()
    tables = set(inspect(store.engine).get_table_names())
    assert {"subjects", "deployments", "alerts", "audit_events", "alembic_version"} <= tables
    store.close()
    again = Store(db_url, keyring)
    assert current_revision(again.engine) == head_revision()
    again.close()


def test_default_is_one_sqlite_file_in_the_data_dir(tmp_path, monkeypatch, keyring):
    monkeypatch.setenv("OPENLFR_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.delenv("OPENLFR_DATABASE_URL", raising=False)
    assert default_url() == f"sqlite:///{tmp_path / 'd' / 'openlfr.db'}"
    Store(keyring=keyring).close()
    assert (tmp_path / "d" / "openlfr.db").is_file()


def test_urls():
    assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    with pytest.raises(ConfigError, match="unsupported"):
        normalise_url("mysql://u@h/db")
    with pytest.raises(ConfigError, match="not a database URL"):
        normalise_url("not a url")


def test_unreachable_database_is_a_clear_error(keyring):
    with pytest.raises(ConfigError, match="cannot open database"):
        Store("postgresql://nobody@127.0.0.1:1/none", keyring)
