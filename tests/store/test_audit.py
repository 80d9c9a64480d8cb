"""The audit chain on both databases: tampering by raw SQL is caught, appends never fork."""

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from openlfr.domain.audit import Action
from openlfr.domain.errors import DomainError
from openlfr.store import Store


def _fill(store, n=6):
    for i in range(n):
        store.record_audit("pc1", Action.LOGIN, "user", f"u{i}", {"ip": "10.0.0.1", "i": i})


def _raw(store, *statements):
    """Tamper as someone with direct database access would: drop the guards, then edit."""
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))
        for sql in statements:
            conn.execute(text(sql))


def test_intact_log_verifies(store):
    assert store.audit_verify() is None
    _fill(store)
    events = store.audit_events()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[1].prev_hash == events[0].hash
    assert store.audit_verify() is None


def test_the_database_itself_refuses_updates_and_deletes(store):
    _fill(store, 2)
    for sql in ("UPDATE audit_events SET actor='x'", "DELETE FROM audit_events WHERE seq=1"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(sql))
    assert store.audit_verify() is None


def test_edit_is_caught(store):
    _fill(store)
    _raw(store, "UPDATE audit_events SET actor='someone else' WHERE seq=3")
    broken = store.audit_verify()
    assert broken.seq == 3 and "changed" in broken.reason


def test_edit_of_details_is_caught(store):
    _fill(store)
    _raw(store, 'UPDATE audit_events SET details=\'{"ip": "10.0.0.1", "i": 40}\' WHERE seq=4')
    assert store.audit_verify().seq == 4


def test_delete_in_the_middle_is_caught(store):
    _fill(store)
    _raw(store, "DELETE FROM audit_events WHERE seq=2")
    broken = store.audit_verify()
    assert broken.seq == 2 and "missing" in broken.reason


def test_delete_of_the_newest_is_caught(store):
    _fill(store)
    _raw(store, "DELETE FROM audit_events WHERE seq>=5")
    assert store.audit_verify().seq == 5


def test_reorder_is_caught(store):
    _fill(store)
    _raw(
        store,
        "UPDATE audit_events SET seq=-1 WHERE seq=3",
        "UPDATE audit_events SET seq=3 WHERE seq=4",
        "UPDATE audit_events SET seq=4 WHERE seq=-1",
    )
    assert store.audit_verify().seq == 3


def test_rehashing_one_row_still_breaks_the_next_link(store):
    _fill(store)
    ev = store.audit_events()[2]
    forged = ev.__class__(**{**ev.__dict__, "actor": "forger"}).compute_hash()
    _raw(store, f"UPDATE audit_events SET actor='forger', hash='{forged}' WHERE seq=3")
    broken = store.audit_verify()
    assert broken.seq == 4 and "link" in broken.reason


def test_biometric_details_are_refused_and_nothing_is_written(store):
    with pytest.raises(DomainError):
        store.record_audit("pc1", Action.VIEW_BIOMETRIC, "alert", "a1", {"image": "..."})
    assert store.audit_events() == []


def test_concurrent_writers_never_fork_the_chain(db_url, keyring):
    writers, per_writer = 4, 10
    stores = [Store(db_url, keyring) for _ in range(writers)]
    errors = []
    barrier = threading.Barrier(writers)

    def write(s, w):
        try:
            barrier.wait()
            for i in range(per_writer):
                s.record_audit(f"w{w}", Action.UPDATE, "thing", str(i))
        except Exception as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, w)) for w, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    events = stores[0].audit_events()
    assert [e.seq for e in events] == list(range(1, writers * per_writer + 1))
    assert stores[0].audit_verify() is None
    for s in stores:
        s.close()
