"""ONNX backend plumbing, checked against tiny ONNX models built by the tests themselves."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from openlfr.errors import ConfigError, ImageError, ModelMismatchError, ModelNotFoundError
from openlfr.vision import onnx_backend
from openlfr.vision.backends import ChipSpec, Detector, Embedder
from openlfr.vision.face import INSIGHTFACE5, Template
from openlfr.vision.onnx_backend import (
    CPU,
    CUDA,
    OnnxDetector,
    OnnxEmbedder,
    choose_providers,
    find_models,
    first_node_names,
    make_detector,
    make_embedder,
)


def _load_fixtures():
    # Tests run in importlib mode without packages, so load the sibling builder module by path.
    path = Path(__file__).with_name("onnx_fixtures.py")
    spec = importlib.util.spec_from_file_location("onnx_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fx = _load_fixtures()

# Two red blocks, each exactly one stride-8 cell of the 128x128 model input once the
# 256x192 image is letterboxed at scale 0.5. (x, y) of the block's top-left, red value.
BLOCKS = [((64, 32), 200), ((192, 128), 250)]
SCALE = 0.5


def image_with_blocks(blocks=BLOCKS, size=(256, 192), cell=16) -> np.ndarray:
    width, height = size
    image = np.zeros((height, width, 3), dtype=np.uint8)
    for (x, y), red in blocks:
        image[y : y + cell, x : x + cell, 0] = red
    return image


def expected_face(top_left, scale=SCALE, anchor=0, stride=8):
    """Box and landmarks (image pixels) the fake SCRFD's anchor gives for a block there."""
    centre = np.array(top_left, dtype=np.float64) * scale  # the cell's anchor point
    left, top, right, bottom = fx.BOX_DIST[anchor] * stride
    box = np.array([centre[0] - left, centre[1] - top, centre[0] + right, centre[1] + bottom])
    kps = centre + fx.KPS_DIST[anchor].reshape(5, 2) * stride
    return box / scale, kps / scale


@pytest.fixture
def pack(tmp_path) -> Path:
    return fx.model_pack(tmp_path / "pack")


# --- finding models --------------------------------------------------------------------


def test_detector_and_recogniser_are_told_apart_by_their_graphs(pack):
    found = find_models(pack)
    assert found.detector.name == "m2.onnx"
    assert found.recogniser.name == "m4.onnx"
    # The 192px landmark model (one 2-d output) and the 96px attribute model are neither.
    assert sorted(p.name for p in found.others) == ["m1.onnx", "m3.onnx"]


def test_models_option_is_required():
    with pytest.raises(ConfigError, match="--models"):
        make_detector()
    with pytest.raises(ConfigError, match="--models"):
        make_embedder(models=None, threshold=0.3)


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_models_must_be_an_existing_directory(tmp_path, kind):
    target = tmp_path / "models"
    if kind == "file":
        target.write_text("not a directory")
    with pytest.raises(ModelNotFoundError, match=str(target)):
        make_detector(models=target)


def test_empty_directory_is_refused(tmp_path):
    (tmp_path / "readme.txt").write_text("no models here")
    with pytest.raises(ModelNotFoundError, match=r"no \.onnx files"):
        make_embedder(models=tmp_path)


def test_directory_without_a_recogniser_is_refused(tmp_path):
    fx.scrfd_model(tmp_path / "det_10g.onnx")
    fx.other_model(tmp_path / "2d106det.onnx", size=192, out_dim=212)
    with pytest.raises(ModelNotFoundError, match="no face recogniser"):
        make_detector(models=tmp_path)


def test_directory_without_a_detector_is_refused(tmp_path):
    fx.arcface_model(tmp_path / "w600k_r50.onnx")
    # A file named like a detector but shaped like an attribute model does not count.
    fx.other_model(tmp_path / "det_10g.onnx", size=96, out_dim=3)
    with pytest.raises(ModelNotFoundError, match="no face detector"):
        make_embedder(models=tmp_path)


def test_a_file_that_is_not_onnx_is_named(pack):
    (pack / "broken.onnx").write_bytes(b"\x08\x07 definitely not a protobuf graph" * 10)
    with pytest.raises(ModelNotFoundError, match=r"broken\.onnx is not a usable ONNX model"):
        find_models(pack)


