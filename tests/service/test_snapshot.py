"""A watchlist snapshot in the live pipeline's watchlist shape."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.errors import WatchlistError
from openlfr.service.snapshot import SnapshotWatchlist
from openlfr.store.watchlists import SnapshotEntry


def unit(seed: int, dim: int = 8) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def entry(subject, seed, model="m1"):
    return SnapshotEntry(subject, f"img-{seed}", "wanted_by_courts", unit(seed), model)


def test_the_snapshot_searches_like_a_watchlist():
    entries = [entry("a", 1), entry("a", 2), entry("b", 3), entry(None, 4)]
    wl = SnapshotWatchlist.from_entries("dep-1", entries)
    assert wl.model_id == "m1" and wl.dim == 8
    assert wl.template_subjects == ["a", "a", "b"]  # the deleted subject is left out
    assert wl.enrolled_subjects == ["a", "b"]
    index = wl.index(kind="exact")
    found = index.search(unit(2), 0.5, 5)
    assert [c.subject_id for c in found][:1] == ["a"]
    assert found[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert index.search(unit(4), 0.99, 5) == []  # the deleted subject's face finds no one


def test_models_are_kept_apart():
    entries = [entry("a", 1, "m1"), entry("b", 2, "m2")]
    with pytest.raises(WatchlistError, match="mixes models"):
        SnapshotWatchlist.from_entries("dep-1", entries)
    assert SnapshotWatchlist.from_entries("dep-1", entries, "m2").template_subjects == ["b"]
    with pytest.raises(WatchlistError, match="no template for model 'm3'"):
        SnapshotWatchlist.from_entries("dep-1", entries, "m3")
