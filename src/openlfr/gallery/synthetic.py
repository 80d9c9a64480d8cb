"""Synthetic but face-like templates, for tests and bench/search.py (never for decisions).

Identities are unit vectors grouped in clusters (like demographic groups: impostors of the
same cluster score higher than others); each template of an identity is a noisy copy of it
at a chosen angle, so two templates of one identity have cosine ~ `mate_similarity` and
nearest-neighbour recall is meaningful.
"""

from __future__ import annotations

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
