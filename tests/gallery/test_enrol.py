"""Enrolment verdicts, with a test-double engine (the real engine is exercised in
test_watchlist.py on LFW photos)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openlfr.errors import ConfigError, ImageError
from openlfr.gallery.enrol import (
    Verdict,
    enrol,
    main_faces,
    read_sources,
    verdict_for_reasons,
)
from openlfr.vision.face import Face, Quality, Template

DIM = 8


def _face(x: float, w: float, reasons: tuple[str, ...] = ()) -> Face:
    return Face(
        box=(x, 0.0, x + w, w), score=1.0, quality=Quality(0.9 if not reasons else 0.2, reasons)
    )


class FakeEngine:
    """Reads what to 'find' from the image's first pixel: [kind, subject code, 0]."""

    model_id = "fake-v1"

    def __init__(self) -> None:
        self.embedded = 0

    def detect(self, image: np.ndarray) -> list[Face]:
        kind = int(image[0, 0, 0])
        return {
            0: [],
            1: [_face(10, 100)],
            2: [_face(10, 100), _face(200, 60)],  # two comparable faces
            3: [_face(10, 100), _face(200, 20)],  # a tiny background face
            4: [_face(10, 30, ("too small", "blurred"))],
            5: [_face(10, 100, ("blurred", "profile"))],
            6: [_face(10, 100, ("too dark",))],
            7: [_face(10, 100, ("something new",))],
        }[kind]

    def embed(self, image: np.ndarray, faces):
        self.embedded += len(faces)
        v = np.zeros(DIM, np.float32)
        v[int(image[0, 0, 1]) % DIM] = 1.0
        return [f.with_(template=Template(v, self.model_id)) for f in faces]


def _loader(codes: dict[str, tuple[int, int]]):
    def load(path: Path) -> np.ndarray:
        if path.name not in codes:
            raise ImageError(f"cannot read image {path}: corrupt or truncated")
        kind, subject = codes[path.name]
        img = np.zeros((4, 4, 3), np.uint8)
        img[0, 0] = (kind, subject, 0)
        return img

    return load


def _folder(tmp_path: Path, layout: dict[str, list[str]]) -> Path:
    root = tmp_path / "src"
    for person, files in layout.items():
        (root / person).mkdir(parents=True)
        for f in files:
            (root / person / f).write_bytes(f.encode())
    return root


def test_verdict_for_reasons_picks_root_cause_first():
    assert verdict_for_reasons(()) is Verdict.ENROLLED
    assert verdict_for_reasons(("blurred", "too small")) is Verdict.TOO_SMALL
    assert verdict_for_reasons(("blurred", "profile")) is Verdict.PROFILE
    assert verdict_for_reasons(("too bright",)) is Verdict.TOO_BRIGHT
    assert verdict_for_reasons(("low detector score",)) is Verdict.LOW_SCORE
    assert verdict_for_reasons(("unheard of",)) is Verdict.POOR_QUALITY


def test_main_faces_ignores_tiny_background_face():
    assert len(main_faces([_face(0, 100), _face(200, 20)])) == 1
    assert len(main_faces([_face(0, 100), _face(200, 50)])) == 2
    assert main_faces([]) == []
    # a big low-confidence detection (a false alarm) neither rejects nor gets enrolled
    patch = _face(200, 120, ("low detector score",))
    assert main_faces([patch, _face(0, 100)]) == [_face(0, 100)]
    assert main_faces([patch]) == [patch]


