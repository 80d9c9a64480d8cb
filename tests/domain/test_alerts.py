from datetime import UTC, datetime, timedelta

import pytest

from openlfr.domain import AdjudicationError, Alert, Outcome, Verdict

T = datetime(2025, 3, 1, 12, tzinfo=UTC)


def alert():
    return Alert(deployment_id="d1", camera="cam-1", subject_id="s1", score=0.71, at=T)


def test_adjudicate_once_then_only_with_a_recorded_override():
    a = alert()
    assert a.verdict is None
    a.adjudicate("true_alert", "op1", T)
    assert a.verdict is Verdict.TRUE_ALERT and a.adjudication.by == "op1"
    with pytest.raises(AdjudicationError, match="override"):
        a.adjudicate(Verdict.FALSE_ALERT, "op2", T + timedelta(minutes=1))
    a.adjudicate(
        Verdict.FALSE_ALERT, "op2", T + timedelta(minutes=2), override_reason="wrong person"
    )
    assert a.verdict is Verdict.FALSE_ALERT
    assert [x.verdict for x in a.adjudications] == [Verdict.TRUE_ALERT, Verdict.FALSE_ALERT]
    assert a.adjudications[-1].override_reason == "wrong person"


def test_an_override_needs_something_to_override():
    with pytest.raises(AdjudicationError, match="nothing to override"):
        alert().adjudicate("true_alert", "op1", T, override_reason="because")


def test_outcome_needs_adjudication_first_and_follows_the_same_rule():
    a = alert()
    with pytest.raises(AdjudicationError, match="before"):
        a.set_outcome(Outcome.NOT_ENGAGED, "op1", T)
    a.adjudicate("true_alert", "op1", T)
    a.set_outcome("engaged_arrested", "op1", T)
    assert a.outcome is Outcome.ENGAGED_ARRESTED and a.outcome.engaged
    with pytest.raises(AdjudicationError, match="override"):
        a.set_outcome(Outcome.NOT_ENGAGED, "op1", T)
    assert not Outcome.NOT_ENGAGED.engaged


def test_bad_values_are_typed_errors():
    a = alert()
    with pytest.raises(AdjudicationError, match="unknown verdict"):
        a.adjudicate("maybe", "op1", T)
    with pytest.raises(AdjudicationError, match="name"):
        a.adjudicate("true_alert", "", T)
    assert a.adjudications == []
