"""Score calibration: the impostor tail p(T), FPIR(T, N) and back, storage, and the
N-scaling checked against a direct simulation of non-mated searches."""

from __future__ import annotations

import json

import numpy as np
import pytest

from openlfr.errors import CalibrationError, ConfigError, ModelMismatchError
from openlfr.gallery import synthetic
from openlfr.gallery.calibration import (
    MIN_TAIL_COUNT,
    Calibration,
    ScoreSummary,
    calibrate_from_templates,
    default_path,
    load_calibration,
    nonmated_pairs,
)
from openlfr.paths import data_dir
from openlfr.vision.face import Template


def from_scores(scores: np.ndarray, model_id: str = "m") -> Calibration:
    s = ScoreSummary()
    s.add(scores)
    return s.calibration(model_id)


@pytest.fixture(scope="module")
def normal_scores() -> np.ndarray:
    return np.clip(np.random.default_rng(0).normal(0.1, 0.1, 200_000), -1, 1)


@pytest.fixture(scope="module")
def cal(normal_scores) -> Calibration:
    return from_scores(normal_scores)


def test_empirical_p_matches_measured_fraction(cal, normal_scores):
    for t in (0.05, 0.1, 0.2, 0.3, 0.4):  # histogram region and exact top-score region
        assert cal.p_comparison(t) == pytest.approx(np.mean(normal_scores >= t), abs=2e-4)
        assert not cal.extrapolated(t)


def test_scale_ends(cal):
    assert cal.p_comparison(0.0) == 1.0  # every clipped similarity is >= 0
    assert cal.p_comparison(1.01) == 0.0
    assert cal.expected_fpir(0.0, 10) == 1.0


def test_fpir_grows_with_n_and_threshold_lowers_it(cal):
    t = 0.35
    f = [cal.expected_fpir(t, n) for n in (1, 10, 100, 1000, 10000)]
    assert f == sorted(f) and f[0] < f[-1]
    assert f[0] == pytest.approx(cal.p_comparison(t))
    assert f[2] == pytest.approx(1 - (1 - cal.p_comparison(t)) ** 100, rel=1e-9)
    ts = np.linspace(0.0, 0.9, 40)
    fs = [cal.expected_fpir(x, 1000) for x in ts]
    assert all(a >= b for a, b in zip(fs, fs[1:], strict=False))


@pytest.mark.parametrize("fpir", [0.3, 1e-2, 1e-3, 1e-4, 1e-6])
@pytest.mark.parametrize("n", [1, 100, 10000])
def test_threshold_for_fpir_round_trips(cal, fpir, n):
    t = cal.threshold_for_fpir(fpir, n)
    got = cal.expected_fpir(t, n)
    assert got <= fpir * 1.0001  # never above the asked rate
    assert got >= fpir * 0.5  # within one step of the empirical survival function
    assert cal.expected_fpir(t - 0.01, n) > fpir  # and it is the lowest such threshold


def test_extrapolated_tail_is_flagged_continuous_and_decreasing(cal):
    a = cal.anchor_score
    assert not cal.extrapolated(a) and cal.extrapolated(a + 1e-3)
    assert cal.p_comparison(a + 1e-6) == pytest.approx(MIN_TAIL_COUNT / cal.n_scores, rel=1e-3)
    ps = [cal.p_comparison(a + d) for d in (0.01, 0.05, 0.1, 0.2)]
    assert all(x > y > 0 for x, y in zip(ps, ps[1:], strict=False))
    t = cal.threshold_for_fpir(1e-9, 1)
    assert cal.extrapolated(t) and cal.expected_fpir(t, 1) == pytest.approx(1e-9, rel=1e-6)


def test_extrapolation_is_conservative_for_a_gaussian_tail(cal):
    # The true N(0.1, 0.1) tail at 0.65 (5.5 sd) is ~1.9e-8; the exponential tail must
    # not under-state it (thresholds chosen from it err on the safe side).
    assert cal.extrapolated(0.65)
    assert cal.p_comparison(0.65) >= 1.9e-8


def test_impossible_rate_is_a_typed_error(cal):
    with pytest.raises(CalibrationError):
        cal.threshold_for_fpir(1e-300, 10**6)
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(CalibrationError):
            cal.threshold_for_fpir(bad, 100)
    with pytest.raises(CalibrationError):
        cal.expected_fpir(0.5, 0)


def test_too_few_scores_is_a_typed_error():
    with pytest.raises(CalibrationError):
        from_scores(np.linspace(0, 0.5, 50))


