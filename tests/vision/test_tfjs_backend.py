"""`faceres` and `mobileface`: TF.js face networks on ONNX Runtime behind dlib-onnx's detector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openlfr.errors import ConfigError
from openlfr.vision import align
from openlfr.vision.backends import get_backend
from openlfr.vision.engine import FaceEngine
from openlfr.vision.image import load_image
from openlfr.vision.tfjs_backend import FaceresEmbedder, MobilefaceEmbedder

pytestmark = pytest.mark.data

# Two photos each of two people, and one of a third.
PEOPLE = {
    "Colin_Powell": (1, 2),
    "Tony_Blair": (1, 2),
    "Serena_Williams": (1,),
}


def _images(root: Path) -> dict[tuple[str, int], np.ndarray]:
    return {
        (name, i): load_image(root / "lfw" / name / f"{name}_{i:04d}.jpg")
        for name, numbers in PEOPLE.items()
        for i in numbers
    }


@pytest.mark.parametrize(
    ("backend", "cls", "dim"),
    [("faceres", FaceresEmbedder, 1024), ("mobileface", MobilefaceEmbedder, 256)],
)
def test_same_person_scores_above_different_people(
    backend, cls, dim, shared_data: Path, human_models_dir: Path
) -> None:
    engine = FaceEngine.from_backend(backend, normaliser="none", device="cpu", threads=1)
    assert isinstance(engine.embedder, cls)
    assert engine.model_id == {"faceres": "faceres-v1", "mobileface": "mobileface-v1+flip"}[backend]
    assert engine.embedder.provider == "CPUExecutionProvider"
    templates = {}
    for key, image in _images(shared_data).items():
        faces = engine.analyse(image)
        assert faces, key
        vector = faces[0].template.vector
        assert vector.shape == (dim,) and abs(np.linalg.norm(vector) - 1) < 1e-5
        templates[key] = faces[0].template
    same = [templates[(n, 1)].similarity(templates[(n, 2)]) for n in ("Colin_Powell", "Tony_Blair")]
    keys = list(templates)
    different = [templates[a].similarity(templates[b]) for a in keys for b in keys if a[0] < b[0]]
    assert min(same) > max(different)


def test_detector_is_dlib_onnxs(shared_data: Path) -> None:
    image = load_image(shared_data / "lfw" / "Tony_Blair" / "Tony_Blair_0001.jpg")
    reference = get_backend("dlib-onnx").make_detector().detect(image)
    for name in ("faceres", "mobileface"):
        faces = get_backend(name).make_detector().detect(image)
        assert [f.box for f in faces] == [f.box for f in reference]
        for a, b in zip(faces, reference, strict=True):
            np.testing.assert_array_equal(a.landmarks, b.landmarks)


def test_faceres_chip_is_dlibs_own(shared_data: Path) -> None:
    import dlib

    detector = get_backend("faceres").make_detector()
    for name in ("Tony_Blair_0001", "Colin_Powell_0002"):
        image = load_image(shared_data / "lfw" / name[:-5] / f"{name}.jpg")
        face = detector.detect(image)[0]
        x1, y1, x2, y2 = (int(round(v)) for v in face.box)
        parts = [dlib.point(int(round(x)), int(round(y))) for x, y in face.landmarks]
        shape = dlib.full_object_detection(dlib.rectangle(x1, y1, x2 - 1, y2 - 1), parts)
        expected = dlib.get_face_chip(image, shape, 224, 0.5)
        np.testing.assert_array_equal(align.chip(image, face, FaceresEmbedder.chip), expected)


def test_flip_batches_and_bad_options(human_models_dir: Path) -> None:
    rng = np.random.default_rng(0)
    chips = list(rng.integers(0, 256, (5, 112, 112, 3), dtype=np.uint8))
    plain = MobilefaceEmbedder(device="cpu", batch_size=2)
    one_batch = MobilefaceEmbedder(device="cpu", batch_size=64)
    np.testing.assert_allclose(plain.embed_chips(chips), one_batch.embed_chips(chips), atol=1e-5)
    flipped = MobilefaceEmbedder(flip=True, device="cpu")
    assert flipped.model_id == "mobileface-v1+flip"
    mirrored = [np.ascontiguousarray(c[:, ::-1]) for c in chips]
    # Flip averaging makes a chip and its mirror image one template.
    np.testing.assert_allclose(flipped.embed_chips(chips), flipped.embed_chips(mirrored), atol=1e-5)
    assert plain.embed_chips([]).shape == (0, 256)
    with pytest.raises(ValueError, match="112x112x3"):
        plain.embed_chips([np.zeros((100, 100, 3), np.uint8)])
    with pytest.raises(ConfigError):
        MobilefaceEmbedder(batch_size=0)
    with pytest.raises(ConfigError):
        get_backend("faceres").make_embedder(jitter=5)
