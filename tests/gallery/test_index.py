"""The exact numpy reference index: ranking, threshold ("unknown"), fusion, add/remove/rebuild."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.errors import ConfigError, ModelMismatchError
from openlfr.gallery import synthetic
from openlfr.gallery.index import (
    Candidate,
    ExactIndex,
    GalleryIndex,
    build_index,
    load_index,
    make_index,
    mean_template,
)
from openlfr.vision.face import Template

DIM = 16


def unit(*xs: float) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(xs)] = xs
    return v / np.linalg.norm(v)


@pytest.fixture
def index() -> ExactIndex:
    ix = ExactIndex("m1", DIM)
    ix.add("alice", unit(1, 0))
    ix.add("bob", unit(0, 1))
    ix.add("carol", np.stack([unit(1, 1), unit(-1, 0)]))  # two templates
    return ix


def test_ranked_candidates_with_similarity(index):
    got = index.search(unit(1, 0.1), threshold=0.0, top_k=5)
    assert [c.subject_id for c in got] == ["alice", "carol", "bob"]
    sims = [c.similarity for c in got]
    assert sims == sorted(sims, reverse=True)
    assert got[0].similarity == pytest.approx(float(unit(1, 0.1) @ unit(1, 0)), abs=1e-6)
    assert all(0.0 <= s <= 1.0 for s in sims)


def test_unknown_when_nothing_reaches_threshold(index):
    assert index.search(unit(0, 0, 1), threshold=0.3) == []
    got = index.search(unit(1, 0.1), threshold=0.9)
    assert [c.subject_id for c in got] == ["alice"]
    assert all(c.similarity >= 0.9 for c in got)


def test_threshold_is_inclusive(index):
    exact = index.search(unit(1, 0), threshold=0.0)[0].similarity
    assert index.search(unit(1, 0), threshold=exact)[0].subject_id == "alice"


def test_negative_cosine_is_clipped_to_zero(index):
    got = index.search(unit(0, -1), threshold=0.0, top_k=5)
    assert {c.subject_id for c in got} == {"alice", "bob", "carol"}
    assert min(c.similarity for c in got) == 0.0  # bob is at cosine -1


def test_top_k_limits_and_one_candidate_per_subject(index):
    got = index.search(unit(1, 0.5), threshold=0.0, top_k=2)
    assert len(got) == 2
    assert len({c.subject_id for c in index.search(unit(1, 0), 0.0, top_k=10)}) == 3


def test_max_fusion_reports_best_template(index):
    got = {c.subject_id: c for c in index.search(unit(-1, 0.05), threshold=0.0)}
    assert got["carol"].template_index == 1  # its second template is the closer one
    assert got["carol"].similarity > 0.99


def test_add_appends_templates_to_existing_subject(index):
    index.add("alice", unit(0, 0, 1))
    assert len(index) == 5
    got = index.search(unit(0, 0, 1), threshold=0.5)
    assert got == [Candidate("alice", pytest.approx(1.0), 1)]


def test_remove_and_rebuild(index):
    assert index.remove("carol") == 2
    assert index.remove("nobody") == 0
    assert len(index) == 2 and sorted(index.subjects()) == ["alice", "bob"]
    assert all(c.subject_id != "carol" for c in index.search(unit(1, 1), 0.0, top_k=5))
    index.rebuild([("dave", unit(0, 0, 0, 1))])
    assert index.subjects() == ["dave"] and len(index) == 1


def test_batch_matches_single(index):
    probes = np.stack([unit(1, 0.2), unit(0, 1), unit(0, 0, 1)])
    batch = index.search_batch(probes, threshold=0.2, top_k=3)
    single = [index.search(p, 0.2, 3) for p in probes]
    assert [[c.subject_id for c in cs] for cs in batch] == [
        [c.subject_id for c in cs] for cs in single
    ]
    for cs, ss in zip(batch, single, strict=True):
        assert [c.similarity for c in cs] == pytest.approx([c.similarity for c in ss], abs=1e-5)
    assert batch[2] == []


def test_template_probe_checks_model(index):
    got = index.search(Template(unit(1, 0), "m1"), threshold=0.5)
    assert got[0].subject_id == "alice"
    with pytest.raises(ModelMismatchError):
        index.search(Template(unit(1, 0), "other-model"), threshold=0.5)
    with pytest.raises(ModelMismatchError):
        index.add("eve", [Template(unit(1, 0), "other-model")])


@pytest.mark.parametrize(
    "bad", [np.zeros(DIM), np.ones(DIM + 1), np.full(DIM, np.nan), np.ones((2, 2, DIM))]
)
def test_bad_vectors_are_typed_errors(index, bad):
    with pytest.raises(ConfigError):
        index.search(bad, threshold=0.5)
    with pytest.raises(ConfigError):
        index.add("x", bad)


def test_bad_arguments_are_typed_errors(index):
    with pytest.raises(ConfigError):
        index.search(unit(1), threshold=1.5)
    with pytest.raises(ConfigError):
        index.search(unit(1), threshold=0.5, top_k=0)
    with pytest.raises(ConfigError):
        index.search(np.stack([unit(1), unit(0, 1)]), threshold=0.5)
    with pytest.raises(ConfigError):
        index.add("", unit(1))
    with pytest.raises(ConfigError):
        make_index("m", DIM, kind="lsh")


def test_empty_index_returns_unknown():
    ix = ExactIndex("m", DIM)
    assert ix.search(unit(1), 0.0) == [] and len(ix) == 0


def test_vectors_are_normalised_on_add(index):
    index.add("zed", 5.0 * unit(0, 0, 0, 0, 1))
    assert index.search(unit(0, 0, 0, 0, 1), 0.9)[0].similarity == pytest.approx(1.0)


def test_save_load_roundtrip(index, tmp_path):
    index.remove("bob")
    index.save(tmp_path / "g.npz")
    back = load_index(tmp_path / "g.npz")
    assert isinstance(back, ExactIndex) and back.model_id == "m1" and len(back) == 3
    probe = unit(-1, 0.3)
    assert back.search(probe, 0.0) == index.search(probe, 0.0)
    back.add("carol", unit(0, 0, 1))
    assert back.search(unit(0, 0, 1), 0.9)[0].template_index == 2


def test_load_bad_file_is_typed_error(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"not a zip")
    with pytest.raises(ConfigError):
        load_index(tmp_path / "x.npz")


def test_make_index_picks_by_size():
    assert make_index("m", DIM, kind="exact").kind == "exact"
    assert make_index("m", DIM, expected_size=1000).kind == "flat"
    big = make_index("m", DIM, expected_size=1_000_000)
    assert (big.kind, big.storage) == ("ivf", "pqfs")
    assert make_index("m", DIM, expected_size=1_000_000, storage="flat").storage == "flat"
    assert isinstance(make_index("m", DIM), GalleryIndex)
    assert isinstance(ExactIndex("m", DIM), GalleryIndex)


def test_many_templates_per_subject_still_finds_top_k():
    # one subject with 100 near-identical templates must not crowd out the others
    ix = ExactIndex("m", DIM)
    ix.add("crowd", np.stack([unit(1, 0.01 * i) for i in range(100)]))
    ix.add("other1", unit(1, 1))
    ix.add("other2", unit(1, 2))
    got = ix.search(unit(1, 0), threshold=0.0, top_k=3)
    assert [c.subject_id for c in got] == ["crowd", "other1", "other2"]


def test_mean_template_is_unit():
    v = np.stack([unit(1, 0), unit(0, 1)])
    m = mean_template(v)
    assert np.linalg.norm(m) == pytest.approx(1.0)
    assert m @ unit(1, 1) == pytest.approx(1.0)


def test_synthetic_mates_rank_first():
    ids = synthetic.identities(2000, 64, seed=3)
    gal = synthetic.templates(ids, 1, seed=4)[:, 0]
    probes = synthetic.templates(ids[:200], 1, seed=5)[:, 0]
    ix = build_index("m", 64, [(f"s{i}", v) for i, v in enumerate(gal)], kind="exact")
    got = ix.search_batch(probes, threshold=0.0, top_k=1)
    rank1 = np.mean([g[0].subject_id == f"s{i}" for i, g in enumerate(got)])
    assert rank1 > 0.95
    mated = np.mean([g[0].similarity for g in got])
    assert 0.6 < mated < 0.8  # mate similarity ~0.7 by construction
