"""Decision: fusion, threshold, exactly one alert per subject per track, cooldown."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.errors import ConfigError
from openlfr.gallery.index import build_index
from openlfr.live.decision import Decider, TrackDecision, choose_threshold


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def index():
    rng = np.random.default_rng(0)
    items = [(f"s{i}", unit(rng.normal(size=16))[None]) for i in range(5)]
    return build_index("test-model", 16, items, kind="exact"), dict(items)


def probe(target, sim, seed=1):
    """A unit vector with cosine `sim` to `target`."""
    rng = np.random.default_rng(seed)
    t = target.ravel()
    o = rng.normal(size=t.shape)
    o -= o @ t * t
    o /= np.linalg.norm(o)
    return unit(sim * t + np.sqrt(1 - sim**2) * o)


def test_max_fusion_alerts_once_per_subject_per_track(index):
    idx, items = index
    d = Decider(idx, 0.9, cooldown_s=0)
    state = TrackDecision()
    assert d.add_shot(state, probe(items["s1"], 0.5), 0.0) == []
    (alert,) = d.add_shot(state, probe(items["s1"], 0.95), 1.0)
    assert alert.subject == "s1" and alert.similarity == pytest.approx(0.95, abs=1e-4)
    # More good shots of the same track: no second alert.
    assert d.add_shot(state, probe(items["s1"], 0.97, seed=2), 2.0) == []
    # A new track of the same person alerts again (no cooldown).
    assert [a.subject for a in d.add_shot(TrackDecision(), probe(items["s1"], 0.95), 3.0)] == ["s1"]


def test_mean_fusion_needs_consistent_shots(index):
    idx, items = index
    d = Decider(idx, 0.9, fusion="mean", fusion_k=2, cooldown_s=0)
    state = TrackDecision()
    assert d.add_shot(state, probe(items["s2"], 0.5), 0.0) == []
    # One shot at 0.95 after a poor one: the mean of the top 2 stays under 0.9.
    assert d.add_shot(state, probe(items["s2"], 0.95), 0.1) == []
    (alert,) = d.add_shot(state, probe(items["s2"], 0.93, seed=3), 0.2)
    assert alert.similarity == pytest.approx(0.94, abs=1e-3)


def test_cooldown_per_subject(index):
    idx, items = index
    d = Decider(idx, 0.9, cooldown_s=10)
    assert d.add_shot(TrackDecision(), probe(items["s3"], 0.95), 0.0)
    assert d.add_shot(TrackDecision(), probe(items["s3"], 0.95), 5.0) == []
    assert d.suppressed == 1
    assert d.add_shot(TrackDecision(), probe(items["s4"], 0.95), 5.0)  # another subject
    assert d.add_shot(TrackDecision(), probe(items["s3"], 0.95), 11.0)


def test_bad_settings_are_config_errors(index):
    idx, _ = index
    with pytest.raises(ConfigError):
        Decider(idx, 0.9, fusion="median")
    with pytest.raises(ConfigError):
        Decider(idx, 1.5)
    with pytest.raises(ConfigError):
        Decider(idx, 0.9, cooldown_s=-1)


def test_threshold_from_calibration_for_fpir_1e_4(monkeypatch):
    from openlfr.gallery.calibration import calibrate_from_templates

    rng = np.random.default_rng(5)
    templates = {f"p{i}": unit(rng.normal(size=(1, 32))) for i in range(400)}
    cal = calibrate_from_templates("cal-model", templates)
    cal.save()  # into the test's data directory
    chosen = choose_threshold("cal-model", 50)
    assert chosen.expected_fpir == pytest.approx(1e-4, rel=0.05)
    assert chosen.value == pytest.approx(cal.threshold_for_fpir(1e-4, 50))
    # --threshold wins, and still gets its expected FPIR from the calibration.
    given = choose_threshold("cal-model", 50, threshold=0.99)
    assert given.value == 0.99 and given.expected_fpir is not None
    assert given.expected_fpir < 1e-4


def test_threshold_fallback_without_calibration():
    chosen = choose_threshold("dlib-resnet-v1", 10)
    assert "fallback" in chosen.source and chosen.expected_fpir is None
