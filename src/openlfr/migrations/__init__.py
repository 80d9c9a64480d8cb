"""Alembic migrations, shipped inside the package so an installed OpenLFR can upgrade itself.

`openlfr.store.migrate.upgrade(engine)` applies them; the Store does so on open.
"""