def test_two_recognisers_are_ambiguous(pack):
    fx.arcface_model(pack / "glintr100.onnx", seed=3)
    with pytest.raises(ModelNotFoundError, match=r"several face recognisers.*glintr100\.onnx"):
        find_models(pack)


def test_detector_and_embedder_share_one_session_per_file(pack):
    first, second = make_embedder(models=pack), make_embedder(models=str(pack))
    assert first.session is second.session
    assert make_detector(models=pack).session is make_detector(models=pack).session


# --- providers ---------------------------------------------------------------------------


def test_cuda_comes_first_when_onnxruntime_offers_it(monkeypatch):
    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, CPU])
    assert choose_providers() == [CUDA, CPU]
    assert choose_providers("cuda") == [CUDA, CPU]
    assert choose_providers("cpu") == [CPU]


def test_cpu_only_runtime(monkeypatch):
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["AzureExecutionProvider", CPU])
    assert choose_providers() == [CPU]
    with pytest.raises(ConfigError, match="onnxruntime-gpu"):
        choose_providers("cuda")
    with pytest.raises(ConfigError, match="unknown device"):
        choose_providers("tpu")


def test_the_provider_used_is_reported_and_logged(pack, caplog):
    with caplog.at_level(logging.INFO, logger="openlfr.vision.onnx_backend"):
        detector = make_detector(models=pack, device="cpu", threads=1)
        embedder = make_embedder(models=pack, device="cpu", threads=1)
    assert detector.provider == embedder.provider == CPU
    assert f"ONNX detector m2.onnx on {CPU}" in caplog.text
    assert f"ONNX embedder m4.onnx ({embedder.model_id}) on {CPU}" in caplog.text


def test_negative_thread_count_is_refused(pack):
    with pytest.raises(ConfigError, match="threads"):
        make_detector(models=pack, threads=-1)


# --- detector -----------------------------------------------------------------------------


