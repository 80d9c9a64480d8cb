"""Synthetic but face-like templates, for tests and bench/search.py (never for decisions).

Identities are unit vectors grouped in clusters (like demographic groups: impostors of the
same cluster score higher than others); each template of an identity is a noisy copy of it
at a chosen angle, so two templates of one identity have cosine ~ `mate_similarity` and
nearest-neighbour recall is meaningful.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _blend(base: np.ndarray, cos: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors at cosine ~`cos` to each row of `base` (random directions, high dim)."""
    noise = _unit(rng.standard_normal(base.shape, dtype=np.float32))
    noise = _unit(noise - (noise * base).sum(axis=1, keepdims=True) * base)  # orthogonal part
    return _unit(cos * base + np.sqrt(max(0.0, 1.0 - cos * cos)) * noise)


def identities(
    n: int,
    dim: int = 128,
    *,
    n_clusters: int | None = None,
    cluster_similarity: float = 0.25,
    seed: int = 0,
) -> np.ndarray:
    """(n, dim) identity vectors; two identities of one cluster have cosine ~cluster_similarity."""
    rng = np.random.default_rng(seed)
    k = n_clusters or int(np.clip(n // 100, 1, 1000))
    centres = _unit(rng.standard_normal((k, dim), dtype=np.float32))
    which = rng.integers(0, k, size=n)
    out = np.empty((n, dim), dtype=np.float32)
    step = 65536
    for a in range(0, n, step):  # in blocks: 1M x 128 stays cheap in memory
        out[a : a + step] = _blend(centres[which[a : a + step]], np.sqrt(cluster_similarity), rng)
    return out


def templates(
    ids: np.ndarray, per_identity: int = 1, *, mate_similarity: float = 0.7, seed: int = 1
) -> np.ndarray:
    """(n, per_identity, dim) templates: noisy copies of each identity vector."""
    rng = np.random.default_rng(seed)
    cos = np.sqrt(mate_similarity)  # two copies at angle acos(cos) each: cosine ~ cos^2
    out = np.empty((len(ids), per_identity, ids.shape[1]), dtype=np.float32)
    step = 65536
    for a in range(0, len(ids), step):
        for j in range(per_identity):
            out[a : a + step, j] = _blend(ids[a : a + step], cos, rng)
    return out


# ---- face-like geometry, fitted to real templates -------------------------------------------
#
# The isotropic model above spreads templates over all 128 dimensions (participation ratio
# ~100, local intrinsic dimension ~29): harder for approximate search than real faces.
# Real dlib templates (LFW, 13,233 faces, 5,749 people; measured with the embeddings cache)
# sit in a narrow cone (impostor cosine 0.84 +- 0.035, 99.9th percentile 0.93; mates 0.96 +-
# 0.02), with most variance in a few directions (participation ratio 31, 90% of variance in
# 48 components; local intrinsic dimension ~18). `FaceModel` reproduces that with a handful
# of numbers (no learnt vectors): a common offset (the cone), identities drawn from a
# power-law spectrum in a random basis, and per-template noise from a flatter spectrum in
# another basis, scaled per template (image quality varies).


@dataclass(frozen=True)
class FaceModel:
    """A Gaussian, PLDA-like generator of face-like templates (defaults fitted to dlib/LFW)."""

    dim: int = 128
    offset: float = 2.7  # length of the common mean: sets the impostor cosine (the cone)
    between_decay: float = 1.0  # identity variance of direction i ~ i**-decay
    within_decay: float = 0.5  # template noise spectrum (flatter: noise is less structured)
    within_scale: float = 0.55  # noise size relative to identity spread: sets mate cosine
    quality_spread: float = 0.35  # log-normal spread of the noise size between templates
    seed: int = 0  # the bases and the mean direction

    def _basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed + 10_007)
        d = self.dim
        between = np.linalg.qr(rng.standard_normal((d, d)))[0].astype(np.float32)
        within = np.linalg.qr(rng.standard_normal((d, d)))[0].astype(np.float32)
        mean = _unit(rng.standard_normal(d).astype(np.float32)) * self.offset
        i = np.arange(1, d + 1, dtype=np.float64)
        sb, sw = i**-self.between_decay, i**-self.within_decay
        sb = np.sqrt(sb / sb.sum()).astype(np.float32)
        sw = np.sqrt(sw / sw.sum()).astype(np.float32) * self.within_scale
        return between, within, mean, sb, sw

    def identities(self, n: int, seed: int = 0) -> np.ndarray:
        """(n, dim) identity centres (not unit vectors: templates are normalised copies)."""
        between, _, mean, sb, _ = self._basis()
        rng = np.random.default_rng(seed)
        out = np.empty((n, self.dim), dtype=np.float32)
        for a in range(0, n, 65536):
            m = min(n, a + 65536) - a
            out[a : a + m] = mean + (rng.standard_normal((m, self.dim), dtype=np.float32) * sb) @ (
                between.T
            )
        return out

    def templates(self, ids: np.ndarray, per_identity: int = 1, seed: int = 1) -> np.ndarray:
        """(n, per_identity, dim) L2-normalised templates: noisy views of each identity."""
        _, within, _, _, sw = self._basis()
        rng = np.random.default_rng(seed)
        out = np.empty((len(ids), per_identity, self.dim), dtype=np.float32)
        for a in range(0, len(ids), 65536):
            block = ids[a : a + 65536]
            for j in range(per_identity):
                size = np.exp(rng.normal(0.0, self.quality_spread, (len(block), 1)))
                noise = (rng.standard_normal(block.shape, dtype=np.float32) * sw) @ within.T
                out[a : a + len(block), j] = _unit(block + size.astype(np.float32) * noise)
        return out


# ---- fused templates (two models side by side) ----------------------------------------------
#
# The 256-d default template concatenates two models' L2-unit templates, each block scaled by
# sqrt(weight) (so the whole is unit and its cosine is the weighted sum of the models'
# cosines): dlib (128-d, weight 0.85) and a second model projected to 128-d (weight 0.15).
# `FusedFaceModel` draws each block from its own `FaceModel` (independent bases and
# identities). The second block's cone and noise are set so the fused geometry matches the
# real fused model's (impostor cosine ~0.80, the best of 1,680 impostors ~0.89, mates ~0.93):
# alone it gives impostors ~0.56, mates ~0.80 (a wider cone than dlib's, noisier).

SECOND_BLOCK = {"offset": 1.5, "within_scale": 0.85}


@dataclass(frozen=True)
class FusedFaceModel:
    """Templates made of several `FaceModel` blocks, block i unit and scaled by sqrt(w_i)."""

    blocks: tuple[FaceModel, ...]
    weights: tuple[float, ...]

    @property
    def dim(self) -> int:
        return sum(b.dim for b in self.blocks)

    def _split(self) -> list[tuple[int, int]]:
        edges = np.cumsum([0] + [b.dim for b in self.blocks]).tolist()
        return list(zip(edges[:-1], edges[1:], strict=True))

    def identities(self, n: int, seed: int = 0) -> np.ndarray:
        """(n, dim): each block's identity centres side by side (one identity per row)."""
        return np.concatenate(
            [b.identities(n, seed=seed + 7919 * i) for i, b in enumerate(self.blocks)], axis=1
        )

    def templates(self, ids: np.ndarray, per_identity: int = 1, seed: int = 1) -> np.ndarray:
        """(n, per_identity, dim) unit templates: each block a unit view, times sqrt(w)."""
        w = np.asarray(self.weights, dtype=np.float64)
        w = w / w.sum()
        parts = [
            b.templates(np.ascontiguousarray(ids[:, a:e]), per_identity, seed=seed + 7919 * i)
            * np.float32(np.sqrt(wi))
            for i, (b, (a, e), wi) in enumerate(zip(self.blocks, self._split(), w, strict=True))
        ]
        return np.concatenate(parts, axis=2)


def face_model(dim: int = 128) -> FaceModel | FusedFaceModel:
    """Face-like templates of a given size: 256 is the fused model (dlib 0.85 + a second
    model 0.15, 128-d each); other sizes one `FaceModel` (its fit is to 128-d dlib)."""
    if dim == 256:
        return FusedFaceModel(
            (FaceModel(128), FaceModel(128, seed=1, **SECOND_BLOCK)), weights=(0.85, 0.15)
        )
    return FaceModel(dim=dim)