def test_save_load_default_and_explicit_path(cal, tmp_path):
    path = cal.save()
    assert path == default_path("m") and path.parent == data_dir() / "calibration"
    back = load_calibration("m")
    for t in (0.1, 0.3, cal.anchor_score, 0.7):
        assert back.expected_fpir(t, 1000) == pytest.approx(cal.expected_fpir(t, 1000), rel=1e-5)
    assert back.threshold_for_fpir(1e-3, 1000) == pytest.approx(
        cal.threshold_for_fpir(1e-3, 1000), abs=1e-6
    )
    explicit = cal.save(tmp_path / "c.json")
    assert load_calibration(path=explicit).n_scores == cal.n_scores
    doc = json.loads(explicit.read_text())
    assert doc["tail"]["model"] == "exponential" and "max(0, cosine)" in doc["scale"]
    assert doc["model_id"] == "m" and doc["n_scores"] == 200_000


def test_model_ids_with_odd_characters_stay_in_the_folder():
    assert default_path("../../etc/x y").parent == data_dir() / "calibration"


def test_load_errors_are_typed(cal, tmp_path):
    with pytest.raises(CalibrationError):
        load_calibration("never-calibrated")
    cal.save(tmp_path / "c.json")
    with pytest.raises(CalibrationError):
        load_calibration("other-model", path=tmp_path / "c.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CalibrationError):
        load_calibration(path=tmp_path / "bad.json")
    (tmp_path / "wrong.json").write_text(json.dumps({"format": "openlfr-calibration/1"}))
    with pytest.raises(CalibrationError):
        load_calibration(path=tmp_path / "wrong.json")


def test_calibrate_from_templates_counts_cross_identity_pairs():
    rng = np.random.default_rng(1)
    groups = {f"p{i}": rng.standard_normal((i % 3 + 1, 8)) for i in range(30)}
    cal = calibrate_from_templates("m", groups)
    sizes = np.array([len(v) for v in groups.values()])
    assert cal.n_scores == (sizes.sum() ** 2 - (sizes**2).sum()) // 2
    assert cal.n_identities == 30 and cal.n_templates == sizes.sum()
    labels = np.repeat(np.arange(30), sizes)
    assert nonmated_pairs(labels) == cal.n_scores


def test_calibrate_from_templates_subsamples_and_checks_input():
    ids = synthetic.identities(400, 16, seed=2)
    groups = {f"p{i}": v for i, v in enumerate(synthetic.templates(ids, 2, seed=3))}
    cal = calibrate_from_templates("m", groups, max_pairs=20_000)
    assert 15_000 < cal.n_scores <= 20_500
    t = [Template(np.ones(4, np.float32) / 2, "other")]
    with pytest.raises(ModelMismatchError):
        calibrate_from_templates("m", {"a": t, "b": t})
    with pytest.raises(CalibrationError):
        calibrate_from_templates("m", {"a": np.ones((3, 4))})
    with pytest.raises(ConfigError):
        calibrate_from_templates("m", {"a": np.ones((2, 4)), "b": np.full((2, 4), np.nan)})


def test_n_scaling_matches_simulated_searches():
    """Calibrate on one set of identities, then search non-mated probes (other identities)
    against galleries of N templates (yet others): measured FPIR must match the model."""
    dim = 64
    ids = synthetic.identities(9000, dim, n_clusters=40, seed=21)
    t = synthetic.templates(ids, 2, seed=22)
    cal = calibrate_from_templates("m", {f"c{i}": t[i] for i in range(1000)})
    pool = t[1000:6000, 0]  # gallery identities
    probes = t[6000:9000, 0]  # non-mated probes
    rng = np.random.default_rng(23)
    for n in (10, 100, 1000):
        for target in (0.02, 0.1):
            thr = cal.threshold_for_fpir(target, n)
            false_pos = []
            for _ in range(4):  # four random galleries of size n
                gallery = pool[rng.choice(len(pool), n, replace=False)]
                false_pos.append((probes @ gallery.T).max(axis=1) >= thr)
            measured = float(np.mean(false_pos))
            predicted = cal.expected_fpir(thr, n)
            print(f"N={n} T={thr:.4f} predicted={predicted:.4f} measured={measured:.4f}")
            sd = np.sqrt(predicted * (1 - predicted) / len(probes))  # per gallery draw
            assert abs(measured - predicted) <= max(4 * sd, 0.2 * predicted), (
                n,
                target,
                measured,
                predicted,
            )
