"""`dlib-onnx`: dlib's ResNet converted to ONNX gives dlib's own descriptors on LFW faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openlfr.errors import ConfigError
from openlfr.vision import align
from openlfr.vision.backends import get_backend
from openlfr.vision.dlib_backend import CHIP, DlibDetector, DlibEmbedder, recognition_model
from openlfr.vision.dlib_onnx_backend import DlibOnnxEmbedder
from openlfr.vision.engine import FaceEngine
from openlfr.vision.image import load_image

pytestmark = pytest.mark.data

N_IMAGES = 50


@pytest.fixture(scope="module")
def chips(shared_data: Path) -> np.ndarray:
    """dlib chips of the first face in 50 LFW images spread over the alphabet."""
    files = sorted((shared_data / "lfw").glob("*/*.jpg"))
    step = len(files) // N_IMAGES
    detector = DlibDetector()
    out = []
    for path in files[::step][:N_IMAGES]:
        image = load_image(path)
        faces = detector.detect(image)
        if faces:
            out.append(align.chip(image, faces[0], CHIP))
    assert len(out) >= 40
    return np.stack(out)


@pytest.fixture(scope="module")
def embedder() -> DlibOnnxEmbedder:
    return DlibOnnxEmbedder(device="cpu", batch_size=16)


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def test_descriptors_equal_dlibs_own(chips: np.ndarray, embedder: DlibOnnxEmbedder) -> None:
    reference = np.array(
        [np.asarray(v) for v in recognition_model().compute_face_descriptor(list(chips), 0)]
    )
    raw = embedder.session.run(None, {"chips": chips})[0]
    # Not only the direction: the unnormalised vectors are dlib's too.
    np.testing.assert_allclose(raw, reference, atol=1e-4)
    templates = embedder.embed_chips(list(chips))
    assert templates.dtype == np.float32 and templates.shape == (len(chips), 128)
    np.testing.assert_allclose(np.linalg.norm(templates, axis=1), 1.0, atol=1e-5)
    assert _cosine(templates, reference).min() >= 0.9999


def test_flip_matches_dlib_flip(chips: np.ndarray) -> None:
    ours = DlibOnnxEmbedder(flip=True, device="cpu")
    theirs = DlibEmbedder(flip=True)
    assert ours.model_id == theirs.model_id == "dlib-resnet-v1+flip"
    assert (
        _cosine(ours.embed_chips(list(chips[:8])), theirs.embed_chips(list(chips[:8]))).min()
        >= 0.9999
    )


def test_batching_does_not_change_templates(chips: np.ndarray, embedder: DlibOnnxEmbedder) -> None:
    whole = embedder.embed_chips(list(chips))
    one_by_one = DlibOnnxEmbedder(device="cpu", batch_size=1).embed_chips(list(chips[:5]))
    np.testing.assert_allclose(one_by_one, whole[:5], atol=1e-5)
    assert embedder.embed_chips([]).shape == (0, 128)


def test_it_shares_dlibs_model_id_and_chip(embedder: DlibOnnxEmbedder) -> None:
    # Same templates, same model: galleries and calibrations made with `dlib` still apply.
    assert embedder.model_id == DlibEmbedder().model_id == "dlib-resnet-v1"
    assert embedder.chip == CHIP and embedder.dim == 128
    assert embedder.provider == "CPUExecutionProvider"


def test_bad_chips_and_options_are_refused(embedder: DlibOnnxEmbedder) -> None:
    with pytest.raises(ValueError, match="150x150x3"):
        embedder.embed_chips([np.zeros((100, 100, 3), np.uint8)])
    with pytest.raises(TypeError):
        embedder.embed_chips([np.zeros((150, 150, 3), np.float32)])
    with pytest.raises(ConfigError, match="jitter"):
        get_backend("dlib-onnx").make_embedder(jitter=5)
    with pytest.raises(ConfigError, match="batch_size"):
        DlibOnnxEmbedder(batch_size=0)


def test_engine_templates_compare_with_the_dlib_engine(shared_data: Path) -> None:
    image = load_image(shared_data / "lfw" / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg")
    ours = FaceEngine.from_backend("dlib-onnx", device="cpu").analyse(image)
    theirs = FaceEngine.from_backend("dlib", flip=True).analyse(image)
    assert len(ours) == len(theirs) == 1
    assert ours[0].box == theirs[0].box
    assert ours[0].template.similarity(theirs[0].template) >= 0.9999
