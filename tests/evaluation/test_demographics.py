import numpy as np
import pytest

from openlfr.evaluation.demographics import evaluate
from openlfr.evaluation.identification import SearchScores


def test_group_fpir_at_a_given_threshold():
    # Group A: 2 of 100 above 0.5; group B: 8 of 100; 5 unlabelled searches.
    nm = np.r_[np.full(98, 0.1), np.full(2, 0.9), np.full(92, 0.1), np.full(8, 0.9), [0.9] * 5]
    groups = ["A"] * 100 + ["B"] * 100 + [None] * 5
    r = evaluate(SearchScores(np.array([]), np.array([], bool), nm), groups, threshold=0.5)
    js = r.to_json()
    assert js["groups"]["A"]["fpir"] == 0.02 and js["groups"]["B"]["fpir"] == 0.08
    assert js["groups"]["A"]["n"] == 100 and js["unlabelled"] == 5
    assert js["ratio"] == pytest.approx(4.0)
    a = js["groups"]["A"]
    assert a["ci_low"] < 0.02 < a["ci_high"]
    assert js["threshold"] == 0.5 and js["threshold_source"] == "given"


def test_default_threshold_gives_overall_fpir_and_fnir_per_group():
    rng = np.random.default_rng(2)
    nm = rng.uniform(0, 1, 1000)
    s = SearchScores(np.array([0.99, 0.2, 0.99, 0.99]), np.array([True, True, False, True]), nm)
    r = evaluate(s, ["X", "Y"] * 500, ["X", "X", "Y", "Y"])
    assert r.overall_fpir <= 0.01 and r.threshold_source.startswith("fpir=0.01")
    assert r.fnir["X"].rate == 0.5  # the 0.2 search is below threshold
    assert r.fnir["Y"].rate == 0.5  # wrong person on top
    assert "fnir" in r.to_json()["groups"]["X"]


def test_zero_fpir_group_makes_ratio_null():
    nm = np.r_[np.zeros(100), np.ones(100)]
    r = evaluate(
        SearchScores(np.array([]), np.array([], bool), nm), ["A"] * 100 + ["B"] * 100, None, 0.5
    )
    assert r.ratio is None and r.fpir["A"].rate == 0.0 and r.fpir["A"].ci_high > 0


def test_too_few_searches_for_default_threshold():
    with pytest.raises(ValueError):
        evaluate(SearchScores(np.array([]), np.array([], bool), np.zeros(50)), ["A"] * 50)


def test_small_groups_are_listed_but_left_out_of_the_ratio():
    nm = np.r_[np.full(95, 0.1), np.full(5, 0.9), np.full(90, 0.1), np.full(10, 0.9), [0.1] * 3]
    groups = ["A"] * 100 + ["B"] * 100 + ["tiny"] * 3
    r = evaluate(SearchScores(np.array([]), np.array([], bool), nm), groups, threshold=0.5)
    assert r.fpir["tiny"].rate == 0.0 and r.fpir["tiny"].n == 3
    assert r.ratio == pytest.approx(2.0)  # B over A; "tiny" (0 of 3) does not make it null
