import stat
from datetime import datetime

import pytest
from sqlalchemy import select, text

from openlfr.domain import ReferenceImageInfo, Subject
from openlfr.store import Store
from openlfr.store.crypto import CryptoError, KeyRing, default_key_file, load_keyring
from openlfr.store.models import SEALED_COLUMNS


def _blobs(store):
    out = []
    with store.transaction() as s:
        for model, column in SEALED_COLUMNS:
            col = getattr(model, column)
            out += [bytes(b) for b in s.scalars(select(col).where(col.is_not(None)))]
    return out


def test_rotation_reseals_every_blob_under_the_new_key(store, live_deployment, samples):
    old_ring = store.keyring
    before = _blobs(store)
    assert len(before) == 3 and {KeyRing.blob_key_id(b) for b in before} == {old_ring.active_id}
    report = store.rotate_keys("admin")
    after = _blobs(store)
    assert report.blobs == 3 and report.old_key_id == old_ring.active_id.hex()
    assert {KeyRing.blob_key_id(b) for b in after} == {store.keyring.active_id}
    assert store.keyring.retired == []
    assert store.subjects.view_image(live_deployment["image"], "op", "check") == samples.jpeg
    entries = store.watchlists.snapshot_templates(live_deployment["deployment"], "matcher")
    assert entries[0].vector.tobytes() == samples.template(1).tobytes()
    with pytest.raises(CryptoError):  # the old key alone opens nothing any more
        old_ring.open(after[0], "reference_images.image:" + live_deployment["image"])
    rotation = [e for e in store.audit_events() if e.action == "key_rotation"]
    assert len(rotation) == 1 and rotation[0].details["blobs"] == 3
    assert store.audit_verify() is None


def test_rotation_is_all_or_nothing(store, live_deployment):
    with store.engine.begin() as conn:  # one blob the ring cannot open
        conn.execute(text("UPDATE alerts SET live_image = NULL"))
        conn.execute(
            text("UPDATE watchlist_snapshot_entries SET template = :b"), {"b": b"OLS1" + b"\0" * 40}
        )
    before = _blobs(store)
    old_active = store.keyring.active
    with pytest.raises(CryptoError):
        store.rotate_keys("admin")
    assert _blobs(store) == before  # nothing re-sealed
    assert store.keyring.active == old_active


def test_rotation_with_a_key_file_updates_the_file(db_url, monkeypatch, samples):
    monkeypatch.delenv("OPENLFR_KEY", raising=False)
    store = Store(db_url)  # creates the key file
    path = default_key_file()
    first = load_keyring().active
    subject = Subject("X", "court_conditions", "pc1", datetime(2100, 1, 1))
    sid = store.subjects.add(subject, "pc1")
    image = store.subjects.add_image(sid, samples.png, ReferenceImageInfo("s", "b", "pc1"), "pc1")
    store.rotate_keys("admin")
    ring = load_keyring()
    assert ring.active != first and ring.retired == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    store.close()
    reopened = Store(db_url)  # a new process: the file's key opens everything
    assert reopened.subjects.view_image(image, "op", "check") == samples.png
    reopened.close()