VARIANTS = {
    "fixed-input": {},
    "dynamic-input": {"input_size": None},
    "no-batch-axis": {"batched": False},
    "outputs-reordered": {"shuffle": True},
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_known_faces_are_found_where_they_are(tmp_path, variant):
    pack = fx.model_pack(tmp_path, decoys=False, **VARIANTS[variant])
    detector = make_detector(models=pack, det_size=128)  # used only by the dynamic model
    assert isinstance(detector, Detector)
    assert detector.input_size == (128, 128)
    faces = detector.detect(image_with_blocks())
    assert len(faces) == 2  # anchor 1 of each block is suppressed by NMS
    # Best score first; the score is the block's red value / 255, which holds only if the
    # input was normalised as (x - 127.5) / 128 in RGB order.
    for face, ((top_left, red)) in zip(faces, sorted(BLOCKS, key=lambda b: -b[1]), strict=True):
        box, kps = expected_face(top_left)
        assert face.scheme == INSIGHTFACE5
        assert face.score == pytest.approx(red / 255, abs=1e-4)
        np.testing.assert_allclose(face.box, box, atol=1e-3)
        np.testing.assert_allclose(face.landmarks, kps, atol=1e-3)


def test_portrait_images_are_letterboxed_the_other_way(pack):
    # 192 wide, 256 tall: height fills the model input, scale 0.5, padding on the right.
    blocks = [((32, 64), 220), ((160, 224), 240)]
    faces = make_detector(models=pack).detect(image_with_blocks(blocks, size=(192, 256)))
    assert len(faces) == 2
    for face, (top_left, red) in zip(faces, sorted(blocks, key=lambda b: -b[1]), strict=True):
        box, kps = expected_face(top_left)
        assert face.score == pytest.approx(red / 255, abs=1e-4)
        np.testing.assert_allclose(face.box, np.clip(box, 0, [192, 256, 192, 256]), atol=1e-3)
        np.testing.assert_allclose(face.landmarks, kps, atol=1e-3)


def test_boxes_are_clipped_to_the_image(pack):
    # A block in the top-left corner: anchor (0, 0) gives a box reaching above and left.
    face = make_detector(models=pack).detect(image_with_blocks([((0, 0), 255)]))[0]
    box, _ = expected_face((0, 0))
    assert box[0] < 0 and box[1] < 0
    assert face.box == pytest.approx((0.0, 0.0, box[2], box[3]))


def test_a_looser_nms_threshold_keeps_the_overlapping_anchor(pack):
    # The two anchors' boxes overlap with IoU ~0.64 (+1 pixel convention): 0.4 merges them,
    # 0.7 does not.
    faces = make_detector(models=pack, nms_threshold=0.7).detect(image_with_blocks())
    assert len(faces) == 4
    inner = [f for f in faces if f.score == pytest.approx(0.9 * 250 / 255, abs=1e-4)]
    assert len(inner) == 1
    box, _ = expected_face(BLOCKS[1][0], anchor=1)
    np.testing.assert_allclose(inner[0].box, box, atol=1e-3)


def test_score_threshold(pack):
    faint = image_with_blocks([((64, 32), 100)])  # score 100/255 = 0.39
    assert make_detector(models=pack).detect(faint) == []
    faces = make_detector(models=pack, det_threshold=0.3).detect(faint)
    assert [round(f.score, 3) for f in faces] == [round(100 / 255, 3)]


def test_no_face_in_a_blank_image(pack):
    assert make_detector(models=pack).detect(np.zeros((50, 70, 3), np.uint8)) == []


def test_detector_without_keypoint_outputs(tmp_path):
    pack = fx.model_pack(tmp_path, decoys=False, with_kps=False)
    faces = make_detector(models=pack).detect(image_with_blocks())
    assert len(faces) == 2
    assert all(f.landmarks is None for f in faces)
    np.testing.assert_allclose(faces[1].box, expected_face(BLOCKS[0][0])[0], atol=1e-3)


def test_input_size(tmp_path):
    dynamic = fx.model_pack(tmp_path / "dynamic", decoys=False, input_size=None)
    assert make_detector(models=dynamic).input_size == (640, 640)
    assert make_detector(models=dynamic, det_size=(320, 256)).input_size == (320, 256)
    with pytest.raises(ConfigError, match="multiple of 32"):
        make_detector(models=dynamic, det_size=100)
    fixed = fx.model_pack(tmp_path / "fixed", decoys=False)
    assert make_detector(models=fixed, det_size=640).input_size == (128, 128)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((20, 20), np.uint8),
        np.zeros((20, 20, 4), np.uint8),
        np.zeros((20, 20, 3), np.float32),
        np.zeros((0, 20, 3), np.uint8),
    ],
    ids=["grey", "rgba", "float", "empty"],
)
def test_detect_refuses_what_is_not_an_rgb_image(pack, image):
    with pytest.raises(ImageError, match="RGB uint8"):
        make_detector(models=pack).detect(image)


# --- embedder -----------------------------------------------------------------------------