def test_every_image_gets_one_verdict(tmp_path):
    root = _folder(
        tmp_path,
        {
            "Alice": ["good.jpg", "two.jpg", "tiny_bg.jpg", "small.jpg", "bad.jpg"],
            "Bob": ["none.jpg", "profile.jpg", "dark.jpg", "new.jpg"],
            "Carol": [],
        },
    )
    codes = {
        "good.jpg": (1, 1),
        "two.jpg": (2, 1),
        "tiny_bg.jpg": (3, 1),
        "small.jpg": (4, 1),
        "none.jpg": (0, 2),
        "profile.jpg": (5, 2),
        "dark.jpg": (6, 2),
        "new.jpg": (7, 2),
    }
    engine = FakeEngine()
    report = enrol(read_sources(root), engine, load=_loader(codes))
    got = {v.source: v.verdict for v in report.verdicts}
    assert got == {
        "Alice/bad.jpg": Verdict.UNREADABLE,
        "Alice/good.jpg": Verdict.ENROLLED,
        "Alice/small.jpg": Verdict.TOO_SMALL,
        "Alice/tiny_bg.jpg": Verdict.ENROLLED,
        "Alice/two.jpg": Verdict.SEVERAL_FACES,
        "Bob/dark.jpg": Verdict.TOO_DARK,
        "Bob/new.jpg": Verdict.POOR_QUALITY,
        "Bob/none.jpg": Verdict.NO_FACE,
        "Bob/profile.jpg": Verdict.PROFILE,
    }
    # only the two enrolled faces were ever embedded: a rejected image leaves no template
    assert engine.embedded == 2
    assert all((v.template is not None) == v.verdict.enrolled for v in report.verdicts)
    assert report.subjects == ["Alice", "Bob", "Carol"]
    assert report.enrolled_subjects == ["Alice"]
    assert report.not_enrolled == ["Bob", "Carol"]
    assert report.templates()["Alice"].shape == (2, DIM)
    assert report.dim == DIM
    assert all(v.sha256 and len(v.sha256) == 64 for v in report.verdicts)
    js = report.to_json()
    assert js["counts"]["enrolled"] == 2 and js["not_enrolled"] == ["Bob", "Carol"]
    assert "template" not in js["images"][0]


def test_stray_files_are_listed_not_dropped(tmp_path):
    root = _folder(tmp_path, {"Alice": ["a.jpg"]})
    (root / "loose.jpg").write_bytes(b"x")
    (root / "Alice" / "nested").mkdir()
    (root / ".DS_Store").write_bytes(b"x")
    sources = read_sources(root)
    assert sorted(s.label for s in sources.skipped) == ["Alice/nested", "loose.jpg"]


@pytest.mark.skipif(__import__("os").geteuid() == 0, reason="root reads any folder")
def test_unreadable_person_folder_is_a_listed_rejection(tmp_path):
    root = _folder(tmp_path, {"Alice": ["a.jpg"], "Bob": ["b.jpg"]})
    (root / "Bob").chmod(0)
    try:
        report = enrol(read_sources(root), FakeEngine(), load=_loader({"a.jpg": (1, 1)}))
    finally:
        (root / "Bob").chmod(0o755)
    bob = [v for v in report.verdicts if v.subject == "Bob"]
    assert [v.verdict for v in bob] == [Verdict.UNREADABLE]
    assert "cannot read folder" in bob[0].detail


