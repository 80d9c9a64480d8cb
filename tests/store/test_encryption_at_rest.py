"""Images and templates never reach the database in the clear."""

import re
from pathlib import Path

import numpy as np
from sqlalchemy import text

from openlfr.domain import AlertEvent
from openlfr.domain.clock import utcnow
from openlfr.store.crypto import MAGIC

JPEG_MAGIC, PNG_MAGIC = b"\xff\xd8\xff", b"\x89PNG"


def _fill(store, ids, samples):
    event = AlertEvent(
        ids["deployment"], "cam-1", ids["subject"], 0.8, utcnow(), live_image=samples.png
    )
    store.alerts.create_from_event(event)
    return samples.template(1).astype("<f4").tobytes()


def _scan(raw: bytes, template: bytes) -> None:
    assert JPEG_MAGIC not in raw, "JPEG bytes found in the database"
    assert PNG_MAGIC not in raw, "PNG bytes found in the database"
    assert template not in raw, "a plaintext template found in the database"
    # Not even a quarter of the template (32 floats) in a row.
    assert template[:128] not in raw and template[-128:] not in raw


def test_raw_database_holds_no_image_or_template(db_url, store, live_deployment, samples):
    if store.dialect != "sqlite":
        return _pg_columns_sealed(store, live_deployment, samples)
    template = _fill(store, live_deployment, samples)
    # The plaintext did pass through: prove the scan would find it if it were stored.
    assert store.subjects.view_image(live_deployment["image"], "op", "test") == samples.jpeg
    store.close()  # checkpoints the WAL into the main file
    path = db_url.removeprefix("sqlite:///")
    raw = b"".join(
        Path(path + extra).read_bytes()
        for extra in ("", "-wal", "-shm")
        if Path(path + extra).exists()
    )
    assert raw.count(MAGIC) >= 4  # image + template + snapshot template + alert image
    _scan(raw, template)


def _pg_columns_sealed(store, live_deployment, samples):
    template = _fill(store, live_deployment, samples)
    with store.engine.connect() as conn:
        blobs = [
            bytes(b)
            for q in (
                "SELECT image FROM reference_images",
                "SELECT template FROM reference_images",
                "SELECT template FROM watchlist_snapshot_entries",
                "SELECT live_image FROM alerts",
            )
            for (b,) in conn.execute(text(q))
        ]
        # Every table's rows as PostgreSQL renders them: no plaintext hides in another column.
        tables = [
            t
            for (t,) in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname='public'")
            )
        ]
        dump = b"".join(
            bytes(str(r), "utf8")
            for t in tables
            for r in conn.execute(text(f'SELECT * FROM "{t}"'))
        )
    assert len(blobs) == 4 and all(b.startswith(MAGIC) for b in blobs)
    for blob in blobs:
        _scan(blob, template)
    hex_template = template.hex()
    assert not re.search(hex_template[:64], dump.decode("utf8", "replace"))


def test_the_scan_would_catch_plaintext(samples):
    # The check above is meaningful: a file holding plaintext fails it.
    template = np.ones(128, "<f4").tobytes()
    raw = b"header" + samples.jpeg + template
    try:
        _scan(raw, template)
    except AssertionError:
        return
    raise AssertionError("the scan missed plaintext")
