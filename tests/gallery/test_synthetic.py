"""The synthetic templates have the geometry they claim (isotropic, and face-like)."""

from __future__ import annotations

import numpy as np

from openlfr.gallery import synthetic


def _scores(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mated = (t[:, 0] * t[:, 1]).sum(axis=1)
    nonmated = (t[:-1, 0] * t[1:, 1]).sum(axis=1)
    return mated, nonmated


def test_isotropic_mates_and_impostors():
    t = synthetic.templates(synthetic.identities(2000, 128, seed=1), 2, seed=2)
    mated, nonmated = _scores(t)
    assert np.allclose(np.linalg.norm(t, axis=-1), 1.0, atol=1e-5)
    assert abs(mated.mean() - 0.7) < 0.03 and abs(nonmated.mean()) < 0.05


def test_face_model_matches_real_dlib_statistics():
    # Targets measured on dlib templates of LFW (see synthetic.py): impostors 0.84 +- 0.035,
    # mates 0.96 +- 0.02, participation ratio ~31 (low intrinsic dimension).
    model = synthetic.FaceModel()
    t = model.templates(model.identities(3000, seed=1), 2, seed=2)
    mated, nonmated = _scores(t)
    assert np.allclose(np.linalg.norm(t, axis=-1), 1.0, atol=1e-5)
    assert abs(nonmated.mean() - 0.84) < 0.03 and 0.02 < nonmated.std() < 0.06
    assert abs(mated.mean() - 0.957) < 0.02 and mated.std() < 0.04
    x = t[:, 0] - t[:, 0].mean(axis=0)
    ev = np.linalg.eigvalsh(np.cov(x.T))
    ratio = ev.sum() ** 2 / (ev**2).sum()
    assert 20 < ratio < 45  # isotropic templates give ~100


def test_face_model_is_reproducible_and_any_dimension():
    a = synthetic.FaceModel(dim=384, seed=3)
    ids = a.identities(50, seed=4)
    assert ids.shape == (50, 384)
    assert np.array_equal(a.templates(ids, 2, seed=5), a.templates(ids, 2, seed=5))


def test_fused_face_model_is_two_weighted_unit_blocks():
    # 256-d: a dlib-like block (weight 0.85) beside a second model's (0.15), each unit and
    # scaled by sqrt(weight), so cosine = 0.85 cos_dlib + 0.15 cos_second
    model = synthetic.face_model(256)
    assert isinstance(model, synthetic.FusedFaceModel) and model.dim == 256
    assert isinstance(synthetic.face_model(128), synthetic.FaceModel)
    ids = model.identities(600, seed=3)
    t = model.templates(ids, 2, seed=4)
    assert t.shape == (600, 2, 256)
    assert np.allclose(np.linalg.norm(t, axis=-1), 1.0, atol=1e-5)
    assert np.allclose(np.linalg.norm(t[..., :128], axis=-1) ** 2, 0.85, atol=1e-5)
    mates = (t[:, 0] * t[:, 1]).sum(axis=1)
    impostors = (t[:, 0] @ t[:, 0].T)[np.triu_indices(600, 1)]
    # the real fused model: impostors ~0.80, mates ~0.93
    assert 0.77 < impostors.mean() < 0.83 and 0.91 < mates.mean() < 0.95
