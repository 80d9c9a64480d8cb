from datetime import UTC, datetime, timedelta

import pytest

from openlfr.domain import Deployment, DeploymentState, DeploymentStateError

START = datetime(2025, 3, 1, 10, tzinfo=UTC)
END = START + timedelta(hours=6)


def make(**kw):
    base = dict(
        location="Oxford Circus",
        borough="Westminster",
        use_case="wanted offenders",
        planned_start=START,
        planned_end=END,
        cameras=("cam-1", "cam-2"),
        threshold=0.64,
        created_by="planner",
        watchlist_id="wl-1",
    )
    return Deployment(**{**base, **kw})


def live(**kw):
    d = make(**kw)
    d.authorise("supt", START - timedelta(hours=30))
    d.record_snapshot(START - timedelta(hours=2))
    d.go_live(START + timedelta(minutes=5))
    return d


def test_happy_path_through_every_state():
    d = make()
    assert d.state is DeploymentState.PLANNED
    d.authorise("Supt Jones", START - timedelta(days=1))
    assert d.state is DeploymentState.AUTHORISED and d.authorising_officer == "Supt Jones"
    d.record_snapshot(START - timedelta(hours=24))  # exactly 24 h before: allowed
    d.go_live(START)
    assert d.state is DeploymentState.LIVE and d.live_at == START
    d.close(START + timedelta(hours=3))
    assert d.state is DeploymentState.CLOSED
    assert d.snapshot_delete_by == START + timedelta(hours=27)


def test_cannot_go_live_unless_authorised():
    d = make()
    d.record_snapshot(START - timedelta(hours=1))
    with pytest.raises(DeploymentStateError, match="planned"):
        d.go_live(START + timedelta(minutes=1))
    assert d.state is DeploymentState.PLANNED


@pytest.mark.parametrize("at", [START - timedelta(seconds=1), END, END + timedelta(hours=1)])
def test_cannot_go_live_outside_the_window(at):
    d = make()
    d.authorise("supt", START - timedelta(days=1))
    d.record_snapshot(START - timedelta(hours=1))
    with pytest.raises(DeploymentStateError, match="outside the planned window"):
        d.go_live(at)
    assert d.state is DeploymentState.AUTHORISED


def test_cannot_go_live_without_a_snapshot():
    d = make()
    d.authorise("supt", START - timedelta(days=1))
    with pytest.raises(DeploymentStateError, match="without a watchlist snapshot"):
        d.go_live(START + timedelta(minutes=1))


def test_snapshot_no_earlier_than_24_hours_before_start():
    d = make()
    with pytest.raises(DeploymentStateError, match="24 hours"):
        d.record_snapshot(START - timedelta(hours=24, seconds=1))
    d.authorise("supt", START - timedelta(days=2))
    # A stale snapshot time smuggled in directly is still refused at go-live.
    d.snapshot_built_at = START - timedelta(hours=25)
    with pytest.raises(DeploymentStateError, match="24 hours"):
        d.go_live(START)


def test_authorisation_needs_an_officer_a_watchlist_and_a_future_window():
    with pytest.raises(DeploymentStateError, match="authorising officer"):
        make().authorise(" ", START)
    with pytest.raises(DeploymentStateError, match="without a watchlist"):
        make(watchlist_id=None).authorise("supt", START)
    with pytest.raises(DeploymentStateError, match="passed"):
        make().authorise("supt", END)


def test_close_only_when_live_and_snapshot_deleted_within_24_hours():
    with pytest.raises(DeploymentStateError, match="cannot close"):
        make().close(START)
    d = live()
    d.close(START + timedelta(hours=1), snapshot_keep=timedelta(hours=48))  # capped at 24 h
    assert d.snapshot_delete_by == START + timedelta(hours=25)
    with pytest.raises(DeploymentStateError):
        d.close(START + timedelta(hours=2))


def test_cancel_from_planned_or_authorised_only():
    d = make()
    d.cancel(START, "intelligence changed")
    assert d.state is DeploymentState.CANCELLED and d.cancel_reason == "intelligence changed"
    with pytest.raises(DeploymentStateError):
        d.authorise("supt", START)
    with pytest.raises(DeploymentStateError, match="cannot cancel"):
        live().cancel(START, "x")
    with pytest.raises(DeploymentStateError, match="reason"):
        make().cancel(START, "")


def test_threshold_changes_return_the_old_value_and_stop_after_close():
    d = live()
    assert d.change_threshold(0.7) == 0.64 and d.threshold == 0.7
    for bad in (0.0, -0.1, 1.01, float("nan")):
        with pytest.raises(DeploymentStateError, match="threshold"):
            d.change_threshold(bad)
    d.close(START + timedelta(hours=1))
    with pytest.raises(DeploymentStateError, match="closed"):
        d.change_threshold(0.6)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"planned_end": START}, "end must be after"),
        ({"cameras": ()}, "at least one camera"),
        ({"cameras": ("a", "a")}, "unique"),
        ({"threshold": 1.5}, "threshold"),
        ({"location": ""}, "location"),
        ({"borough": " "}, "borough"),
    ],
)
def test_bad_deployments_cannot_be_made(kw, match):
    with pytest.raises(DeploymentStateError, match=match):
        make(**kw)
