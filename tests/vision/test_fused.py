import json

import numpy as np
import pytest

from openlfr.errors import ConfigError
from openlfr.vision.backends import ChipSpec
from openlfr.vision.engine import FaceEngine
from openlfr.vision.face import Face
from openlfr.vision.fused import Component, FusedEmbedder, Fusion, resolve


class ChipSizeEmbedder:
    """Test double: its template says which chip size it was given and a seeded direction."""

    def __init__(self, model_id, dim, size, seed):
        self.model_id, self.dim = model_id, dim
        self.chip = ChipSpec(size, "dlib", 0.25)
        self.seen = []
        self.rng = np.random.default_rng(seed)

    def embed_chips(self, chips):
        self.seen.append([c.shape for c in chips])
        v = self.rng.normal(size=(len(chips), self.dim))
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def unit(rng, n, d):
    v = rng.normal(size=(n, d))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_fused_cosine_is_the_weighted_sum_of_component_cosines():
    a, b = ChipSizeEmbedder("m-a", 8, 50, 0), ChipSizeEmbedder("m-b", 16, 60, 1)
    fused = FusedEmbedder([a, b], [3.0, 1.0])  # weights are normalised to 0.75 / 0.25
    rng = np.random.default_rng(2)
    xa, xb, ya, yb = unit(rng, 5, 8), unit(rng, 5, 16), unit(rng, 5, 8), unit(rng, 5, 16)
    fx, fy = fused.combine([xa, xb]), fused.combine([ya, yb])
    assert fx.shape == (5, 24) and fx.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(fx, axis=1), 1.0, atol=1e-6)
    expected = 0.75 * (xa * ya).sum(1) + 0.25 * (xb * yb).sum(1)
    np.testing.assert_allclose((fx * fy).sum(1), expected, atol=1e-6)


def test_model_id_depends_on_models_and_weights():
    def make(w, name="m-b"):
        return FusedEmbedder(
            [ChipSizeEmbedder("m-a", 4, 50, 0), ChipSizeEmbedder(name, 4, 60, 1)], w
        ).model_id

    assert make([1, 1]) == make([2, 2])  # only relative weights matter
    assert make([1, 1]) != make([1, 2])
    assert make([1, 1]) != make([1, 1], "m-c")
    assert make([1, 1]).startswith("fused-")


def test_engine_cuts_each_component_its_own_chip():
    a, b = ChipSizeEmbedder("m-a", 4, 50, 0), ChipSizeEmbedder("m-b", 4, 80, 1)
    engine = FaceEngine(detector=None, embedder=FusedEmbedder([a, b], [1, 1]))
    image = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    lm = np.array([[120, 90], [110, 90], [80, 90], [90, 90], [100, 120]], dtype=float)
    faces = engine.embed(image, [Face((70, 60, 130, 140), 1.0, lm)] * 2)
    assert a.seen == [[(50, 50, 3)] * 2] and b.seen == [[(80, 80, 3)] * 2]
    assert len(faces) == 2 and faces[0].template.model_id == engine.model_id
    assert faces[0].template.vector.shape == (8,)


def test_bad_weights_and_files_are_config_errors(tmp_path):
    a, b = ChipSizeEmbedder("m-a", 4, 50, 0), ChipSizeEmbedder("m-b", 4, 60, 1)
    with pytest.raises(ConfigError):
        FusedEmbedder([a, b], [-1, 2])
    with pytest.raises(ConfigError):
        FusedEmbedder([a], [1])
    with pytest.raises(ConfigError):
        Fusion((Component("dlib-onnx", 1.0),))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read fusion"):
        Fusion.load(bad)
    bad.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ConfigError):
        Fusion.load(bad)
    with pytest.raises(ConfigError, match="no fusion"):
        resolve("no-such-fusion")


def test_fusion_round_trips_through_its_file(tmp_path):
    fusion = Fusion(
        (Component("dlib-onnx", 0.6), Component("faceres", 0.4, {"flip": True})),
        fitted_on="test",
        notes={"criterion": "x"},
    )
    again = resolve(str(fusion.save(tmp_path / "f.json")))
    assert again == fusion


def test_projected_component_is_reprojected_to_unit_and_changes_the_model_id():
    a, b = ChipSizeEmbedder("m-a", 8, 50, 0), ChipSizeEmbedder("m-b", 16, 60, 1)
    rng = np.random.default_rng(3)
    p = rng.normal(size=(4, 16)).astype(np.float32)
    plain = FusedEmbedder([a, b], [0.75, 0.25])
    fused = FusedEmbedder([a, b], [0.75, 0.25], projections=[None, p])
    assert fused.dim == 12 and fused.model_id != plain.model_id
    assert "~p4-" in fused.describe()
    xa, xb, ya, yb = unit(rng, 5, 8), unit(rng, 5, 16), unit(rng, 5, 8), unit(rng, 5, 16)
    fx, fy = fused.combine([xa, xb]), fused.combine([ya, yb])
    np.testing.assert_allclose(np.linalg.norm(fx, axis=1), 1.0, atol=1e-6)

    def proj(v):
        y = v @ p.T
        return y / np.linalg.norm(y, axis=1, keepdims=True)

    expected = 0.75 * (xa * ya).sum(1) + 0.25 * (proj(xb) * proj(yb)).sum(1)
    np.testing.assert_allclose((fx * fy).sum(1), expected, atol=1e-5)
    with pytest.raises(ConfigError, match="does not fit"):
        FusedEmbedder([a, b], [1, 1], projections=[None, p[:, :8]])


def test_projection_travels_beside_the_fusion_file_and_is_checked(tmp_path):
    p = np.random.default_rng(4).normal(size=(3, 6)).astype(np.float32)
    fusion = Fusion((Component("dlib-onnx", 0.8), Component("faceres", 0.2, {}, p)))
    path = fusion.save(tmp_path / "f.json")
    doc = json.loads(path.read_text())
    side = tmp_path / doc["components"][1]["projection"]["file"]
    assert side.is_file() and "projection" not in doc["components"][0]
    again = Fusion.load(path)
    np.testing.assert_array_equal(again.components[1].projection, p)
    assert again.components[0].projection is None
    np.save(side, p * 2)  # a changed matrix would silently change every template
    with pytest.raises(ConfigError, match="sha256"):
        Fusion.load(path)
    side.unlink()
    with pytest.raises(ConfigError, match="cannot read fusion"):
        Fusion.load(path)


def test_shipped_default_is_a_256_d_projected_fusion():
    fusion = resolve("default")
    projected = [c for c in fusion.components if c.projection is not None]
    assert len(projected) == 1 and projected[0].projection.shape == (128, 1024)
