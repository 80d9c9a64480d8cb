import numpy as np
import pytest

from openlfr import paths
from openlfr.evaluation.cache import (
    ImageResult,
    centre_box,
    embed_images,
    primary_face,
)
from openlfr.vision.face import Face


def test_results_are_cached_per_file_content(tmp_path, fake_engine, people_dir):
    images = sorted(people_dir.rglob("*.jpg"))
    first = embed_images(fake_engine, images, progress=False)
    calls = fake_engine.detector.calls
    assert calls == len(images)
    again = embed_images(fake_engine, images, progress=False)
    assert fake_engine.detector.calls == calls  # every image came from the cache
    assert [r.path for r in again] == images  # input order kept
    for a, b in zip(first, again, strict=True):
        assert len(a.faces) == len(b.faces)
        for fa, fb in zip(a.faces, b.faces, strict=True):
            np.testing.assert_allclose(fa.template.vector, fb.template.vector, rtol=1e-6)
            assert fb.template.model_id == "fake-colour-v1"
            assert fb.box == pytest.approx(fa.box) and fb.score == pytest.approx(fa.score)
            np.testing.assert_allclose(fb.landmarks, fa.landmarks, rtol=1e-5)
            assert fb.quality.reasons == ("blur",) and fb.quality.sharpness == 100.0
        assert b.shape == (40, 40)
    # One file per image, under the model's folder in the cache directory.
    stored = list((paths.cache_dir() / "embeddings" / "fake-colour-v1").rglob("*.npz"))
    assert len(stored) == len({p.read_bytes() for p in images})


def test_missed_and_unreadable_images_are_reported_not_dropped(tmp_path, fake_engine, people_dir):
    black = people_dir / "P3" / "P3_0002.jpg"
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    gone = tmp_path / "gone.jpg"
    results = embed_images(fake_engine, [black, broken, gone], progress=False)
    assert len(results) == 3
    assert results[0].missed and results[0].error is None
    assert results[1].error and "cannot read" in results[1].error
    assert results[2].error
    # The miss is cached too: a second run analyses nothing.
    calls = fake_engine.detector.calls
    embed_images(fake_engine, [black], progress=False)
    assert fake_engine.detector.calls == calls


def test_primary_face_is_the_most_central(tmp_path, fake_engine):
    from PIL import Image

    arr = np.full((40, 40, 3), 120, dtype=np.uint8)
    arr[:4, :4] = 255  # the fake detector then also reports a small corner face
    Image.fromarray(arr).save(tmp_path / "two.png")
    (r,) = embed_images(fake_engine, [tmp_path / "two.png"], progress=False)
    assert len(r.faces) == 2
    face = primary_face(r)
    assert face.box[0] == pytest.approx(10.0)  # the centred one, not the corner one
    assert primary_face(ImageResult(tmp_path / "x", [])) is None


def test_fallback_uses_landmarks_for_box_when_the_detector_offers_it(tmp_path, fake_engine):
    from PIL import Image

    placed = []

    def landmarks_for_box(image, box):
        placed.append(box)
        return Face(box, 0.0, np.zeros((5, 2)))

    fake_engine.detector.landmarks_for_box = landmarks_for_box
    Image.fromarray(np.zeros((100, 100, 3), dtype=np.uint8)).save(tmp_path / "dark.png")
    (r,) = embed_images(fake_engine, [tmp_path / "dark.png"], progress=False)
    assert r.missed and r.fallback is not None and r.fallback.template is not None
    assert placed == [centre_box((100, 100))]
    assert primary_face(r) is None  # the fallback is never taken for a detection


def test_workers_need_an_engine_spec(fake_engine, people_dir):
    with pytest.raises(ValueError):
        embed_images(fake_engine, list(people_dir.rglob("*.jpg")), workers=2, progress=False)


class OtherModelEngine:
    """The fake engine's detector with another embedder (a second model)."""

    model_id = "fake-grey-v1"

    def __init__(self, detector):
        self.detector = detector

    def embed(self, image, faces):
        from openlfr.vision.face import Template

        out = []
        for f in faces:
            v = np.array([image.mean() + 1.0, 10.0], dtype=np.float32)
            out.append(f.with_(template=Template(v / np.linalg.norm(v), self.model_id)))
        return out


def test_a_second_model_reuses_the_first_models_detections(fake_engine, people_dir):
    images = sorted(people_dir.rglob("*.jpg"))
    first = embed_images(fake_engine, images, progress=False)
    calls = fake_engine.detector.calls
    other = OtherModelEngine(fake_engine.detector)
    second = embed_images(other, images, progress=False)
    assert fake_engine.detector.calls == calls  # no detection ran again
    for a, b in zip(first, second, strict=True):
        assert [f.box for f in a.faces] == [f.box for f in b.faces]
        assert all(f.template.model_id == "fake-grey-v1" for f in b.faces)
        assert [f.quality.reasons for f in a.faces] == [f.quality.reasons for f in b.faces]
        assert a.missed == b.missed
