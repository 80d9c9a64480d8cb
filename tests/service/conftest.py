"""Service tests run on both databases, reusing the storage tests' fixtures
(tests/store/conftest.py): a SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_store_conftest_for_service", Path(__file__).parents[1] / "store" / "conftest.py"
)
_store_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_store_conftest)
pg_admin_url = _store_conftest.pg_admin_url
db_url = _store_conftest.db_url
keyring = _store_conftest.keyring
store = _store_conftest.store
live_deployment = _store_conftest.live_deployment
unit_template = _store_conftest.unit_template
