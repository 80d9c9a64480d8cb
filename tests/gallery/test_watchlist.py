"""The watchlist store: all or nothing, names, replace, list/show/delete; and enrolment of
real LFW photos with the real engine, bad files included."""

from __future__ import annotations

import json

import numpy as np
import pytest

from openlfr.errors import ConfigError, WatchlistError
from openlfr.gallery import watchlist as wl
from openlfr.gallery.enrol import EnrolmentReport, ImageVerdict, Verdict


def _report(subjects: dict[str, int], dim: int = 4, extra: list[str] = ()) -> EnrolmentReport:
    rng = np.random.default_rng(0)
    verdicts = []
    for s, n in subjects.items():
        for i in range(n):
            v = rng.normal(size=dim).astype(np.float32)
            verdicts.append(
                ImageVerdict(
                    s,
                    f"{s}/{i}.jpg",
                    Verdict.ENROLLED,
                    sha256="ab" * 32,
                    template=v / np.linalg.norm(v),
                )
            )
    for s in extra:
        verdicts.append(ImageVerdict(s, f"{s}/x.jpg", Verdict.NO_FACE, "no face found", "cd" * 32))
    return EnrolmentReport("fake-v1", dim, verdicts, [*subjects, *extra])


def _leftovers() -> list[str]:
    root = wl.root()
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_save_load_roundtrip():
    w = wl.Watchlist.from_report("team-a", _report({"Alice": 2, "Bob": 1}, extra=["Carol"]))
    path = wl.save(w)
    assert path == wl.root() / "team-a"
    assert sorted(p.name for p in path.iterdir()) == ["manifest.json", "templates.npy"]
    back = wl.load("team-a")
    assert back.subjects == ["Alice", "Bob", "Carol"]
    assert back.enrolled_subjects == ["Alice", "Bob"]
    assert back.not_enrolled == ["Carol"]
    assert back.template_subjects == ["Alice", "Alice", "Bob"]
    np.testing.assert_array_equal(back.templates, w.templates)
    assert back.model_id == "fake-v1" and back.dim == 4 and back.created
    manifest = json.loads((path / "manifest.json").read_text())
    assert [i["verdict"] for i in manifest["images"]] == ["enrolled"] * 3 + ["no face"]
    assert manifest["images"][3]["sha256"] == "cd" * 32
    # multi-template subjects: the index holds all of Alice's templates
    index = back.index(kind="exact")
    assert len(index) == 3
    top = index.search(w.templates[1], threshold=0.99, top_k=1)
    assert top[0].subject_id == "Alice" and top[0].template_index == 1
    assert [s.name for s in wl.list_watchlists()] == ["team-a"]
    s = wl.list_watchlists()[0]
    assert (s.subjects, s.enrolled, s.templates) == (3, 2, 3)


@pytest.mark.parametrize(
    "name", ["", "..", "../x", "a/b", ".hidden", "a b", "x" * 65, "a..b", "/abs"]
)
def test_bad_names_are_refused(name):
    with pytest.raises(ConfigError, match="bad watchlist name"):
        wl.path_of(name)


def test_existing_needs_replace_and_replace_swaps_whole():
    wl.save(wl.Watchlist.from_report("w", _report({"Alice": 1})))
    with pytest.raises(WatchlistError, match="--replace"):
        wl.save(wl.Watchlist.from_report("w", _report({"Bob": 1})))
    assert wl.load("w").subjects == ["Alice"]
    wl.save(wl.Watchlist.from_report("w", _report({"Bob": 2})), replace=True)
    assert wl.load("w").subjects == ["Bob"]
    assert _leftovers() == ["w"]


def test_nothing_enrolled_creates_nothing():
    with pytest.raises(WatchlistError, match="not created"):
        wl.save(wl.Watchlist.from_report("w", _report({}, extra=["Carol"])))
    assert _leftovers() == []


@pytest.mark.parametrize("replace", [False, True])
def test_failure_mid_write_leaves_nothing_half_built(monkeypatch, replace):
    if replace:
        wl.save(wl.Watchlist.from_report("w", _report({"Alice": 1})))

    def broken_dump(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wl.json, "dump", broken_dump)  # templates written, manifest fails
    with pytest.raises(ConfigError, match="No space left"):
        wl.save(wl.Watchlist.from_report("w", _report({"Bob": 1})), replace=replace)
    if replace:
        assert _leftovers() == ["w"]
        assert wl.load("w").subjects == ["Alice"]  # the old one is intact
    else:
        assert _leftovers() == []
        assert not wl.exists("w")


def test_interrupt_during_swap_restores_the_old_one(monkeypatch):
    wl.save(wl.Watchlist.from_report("w", _report({"Alice": 1})))
    real = wl.os.replace
    calls = []

    def replace(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # old moved aside, then the new one's move is interrupted
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(wl.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        wl.save(wl.Watchlist.from_report("w", _report({"Bob": 1})), replace=True)
    monkeypatch.setattr(wl.os, "replace", real)
    assert _leftovers() == ["w"]
    assert wl.load("w").subjects == ["Alice"]


def test_unknown_and_damaged():
    with pytest.raises(WatchlistError, match="no watchlist named 'nope'"):
        wl.load("nope")
    with pytest.raises(WatchlistError, match="no watchlist"):
        wl.delete("nope")
    path = wl.save(wl.Watchlist.from_report("w", _report({"Alice": 2})))
    np.save(path / "templates.npy", np.zeros((5, 4), np.float32))
    with pytest.raises(WatchlistError, match="damaged"):
        wl.load("w")
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(WatchlistError, match="damaged"):
        wl.load("w")
    assert wl.list_watchlists() == []


def test_delete():
    wl.save(wl.Watchlist.from_report("w", _report({"Alice": 1})))
    wl.delete("w")
    assert not wl.exists("w") and _leftovers() == []


def test_swap_killed_outright_is_recovered_on_next_use():
    path = wl.save(wl.Watchlist.from_report("team-a", _report({"Alice": 1})))
    aside = wl.root() / ".old-team-a-k1ll3d"
    aside.mkdir()
    path.rename(aside / "wl")  # as if SIGKILL struck between the two renames
    assert wl.load("team-a").subjects == ["Alice"]
    (wl.root() / ".tmp-team-a-young").mkdir()  # may be a run still going: left alone
    wl.recover()
    assert (wl.root() / ".tmp-team-a-young").exists()
