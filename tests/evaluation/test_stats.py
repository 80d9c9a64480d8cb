import pytest

from openlfr.evaluation.stats import ratio_max_min, wilson_interval


def test_wilson_matches_known_values():
    # 10/100: the textbook Wilson 95% interval is (0.0552, 0.1744).
    low, high = wilson_interval(10, 100)
    assert low == pytest.approx(0.0552, abs=1e-4)
    assert high == pytest.approx(0.1744, abs=1e-4)


def test_wilson_edges_are_exact_and_not_degenerate():
    low, high = wilson_interval(0, 50)
    assert low == 0.0 and 0.05 < high < 0.1
    low, high = wilson_interval(50, 50)
    assert high == 1.0 and 0.9 < low < 0.95
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ValueError):
        wilson_interval(5, 3)


def test_ratio():
    assert ratio_max_min([0.01, 0.04]) == pytest.approx(4.0)
    assert ratio_max_min([0.0, 0.04]) is None
    assert ratio_max_min([]) is None