def random_chips(n: int, seed: int = 1, size: int = 112) -> np.ndarray:
    """Chips whose quadrants differ in level per channel, plus noise, so means vary widely."""
    rng = np.random.default_rng(seed)
    levels = rng.uniform(20, 235, (n, 2, 2, 3))
    base = levels.repeat(size // 2, axis=1).repeat(size // 2, axis=2)
    return np.clip(base + rng.normal(0, 15, base.shape), 0, 255).astype(np.uint8)


def test_embeddings_match_numpy(pack):
    embedder = make_embedder(models=pack)
    assert isinstance(embedder, Embedder)
    assert embedder.chip == ChipSpec(112, "arcface")
    assert embedder.dim == 512
    assert (embedder.input_mean, embedder.input_std) == (127.5, 127.5)
    chips = random_chips(5)
    vectors = embedder.embed_chips(list(chips))
    assert vectors.shape == (5, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors, fx.arcface_reference(chips), atol=1e-5)
    # The reference really depends on the normalisation: a wrong mean or std would show.
    assert np.abs(fx.arcface_reference(chips, mean=0.0) - vectors).max() > 1e-2
    assert np.abs(fx.arcface_reference(chips, std=1.0) - vectors).max() > 1e-2


def test_explicit_normalisation_options(pack):
    chips = random_chips(2)
    embedder = make_embedder(models=pack, input_mean=100.0, input_std=50.0)
    expected = fx.arcface_reference(chips, mean=100.0, std=50.0)
    np.testing.assert_allclose(embedder.embed_chips(chips), expected, atol=1e-5)


def test_mxnet_models_that_normalise_in_graph_get_raw_pixels(tmp_path):
    path = fx.arcface_model(tmp_path / "old.onnx", in_graph_norm=True)
    embedder = OnnxEmbedder(path)
    assert (embedder.input_mean, embedder.input_std) == (0.0, 1.0)
    chips = random_chips(3)
    # The graph computes (x - 127.5) / 128 itself.
    expected = fx.arcface_reference(chips, mean=127.5, std=128.0)
    np.testing.assert_allclose(embedder.embed_chips(chips), expected, atol=1e-5)


def test_first_node_names_reads_the_graph_without_onnx(tmp_path):
    path = fx.arcface_model(tmp_path / "old.onnx", in_graph_norm=True)
    names = [n.name for n in onnx.load(str(path)).graph.node]
    assert first_node_names(path.read_bytes()) == names[:8]
    assert first_node_names(path.read_bytes())[:2] == ["_minusscalar0", "_mulscalar0"]
    assert first_node_names(b"\xff\xff") == []


@pytest.mark.parametrize("batch_size", [1, 2, 32])
def test_batching_gives_the_same_vectors(pack, batch_size):
    chips = random_chips(5, seed=7)
    expected = fx.arcface_reference(chips)
    embedder = make_embedder(models=pack, batch_size=batch_size)
    np.testing.assert_allclose(embedder.embed_chips(chips), expected, atol=1e-5)


def test_a_fixed_batch_model_is_run_one_chip_at_a_time(tmp_path):
    embedder = OnnxEmbedder(fx.arcface_model(tmp_path / "b1.onnx", dynamic_batch=False))
    assert embedder.fixed_batch and embedder.run_batch == 1
    chips = random_chips(3, seed=2)
    np.testing.assert_allclose(embedder.embed_chips(chips), fx.arcface_reference(chips), atol=1e-5)


def test_no_chips_no_vectors(pack):
    out = make_embedder(models=pack).embed_chips([])
    assert out.shape == (0, 512) and out.dtype == np.float32


def test_chips_of_the_wrong_size_are_refused(pack):
    with pytest.raises(ValueError, match=r"\(112, 112, 3\)"):
        make_embedder(models=pack).embed_chips([np.zeros((150, 150, 3), np.uint8)])


def test_model_id_is_file_name_and_content_hash(tmp_path, pack):
    embedder = make_embedder(models=pack)
    digest = hashlib.sha256((pack / "m4.onnx").read_bytes()).hexdigest()[:8]
    assert embedder.model_id == f"onnx-m4-{digest}"
    # The same file elsewhere is the same model; other weights under the same name are not.
    copy = tmp_path / "copy"
    shutil.copytree(pack, copy)
    assert make_embedder(models=copy).model_id == embedder.model_id
    other = fx.model_pack(tmp_path / "other", decoys=False)
    fx.arcface_model(other / "m4.onnx", seed=9)
    other_embedder = make_embedder(models=other)
    assert other_embedder.model_id != embedder.model_id
    chip = random_chips(1)
    a = Template(embedder.embed_chips(chip)[0], embedder.model_id)
    b = Template(other_embedder.embed_chips(chip)[0], other_embedder.model_id)
    with pytest.raises(ModelMismatchError):
        a.similarity(b)


# --- registry and end to end -----------------------------------------------------------


def test_backend_is_registered():
    from openlfr.vision.backends import get_backend

    backend = get_backend("onnx")
    assert backend is onnx_backend.BACKEND
    assert backend.make_detector is make_detector and backend.make_embedder is make_embedder


def test_face_engine_runs_the_onnx_backend_end_to_end(pack):
    from openlfr.vision import align
    from openlfr.vision.engine import FaceEngine

    # Options meant for one stage are ignored by the other's factory.
    engine = FaceEngine.from_backend("onnx", models=pack, threads=1, det_threshold=0.5)
    assert isinstance(engine.detector, OnnxDetector)
    image = image_with_blocks()
    faces = engine.analyse(image)
    assert len(faces) == 2
    chips = np.asarray([align.chip(image, f, engine.embedder.chip) for f in faces])
    assert chips.shape == (2, 112, 112, 3)
    expected = fx.arcface_reference(chips)
    for face, vector in zip(faces, expected, strict=True):
        assert face.template.model_id == engine.model_id
        np.testing.assert_allclose(face.template.vector, vector, atol=1e-5)
