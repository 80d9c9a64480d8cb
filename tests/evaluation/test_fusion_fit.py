import numpy as np
import pytest

from openlfr.errors import ConfigError
from openlfr.evaluation.datasets import read_people_list
from openlfr.evaluation.fusion_fit import fit_fusion, fit_projection, weight_grid
from openlfr.vision import backends
from openlfr.vision.backends import ChipSpec
from openlfr.vision.fused import Component

from .conftest import PALETTE, FakeDetector, write_image


class ColourEmbedder:
    """Test double: a chip's mean colour (informative) or a random vector (noise)."""

    chip = ChipSpec(20, "dlib", 0.25)
    dim = 4

    def __init__(self, model_id, informative):
        self.model_id, self.informative = model_id, informative
        self.rng = np.random.default_rng(0)

    def embed_chips(self, chips):
        if self.informative:
            v = np.array([np.r_[c.reshape(-1, 3).mean(0) + 1, 40.0] for c in chips])
        else:
            v = self.rng.normal(size=(len(chips), 4))
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def fake_backends(monkeypatch):
    monkeypatch.setattr(backends, "_load_builtin", lambda: None)
    for name, informative in (("fake-good", True), ("fake-noise", False)):
        backends.register(
            backends.Backend(
                name,
                make_detector=lambda **_: FakeDetector(),
                make_embedder=lambda _i=informative, _n=name, **__: ColourEmbedder(_n, _i),
            )
        )
    yield
    for name in ("fake-good", "fake-noise"):
        backends._REGISTRY.pop(name, None)


def _colour_faces(tmp_path):
    """10 enrolled people with 3 images each (a colour apiece), 30 strangers."""
    faces = tmp_path / "faces"
    rng = np.random.default_rng(1)
    for i in range(40):
        base = PALETTE[i % len(PALETTE)] if i < 10 else tuple(rng.integers(20, 235, 3))
        for k in range(3 if i < 10 else 1):
            c = tuple(int(v) + (i // 10) * 7 + k for v in base)
            write_image(faces / f"P{i:02d}" / f"{k}.jpg", c)
    return faces


def test_weight_grid_covers_the_simplex():
    grid = weight_grid(2, 0.25)
    assert grid == [(0.0, 1.0), (0.25, 0.75), (0.5, 0.5), (0.75, 0.25), (1.0, 0.0)]
    three = weight_grid(3, 0.5)
    assert all(abs(sum(w) - 1) < 1e-9 for w in three) and len(three) == 6


def test_fit_puts_the_weight_on_the_informative_model(tmp_path, fake_backends):
    faces = _colour_faces(tmp_path)
    fit = fit_fusion(
        [Component("fake-noise", 0.5), Component("fake-good", 0.5)],
        faces,
        step=0.25,
        levels=(0.1,),
        progress=False,
    )
    weights = [c.weight for c in fit.fusion.components]
    assert weights[1] >= 0.75  # the colour model carries the decision
    assert fit.people == 10 and fit.searches == {"mated": 20, "nonmated": 30}
    assert len(fit.trials) == 5 and fit.score == max(t["criterion"] for t in fit.trials)


def test_fit_needs_enough_strangers_for_its_levels(tmp_path, fake_backends):
    faces = tmp_path / "faces"
    for i in range(3):
        for k in range(2):
            write_image(faces / f"P{i}" / f"{k}.jpg", PALETTE[i])
    write_image(faces / "S" / "0.jpg", PALETTE[5])
    with pytest.raises(ConfigError, match="non-mated searches"):
        fit_fusion([Component("fake-noise", 1), Component("fake-good", 1)], faces, progress=False)


def test_people_list_reads_lfw_and_plain_files(tmp_path):
    lfw = tmp_path / "people.txt"
    lfw.write_text("2\nAaron_Eckhart\t1\nAbba_Eban\t2\n")
    assert read_people_list(lfw) == {"Aaron_Eckhart", "Abba_Eban"}
    with pytest.raises(ConfigError):
        read_people_list(tmp_path / "missing.txt")


def test_projection_keeps_the_top_principal_axes():
    rng = np.random.default_rng(5)
    # Variance mostly along two axes of 6: a 2-d projection keeps them.
    x = rng.normal(size=(500, 6)) * np.array([5.0, 3.0, 0.1, 0.1, 0.1, 0.1])
    p = fit_projection(x, 2)
    assert p.shape == (2, 6) and p.dtype == np.float32
    np.testing.assert_allclose(np.abs(p[:, :2]).sum(1), 1.0, atol=0.02)
    with pytest.raises(ConfigError):
        fit_projection(x, 6)
    with pytest.raises(ConfigError):
        fit_projection(x[:1], 2)


def test_fit_with_a_projection_stores_it_in_the_fusion(tmp_path, fake_backends):
    faces = _colour_faces(tmp_path)
    fit = fit_fusion(
        [Component("fake-noise", 1), Component("fake-good", 1)],
        faces,
        step=0.5,
        levels=(0.1,),
        project={0: 2},
        progress=False,
    )
    noise, good = fit.fusion.components
    assert noise.projection.shape == (2, 4) and good.projection is None
    assert "~p2-" in fit.fusion.notes["models"][0]
