"""`openlfr watchlist ...` end to end, with the real engine on a few LFW photos and bad files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from openlfr import paths
from openlfr.cli import main

pytestmark = pytest.mark.data


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["openlfr", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def build_folder(root: Path, lfw: Path) -> Path:
    """Two people with real LFW photos, one person with only bad files, a stray file."""

    def put(person: str, name: str, data: bytes) -> None:
        (root / person).mkdir(parents=True, exist_ok=True)
        (root / person / name).write_bytes(data)

    for person, n in (("Colin_Powell", 2), ("Aaron_Eckhart", 1)):
        for i in range(1, n + 1):
            src = lfw / person / f"{person}_{i:04d}.jpg"
            put(person, src.name, src.read_bytes())
    put("Bad", "zero.jpg", b"")
    put("Bad", "text.jpg", b"this is not a picture\n")
    put(
        "Bad", "truncated.jpg", (lfw / "Colin_Powell" / "Colin_Powell_0003.jpg").read_bytes()[:2500]
    )
    from PIL import Image

    Image.new("RGB", (200, 200), (128, 128, 128)).save(root / "Bad" / "grey.png")
    (root / "notes.txt").write_text("not a person")
    return root


@pytest.fixture
def folder(tmp_path, shared_data) -> Path:
    return build_folder(tmp_path / "people", shared_data / "lfw")


def store_entries() -> list[str]:
    root = paths.data_dir() / "watchlists"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_enrol_lists_every_verdict_and_stores_whole(monkeypatch, capsys, folder):
    code, out, err = run(
        monkeypatch, capsys, "watchlist", "enrol", "--from", str(folder), "-w", "team"
    )
    assert code == 0, err
    for text in (
        "rejected: no face",
        "rejected: unreadable",
        "empty file (0 bytes)",
        "not a supported image",
        "corrupt or truncated",
        "skipped notes.txt",
        "2 of 3 people enrolled",
        "not enrolled: Bad",
    ):
        assert text in out, text
    assert out.count("enrolled ") >= 3
    assert "Traceback" not in out + err
    assert store_entries() == ["team"]
    folder_ = paths.data_dir() / "watchlists" / "team"
    assert sorted(p.name for p in folder_.iterdir()) == ["manifest.json", "templates.npy"]
    manifest = json.loads((folder_ / "manifest.json").read_text())
    assert manifest["template_subjects"] == ["Aaron_Eckhart", "Colin_Powell", "Colin_Powell"]
    assert len(manifest["images"]) == 7
    assert all(len(i["sha256"]) == 64 for i in manifest["images"])

    code, out, _ = run(monkeypatch, capsys, "watchlist", "list", "--json")
    assert code == 0
    (summary,) = json.loads(out)
    assert (summary["name"], summary["subjects"], summary["enrolled"], summary["templates"]) == (
        "team",
        3,
        2,
        3,
    )
    code, out, _ = run(monkeypatch, capsys, "watchlist", "show", "team")
    assert code == 0 and "Colin_Powell_0002.jpg" in out and "rejected: no face" in out


def test_enrol_json(monkeypatch, capsys, folder):
    code, out, _ = run(
        monkeypatch, capsys, "watchlist", "enrol", "--from", str(folder), "-w", "team", "--json"
    )
    assert code == 0
    payload = json.loads(out)
    verdicts = {i["source"]: i["verdict"] for i in payload["images"]}
    assert verdicts == {
        "Aaron_Eckhart/Aaron_Eckhart_0001.jpg": "enrolled",
        "Bad/grey.png": "no face",
        "Bad/text.jpg": "unreadable",
        "Bad/truncated.jpg": "unreadable",
        "Bad/zero.jpg": "unreadable",
        "Colin_Powell/Colin_Powell_0001.jpg": "enrolled",
        "Colin_Powell/Colin_Powell_0002.jpg": "enrolled",
    }
    assert payload["not_enrolled"] == ["Bad"]
    assert payload["skipped"] == [
        {"source": "notes.txt", "reason": "not inside a person's sub-folder"}
    ]


def test_replace_and_names(monkeypatch, capsys, folder, tmp_path):
    args = ["watchlist", "enrol", "--from", str(folder), "-w", "team"]
    assert run(monkeypatch, capsys, *args)[0] == 0
    code, _, err = run(monkeypatch, capsys, *args)
    assert code == 2 and "--replace" in err and len(err.strip().splitlines()) == 1
    only_aaron = tmp_path / "only"
    (only_aaron / "Aaron_Eckhart").mkdir(parents=True)
    (only_aaron / "Aaron_Eckhart" / "a.jpg").write_bytes(
        (folder / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg").read_bytes()
    )
    code, _, _ = run(
        monkeypatch,
        capsys,
        "watchlist",
        "enrol",
        "--from",
        str(only_aaron),
        "-w",
        "team",
        "--replace",
    )
    assert code == 0
    code, out, _ = run(monkeypatch, capsys, "watchlist", "show", "team", "--json")
    assert json.loads(out)["template_subjects"] == ["Aaron_Eckhart"]
    assert store_entries() == ["team"]
    for bad in ("../evil", "a/b", ".hidden", ""):
        code, _, err = run(
            monkeypatch, capsys, "watchlist", "enrol", "--from", str(folder), "-w", bad
        )
        assert code == 2 and "bad watchlist name" in err
    assert store_entries() == ["team"]


def test_interrupted_run_leaves_nothing(monkeypatch, capsys, folder):
    import openlfr.gallery.enrol as enrol_mod

    real = enrol_mod.judge
    calls = []

    def judge(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C half way through
        return real(*a, **k)

    monkeypatch.setattr(enrol_mod, "judge", judge)
    code, _, err = run(
        monkeypatch, capsys, "watchlist", "enrol", "--from", str(folder), "-w", "team"
    )
    assert code != 0 and "Traceback" not in err
    assert store_entries() == []


def test_disk_error_while_saving_leaves_nothing(monkeypatch, capsys, folder):
    import openlfr.gallery.watchlist as store

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.np, "save", full)
    code, _, err = run(
        monkeypatch, capsys, "watchlist", "enrol", "--from", str(folder), "-w", "team"
    )
    assert code == 2 and "No space left on device" in err and "Traceback" not in err
    assert store_entries() == []


def test_nothing_enrolled_creates_nothing(monkeypatch, capsys, folder):
    code, out, err = run(
        monkeypatch, capsys, "watchlist", "enrol", "--from", str(folder / "Bad"), "-w", "x"
    )
    # Bad/ has files but no sub-folders: not a valid source
    assert code == 2 and "no person sub-folders" in err
    only_bad = folder.parent / "only_bad"
    (only_bad / "Bad").mkdir(parents=True)
    (only_bad / "Bad" / "zero.jpg").write_bytes(b"")
    code, out, err = run(
        monkeypatch, capsys, "watchlist", "enrol", "--from", str(only_bad), "-w", "x"
    )
    assert code == 2 and "not created" in err and "rejected: unreadable" in out
    assert store_entries() == []


def test_csv_source(monkeypatch, capsys, folder, tmp_path):
    csv = tmp_path / "list.csv"
    csv.write_text(
        f"name,image\nColin,{folder}/Colin_Powell/Colin_Powell_0001.jpg\nGhost,missing.jpg\n"
    )
    code, out, _ = run(
        monkeypatch, capsys, "watchlist", "enrol", "--from", str(csv), "-w", "c", "--json"
    )
    assert code == 0
    payload = json.loads(out)
    assert [i["verdict"] for i in payload["images"]] == ["enrolled", "unreadable"]
    assert payload["not_enrolled"] == ["Ghost"]


def test_unknown_and_delete(monkeypatch, capsys, folder):
    code, _, err = run(monkeypatch, capsys, "watchlist", "show", "nope")
    assert code == 2 and "no watchlist named 'nope'" in err
    code, _, err = run(
        monkeypatch, capsys, "watchlist", "enrol", "--from", str(folder / "missing"), "-w", "x"
    )
    assert code == 2 and "not found" in err
    assert (
        run(monkeypatch, capsys, "watchlist", "enrol", "--from", str(folder), "-w", "team")[0] == 0
    )
    code, out, _ = run(monkeypatch, capsys, "watchlist", "delete", "team", "--yes")
    assert code == 0 and store_entries() == []
    code, _, err = run(monkeypatch, capsys, "watchlist", "delete", "team", "--yes")
    assert code == 2 and "no watchlist" in err