def test_unreadable_person_folder_via_scandir_error(tmp_path, monkeypatch):
    # Works as root too: make scandir fail for one person's folder.
    import os as _os

    root = _folder(tmp_path, {"Alice": ["a.jpg"], "Bob": ["b.jpg"]})
    real = _os.scandir

    def scandir(path):
        if str(path).endswith("Bob"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr("openlfr.gallery.enrol.os.scandir", scandir)
    report = enrol(read_sources(root), FakeEngine(), load=_loader({"a.jpg": (1, 1)}))
    bob = [v for v in report.verdicts if v.subject == "Bob"]
    assert [v.verdict for v in bob] == [Verdict.UNREADABLE]
    assert "Permission denied" in bob[0].detail
    assert report.not_enrolled == ["Bob"]


def test_csv_source(tmp_path):
    (tmp_path / "img").mkdir()
    for n in ("a.jpg", "b.jpg"):
        (tmp_path / "img" / n).write_bytes(b"x")
    csv = tmp_path / "list.csv"
    csv.write_text("name,image\nAlice,img/a.jpg\n\nBob,img/b.jpg\nBob,img/missing.jpg\n")
    sources = read_sources(csv)
    assert sources.subjects == ["Alice", "Bob"]
    assert sources.images[0].path == tmp_path / "img" / "a.jpg"  # relative to the CSV
    report = enrol(sources, FakeEngine(), load=_loader({"a.jpg": (1, 1), "b.jpg": (0, 2)}))
    assert [v.verdict for v in report.verdicts] == [
        Verdict.ENROLLED,
        Verdict.NO_FACE,
        Verdict.UNREADABLE,
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("Alice,a.jpg,extra\n", "expected 2 columns"),
        ("name,image\n", "no rows"),
        (",a.jpg\n", "empty"),
    ],
)
def test_bad_csv_is_a_clear_error(tmp_path, text, message):
    csv = tmp_path / "list.csv"
    csv.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_sources(csv)


def test_bad_sources(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_sources(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no person sub-folders"):
        read_sources(tmp_path / "empty")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(ConfigError, match="folder .* or a .csv"):
        read_sources(tmp_path / "x.txt")


# ---- the real engine on real photos ------------------------------------------------------


def build_folder(root: Path, lfw: Path) -> Path:
    """Two listed people with real LFW photos, one person with only bad files."""

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
    return root


@pytest.mark.data
def test_real_engine_verdicts(tmp_path, shared_data):
    from openlfr.vision.engine import FaceEngine

    root = build_folder(tmp_path / "src", shared_data / "lfw")
    report = enrol(read_sources(root), FaceEngine.from_backend("dlib"))
    got = {v.source: v.verdict for v in report.verdicts}
    assert got == {
        "Aaron_Eckhart/Aaron_Eckhart_0001.jpg": Verdict.ENROLLED,
        "Bad/grey.png": Verdict.NO_FACE,
        "Bad/text.jpg": Verdict.UNREADABLE,
        "Bad/truncated.jpg": Verdict.UNREADABLE,
        "Bad/zero.jpg": Verdict.UNREADABLE,
        "Colin_Powell/Colin_Powell_0001.jpg": Verdict.ENROLLED,
        "Colin_Powell/Colin_Powell_0002.jpg": Verdict.ENROLLED,
    }
    assert report.not_enrolled == ["Bad"]
    assert report.model_id == "dlib-resnet-v1" and report.dim == 128
    t = report.templates()
    assert t["Colin_Powell"].shape == (2, 128)
    # the same person's two photos are closer than two different people
    same = float(t["Colin_Powell"][0] @ t["Colin_Powell"][1])
    other = float(t["Colin_Powell"][0] @ t["Aaron_Eckhart"][0])
    assert same > other


@pytest.mark.data
def test_real_engine_several_faces_and_too_small(tmp_path, shared_data):
    from PIL import Image

    from openlfr.vision.engine import FaceEngine

    lfw = shared_data / "lfw"
    a = Image.open(lfw / "Colin_Powell" / "Colin_Powell_0001.jpg")
    b = Image.open(lfw / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg")
    pair = Image.new("RGB", (500, 250))
    pair.paste(a, (0, 0))
    pair.paste(b, (250, 0))
    (tmp_path / "src" / "X").mkdir(parents=True)
    pair.save(tmp_path / "src" / "X" / "pair.png")
    a.resize((125, 125)).save(tmp_path / "src" / "X" / "small.png")  # eyes ~18 px apart
    report = enrol(read_sources(tmp_path / "src"), FaceEngine.from_backend("dlib"))
    got = {v.source: v.verdict for v in report.verdicts}
    assert got["X/pair.png"] is Verdict.SEVERAL_FACES
    assert got["X/small.png"] is Verdict.TOO_SMALL
