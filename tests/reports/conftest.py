"""A store with deployments that ran (with alerts, decisions and faces seen), one still
planned and one cancelled, for the report tests."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from openlfr.domain import AlertEvent, Category, Deployment, ReferenceImageInfo, Subject
from openlfr.domain.clock import utcnow
from openlfr.store import Store

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4


@pytest.fixture
def store(tmp_path):
    # The default key file (in the test's data dir), so the CLI opens the same database.
    opened = Store(f"sqlite:///{tmp_path / 'reports.db'}")
    yield opened
    opened.close()


def _deployment(wl, location, borough, cameras, threshold=0.64, hours=(-1, 5)):
    now = utcnow()
    return Deployment(
        location, borough, "wanted offenders", now + timedelta(hours=hours[0]),
        now + timedelta(hours=hours[1]), cameras, threshold, "op", watchlist_id=wl,
    )  # fmt: skip


@pytest.fixture
def world(store):
    now = utcnow()
    subjects = []
    for i in range(3):
        sid = store.subjects.add(
            Subject(f"Person {i}", Category.WANTED_BY_COURTS, "wm", now + timedelta(days=30)), "wm"
        )
        v = np.random.default_rng(i).standard_normal(128).astype(np.float32)
        store.subjects.add_image(
            sid, JPEG, ReferenceImageInfo("custody", "PACE", "wm"), "wm",
            v / np.linalg.norm(v), "dlib-resnet-v1",
        )  # fmt: skip
        subjects.append(sid)
    wl = store.watchlists.create("central", "wm")
    for sid in subjects:
        store.watchlists.add_subject(wl, sid, "wm")

    def run(location, borough, cameras, faces, decisions):
        did = store.deployments.create(_deployment(wl, location, borough, cameras), "op")
        store.deployments.authorise(did, "ao")
        store.watchlists.build_snapshot(did, "op")
        store.deployments.go_live(did, "op")
        store.deployments.record_faces_seen(did, cameras[0], faces)
        for i, (verdict, outcome) in enumerate(decisions):
            aid = store.alerts.create_from_event(
                AlertEvent(did, cameras[0], subjects[i % 3], 0.8, utcnow(), f"t{i}")
            )
            if verdict:
                store.alerts.adjudicate(aid, verdict, "op")
            if outcome:
                store.alerts.set_outcome(aid, outcome, "op")
        store.deployments.close(did, "op")
        return did

    a = run("Oxford Circus", "Westminster", ("cam-1", "cam-2"), 20_000, [
        ("true_alert", "engaged_arrested"), ("true_alert", "engaged_no_further_action"),
        ("false_alert", "not_engaged"),
    ])  # fmt: skip
    b = run("Croydon High St", "Croydon", ("cam-1",), 5_000, [
        ("true_alert", "engaged_arrested"), (None, None),
    ])  # fmt: skip
    planned = store.deployments.create(
        _deployment(wl, "Never ran", "Camden", ("cam-1",), hours=(48, 52)), "op"
    )
    cancelled = store.deployments.create(
        _deployment(wl, "Called off", "Hackney", ("cam-1",), hours=(24, 30)), "op"
    )
    store.deployments.cancel(cancelled, "op", "event cancelled")
    return {"a": a, "b": b, "planned": planned, "cancelled": cancelled, "today": now.date()}
