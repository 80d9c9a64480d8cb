import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from openlfr.domain.audit import GENESIS, AuditEvent, check_details, verify_chain
from openlfr.domain.errors import DomainError

T = datetime(2025, 3, 1, tzinfo=UTC)


def chain(n):
    events, prev = [], GENESIS
    for i in range(1, n + 1):
        e = AuditEvent(
            i, T + timedelta(seconds=i), "pc1", "create", "subject", f"s{i}", {"n": i}, prev
        )
        e = dataclasses.replace(e, hash=e.compute_hash())
        events.append(e)
        prev = e.hash
    return events


def test_intact_chain_verifies():
    events = chain(5)
    assert verify_chain(events) is None
    assert verify_chain(events, (5, events[-1].hash)) is None
    assert verify_chain([], (0, GENESIS)) is None


def test_each_kind_of_tampering_names_the_first_broken_link():
    events = chain(6)
    edited = list(events)
    edited[2] = dataclasses.replace(events[2], details={"n": 99})
    assert verify_chain(edited).seq == 3
    deleted = events[:3] + events[4:]
    assert verify_chain(deleted).seq == 4
    reordered = events[:2] + [events[3], events[2]] + events[4:]
    assert verify_chain(reordered).seq == 3
    assert verify_chain(events[:4], (6, events[-1].hash)).seq == 5  # newest deleted


def test_the_hash_covers_every_field():
    e = chain(1)[0]
    for change in (
        {"seq": 2}, {"at": T}, {"actor": "x"}, {"action": "delete"},
        {"object_type": "alert"}, {"object_id": None}, {"prev_hash": "1" * 64},
    ):  # fmt: skip
        assert dataclasses.replace(e, **change).compute_hash() != e.hash


@pytest.mark.parametrize(
    "details",
    [
        {"image": "x"},
        {"nested": {"template": [0.1]}},
        {"blob": b"\xff\xd8\xff"},
        {"v": [0.1] * 128},
        {"when": T},
    ],
)
def test_details_may_not_hold_biometric_data(details):
    with pytest.raises(DomainError):
        check_details(details)


def test_ordinary_details_pass():
    check_details({"purpose": "adjudication", "counts": [1, 2, 3], "score": 0.71, "ok": True})
