from datetime import UTC, datetime, timedelta

from openlfr.domain import Deployment, Outcome, Verdict, compute_record

START = datetime(2025, 3, 1, 10, tzinfo=UTC)


def test_record_counts_and_false_alert_rate():
    d = Deployment(
        "Oxford Circus", "Westminster", "wanted", START, START + timedelta(hours=6),
        ("c1",), 0.64, "planner", watchlist_id="w", id="d1",
    )  # fmt: skip
    d.live_at, d.closed_at = START + timedelta(minutes=5), START + timedelta(hours=5)
    alerts = [
        (Verdict.TRUE_ALERT, Outcome.ENGAGED_ARRESTED),
        (Verdict.TRUE_ALERT, Outcome.ENGAGED_NO_FURTHER_ACTION),
        (Verdict.TRUE_ALERT, Outcome.NOT_ENGAGED),
        (Verdict.FALSE_ALERT, Outcome.ENGAGED_OTHER_DISPOSAL),
        (None, None),
    ]
    r = compute_record(d, watchlist_size=812, faces_seen=20000, alerts=alerts)
    assert (r.alerts, r.true_alerts, r.false_alerts, r.unadjudicated) == (5, 3, 1, 1)
    assert (r.engagements, r.arrests) == (3, 1)
    assert r.false_alert_rate == 1 / 20000
    assert r.start == d.live_at and r.end == d.closed_at and str(r.date) == "2025-03-01"
    assert r.as_dict()["start"] == d.live_at.isoformat()


def test_no_faces_seen_gives_no_rate():
    d = Deployment("L", "B", "U", START, START + timedelta(hours=1), ("c",), 0.6, "p")
    r = compute_record(d, 0, 0, [])
    assert r.false_alert_rate is None and r.alerts == 0 and r.start == START
