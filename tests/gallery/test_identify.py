"""1:N identification of still images, with a test-double engine."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.errors import ConfigError, WatchlistError
from openlfr.gallery.enrol import EnrolmentReport, ImageVerdict, Verdict
from openlfr.gallery.identify import Identifier, Threshold
from openlfr.gallery.watchlist import Watchlist
from openlfr.vision.face import Face, Quality, Template


def unit(i: int, dim: int = 4, mix: float = 0.0) -> np.ndarray:
    v = np.zeros(dim, np.float32)
    v[i] = 1.0
    v[(i + 1) % dim] = mix
    return v / np.linalg.norm(v)


class Engine:
    """'Finds' one face per row of image[0]; each face's template is unit(code, mix)."""

    model_id = "fake-v1"

    def detect(self, image):
        n = int(image[0, 0, 0])
        return [
            Face((10.0 * i, 0.0, 10.0 * i + 8, 8.0), 1.0, quality=Quality(0.8, ("blurred",)))
            for i in range(n)
        ]

    def embed(self, image, faces):
        out = []
        for i, f in enumerate(faces):
            code, mix = int(image[0, i + 1, 0]), float(image[0, i + 1, 1]) / 100
            out.append(f.with_(template=Template(unit(code, mix=mix), self.model_id)))
        return out


def image(*faces: tuple[int, int]) -> np.ndarray:
    img = np.zeros((2, 8, 3), np.uint8)
    img[0, 0, 0] = len(faces)
    for i, (code, mix) in enumerate(faces):
        img[0, i + 1, :2] = (code, mix)
    return img


@pytest.fixture
def watchlist() -> Watchlist:
    verdicts = [
        ImageVerdict("A", "A/1", Verdict.ENROLLED, template=unit(0)),
        ImageVerdict("A", "A/2", Verdict.ENROLLED, template=unit(0, mix=0.2)),
        ImageVerdict("B", "B/1", Verdict.ENROLLED, template=unit(1)),
    ]
    return Watchlist.from_report("w", EnrolmentReport("fake-v1", 4, verdicts, ["A", "B", "C"]))


def test_every_face_gets_candidates_or_unknown(watchlist):
    ident = Identifier(watchlist, Threshold(0.9, "given"), top_k=2, index_kind="exact")
    # face 1 is A, face 2 is B with a little of C, face 3 is nobody listed (C)
    r = ident.identify_array(Engine(), image((0, 0), (1, 30), (2, 0)), "x.jpg")
    assert [f.subject for f in r.faces] == ["A", "B", None]
    assert r.faces[0].similarity == pytest.approx(1.0)
    assert 0.9 <= r.faces[1].similarity < 1.0
    assert r.faces[2].candidates == [] and r.faces[2].nearest is None
    assert r.faces[0].reasons == ("blurred",)
    js = r.to_json()
    assert js["faces"][2]["subject"] is None and "template" not in js["faces"][0]


def test_nearest_is_opt_in_and_below_threshold(watchlist):
    ident = Identifier(watchlist, Threshold(0.9, "given"), index_kind="exact")
    r = ident.identify_array(
        Engine(),
        image(
            (1, 90),
        ),
        "x.jpg",
        nearest=True,
    )
    (face,) = r.faces
    assert face.subject is None and face.nearest.subject == "B"
    assert face.nearest.similarity < 0.9


def test_no_face_and_unreadable(watchlist, tmp_path):
    ident = Identifier(watchlist, Threshold(0.9, "given"), index_kind="exact")
    assert ident.identify_array(Engine(), image(), "empty.jpg").faces == []
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"")
    (res,) = ident.identify_files(Engine(), [bad])
    assert "empty" in res.error and res.faces == []


def test_model_mismatch_and_empty(watchlist):
    ident = Identifier(watchlist, Threshold(0.9, "given"), index_kind="exact")
    engine = Engine()
    engine.model_id = "other-model"
    with pytest.raises(ConfigError, match="enrolled with model"):
        ident.identify_files(engine, [])
    with pytest.raises(ConfigError, match="top-k"):
        Identifier(watchlist, Threshold(0.9, "given"), top_k=0)
    empty = Watchlist.from_report("e", EnrolmentReport("fake-v1", 4, [], ["C"]))
    with pytest.raises(WatchlistError, match="no enrolled subject"):
        Identifier(empty, Threshold(0.9, "given"))


def test_comparison_threshold_from_calibration_else_fallback():
    from openlfr.errors import CalibrationError
    from openlfr.gallery.identify import comparison_threshold

    shipped = comparison_threshold("dlib-resnet-v1+flip")  # shipped calibration
    assert 0.9 < shipped < 0.95
    assert comparison_threshold("dlib-resnet-v1+flip", 1e-5) > shipped  # stricter FMR
    assert comparison_threshold("dlib-resnet-v1") == 0.93  # no calibration: documented
    with pytest.raises(CalibrationError):
        comparison_threshold("no-such-model")
