import numpy as np
import pytest

from openlfr.evaluation.identification import (
    SearchScores,
    evaluate,
    fpir,
    search,
    threshold_for_fpir,
    tpir,
)


def test_threshold_is_the_smallest_with_fpir_at_most_the_level():
    nm = np.linspace(0.0, 0.99, 100)  # 100 non-mated searches
    t = threshold_for_fpir(nm, 0.01)
    assert fpir(nm, t) == 0.01  # exactly one false alarm allowed and used
    assert fpir(nm, np.nextafter(t, -np.inf)) > 0.01  # any lower threshold is too many
    assert threshold_for_fpir(nm, 0.001) is None  # 100 searches cannot measure 1 in 1000


def test_threshold_with_ties_and_missing_searches():
    nm = np.array([0.9, 0.9, 0.5] + [-np.inf] * 97)
    t = threshold_for_fpir(nm, 0.01)
    assert t > 0.9 and fpir(nm, t) == 0.0  # a tie cannot be half accepted
    nm = np.array([0.5] + [-np.inf] * 99)  # 99 searches had no face: no candidate
    assert threshold_for_fpir(nm, 0.01) == 0.0


def test_tpir_needs_the_mate_on_top_and_above_threshold():
    s = SearchScores(
        mated_top=np.array([0.9, 0.95, 0.4, -np.inf]),
        mated_hit=np.array([True, False, True, False]),
        nonmated_top=np.array([0.3]),
    )
    assert tpir(s, 0.5) == 0.25  # second: wrong person on top; third: too low; fourth: no face


def test_search_finds_mates_and_handles_missing_templates():
    g = np.eye(3, dtype=np.float32)
    gp = np.array([True, True, False])  # C's enrolment image had no face
    probes = np.array([[0.9, 0.1, 0], [0, 0, 1], [0.1, 0.9, 0]], dtype=np.float32)
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    present = np.array([True, True, False])
    s = search(g, gp, ["A", "B", "C"], probes, present, ["A", "C", "B"], probes[:1], present[:1])
    assert s.mated_hit.tolist() == [True, False, False]
    assert s.mated_top[0] == pytest.approx(0.9 / np.hypot(0.9, 0.1), abs=1e-6)
    assert s.mated_top[1] == 0.0  # orthogonal to every enrolled template (clipped cosine)
    assert s.mated_top[2] == -np.inf


def test_evaluate_reports_levels_and_nulls():
    rng = np.random.default_rng(1)
    s = SearchScores(
        mated_top=rng.uniform(0.6, 1.0, 500),
        mated_hit=rng.uniform(size=500) < 0.95,
        nonmated_top=rng.uniform(0.0, 0.8, 2000),
    )
    r = evaluate(s, n_gallery=400, missed={"gallery": 1, "mated": 2, "nonmated": 3})
    js = r.to_json("m")
    assert js["n_mated"] == 500 and js["n_nonmated"] == 2000 and js["missed_detections"] == 6
    assert set(js["tpir"]) == {"0.1", "0.01", "0.001", "0.0001"}
    assert js["tpir"]["0.0001"] is None and js["threshold"]["0.0001"] is None
    assert js["tpir"]["0.001"] is not None  # 2000 >= 1000 searches
    # A stricter level has a higher threshold and a lower TPIR.
    assert js["threshold"]["0.01"] < js["threshold"]["0.001"]
    assert js["tpir"]["0.01"] >= js["tpir"]["0.001"]
    assert js["fpir_measured"]["0.01"] <= 0.01
    assert js["tpir"]["0.1"] <= js["rank1"] == pytest.approx(s.mated_hit.mean())
    assert len(r.det_fpir) == len(r.det_fnir) > 100
    assert np.all(np.diff(r.det_fpir) <= 0) and np.all(np.diff(r.det_fnir) >= 0)
    # The JSON carries thinned DET points with their thresholds, consistent with the levels.
    det = js["det"]
    assert 100 < len(det["threshold"]) <= 400
    assert len(det["threshold"]) == len(det["fpir"]) == len(det["fnir"])
    assert np.all(np.diff(det["threshold"]) > 0) and np.all(np.diff(det["fpir"]) <= 0)
    t = js["threshold"]["0.01"]
    i = int(np.searchsorted(det["threshold"], t))
    assert det["fpir"][i] <= 0.01 + 1e-9 and det["fpir"][max(i - 1, 0)] >= det["fpir"][i]
