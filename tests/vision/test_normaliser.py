"""The template normaliser: fit, apply, identity of the normalised model, storage, wiring."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.errors import ConfigError
from openlfr.vision import normaliser as nm
from openlfr.vision.backends import ChipSpec
from openlfr.vision.normaliser import NormalisedEmbedder, Normaliser, resolve


def _templates(n=400, d=16, seed=0):
    rng = np.random.default_rng(seed)
    # A strong common component plus anisotropic noise: what dlib's templates look like.
    common = np.ones(d) * 2.0
    x = common + rng.normal(size=(n, d)) * np.linspace(2.0, 0.1, d)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_fit_centres_and_whitens():
    x = _templates()
    norm = Normaliser.fit("m", x)
    y = norm.apply(x)
    assert y.shape == x.shape and y.dtype == np.float32
    assert np.allclose(np.linalg.norm(y, axis=1), 1.0, atol=1e-5)
    # Raw templates all look alike (the common component); normalised ones do not.
    raw_cos = (x @ x.T)[np.triu_indices(len(x), 1)].mean()
    new_cos = (y @ y.T)[np.triu_indices(len(y), 1)].mean()
    assert raw_cos > 0.7 and abs(new_cos) < 0.05


def test_model_id_names_the_fit():
    a = Normaliser.fit("dlib-x", _templates(seed=1))
    b = Normaliser.fit("dlib-x", _templates(seed=2))
    assert a.model_id.startswith("dlib-x+wn-") and a.model_id != b.model_id


def test_too_few_faces_is_a_clear_error():
    with pytest.raises(ConfigError, match="at least"):
        Normaliser.fit("m", _templates(n=50))


def test_save_load_round_trip_and_corruption(tmp_path):
    norm = Normaliser.fit("m", _templates())
    path = norm.save(tmp_path / "n.json")
    back = Normaliser.load(path)
    assert back.model_id == norm.model_id
    assert np.array_equal(back.apply(_templates(seed=3)), norm.apply(_templates(seed=3)))
    path.write_text(path.read_text().replace('"mean": [', '"mean": [0.5, ', 1))
    with pytest.raises(ConfigError):
        Normaliser.load(path)
    (tmp_path / "bad.json").write_text("not json")
    with pytest.raises(ConfigError, match="cannot read"):
        Normaliser.load(tmp_path / "bad.json")


def test_resolve_auto_none_and_path(tmp_path):
    assert resolve("m", "auto") is None  # nothing fitted yet
    norm = Normaliser.fit("m", _templates())
    stored = norm.save()  # the data directory (a temp dir in tests)
    assert stored == nm.default_path("m")
    assert resolve("m", "auto").model_id == norm.model_id
    assert resolve("m", "none") is None
    with pytest.raises(ConfigError, match="fitted for model"):
        resolve("other", stored)


class _Base:
    model_id = "m"
    dim = 16
    chip = ChipSpec(8, "dlib")

    def embed_chips(self, chips):
        return _templates(n=len(chips), seed=4) if chips else np.zeros((0, 16), np.float32)


def test_normalised_embedder_wraps_a_base():
    norm = Normaliser.fit("m", _templates())
    emb = NormalisedEmbedder(_Base(), norm)
    assert emb.model_id == norm.model_id and emb.chip == _Base.chip
    out = emb.embed_chips([np.zeros((8, 8, 3), np.uint8)] * 3)
    assert np.allclose(out, norm.apply(_templates(n=3, seed=4)))
    assert emb.embed_chips([]).shape == (0, 16)
    with pytest.raises(ConfigError):
        NormalisedEmbedder(_Base(), Normaliser.fit("other", _templates()))


def test_engine_picks_up_a_stored_normaliser():
    from openlfr.vision.engine import FaceEngine

    base = FaceEngine.from_backend("dlib-onnx")
    assert base.model_id == "dlib-resnet-v1+flip"
    rng = np.random.default_rng(0)
    norm = Normaliser.fit(base.model_id, rng.normal(size=(300, 128)).astype(np.float32))
    norm.save()
    engine = FaceEngine.from_backend("dlib-onnx")
    assert engine.model_id == norm.model_id
    assert engine.base_engine.model_id == base.model_id
    assert FaceEngine.from_backend("dlib-onnx", normaliser="none").model_id == base.model_id
