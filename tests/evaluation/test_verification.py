import numpy as np
import pytest

from openlfr.evaluation.verification import best_threshold, error_tradeoff, evaluate_scores


def test_best_threshold_separates_separable_scores():
    scores = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    same = np.array([0, 0, 0, 1, 1, 1], dtype=bool)
    assert best_threshold(scores, same) == pytest.approx(0.5)


def test_best_threshold_never_cuts_inside_ties():
    scores = np.array([0.5, 0.5, 0.5, 0.9])
    same = np.array([1, 0, 0, 1], dtype=bool)
    t = best_threshold(scores, same)
    assert t > 0.5  # reject the three tied pairs together: 3/4 right


def _synthetic(rng, folds=10, per=60, gap=0.3):
    same = np.tile(np.r_[np.ones(per // 2), np.zeros(per // 2)].astype(bool), folds)
    scores = np.where(same, 0.5 + gap / 2, 0.5 - gap / 2) + rng.normal(0, 0.1, len(same))
    return scores, same, np.repeat(np.arange(folds), per)


def test_ten_fold_accuracy_on_synthetic_scores():
    rng = np.random.default_rng(0)
    scores, same, folds = _synthetic(rng)
    r = evaluate_scores(scores, same, folds)
    # Two Gaussians 3 sigma apart: the Bayes accuracy is Phi(1.5) = 0.933.
    assert 0.89 < r.accuracy < 0.97
    assert len(r.fold_accuracies) == 10 and r.std > 0
    assert r.std_error == pytest.approx(r.std / np.sqrt(10))
    assert 0.4 < r.threshold < 0.6 and r.failed_pairs == 0 and r.pairs == 600


def test_unscored_pairs_count_as_errors_whatever_their_label():
    scores = np.array([0.9, 0.1, 0.9, 0.1, np.nan, np.nan])
    same = np.array([1, 0, 1, 0, 1, 0], dtype=bool)
    folds = np.array([0, 0, 1, 1, 0, 1])
    r = evaluate_scores(scores, same, folds)
    assert r.failed_pairs == 2
    assert r.fold_accuracies == [pytest.approx(2 / 3), pytest.approx(2 / 3)]


def test_error_tradeoff_ends():
    fmr, fnmr = error_tradeoff(np.array([0.1, 0.2]), np.array([0.8, 0.9]))
    assert fmr[0] == 1.0 and fnmr[0] == 0.0  # lowest threshold accepts all
    assert fmr[-1] == 0.0 and fnmr[-1] == 0.5
