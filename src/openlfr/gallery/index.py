"""1:N search over enrolled templates: the `GalleryIndex` Protocol and the exact numpy reference.

Scale: similarity = max(0, cosine) of L2-normalised vectors, the same 0..1 scale as
`Template.similarity`. A search returns at most `top_k` subjects, best first, and only those
whose similarity is at or above the threshold: an empty list is a real "unknown".

Fusion of several templates per subject: a subject's similarity is the MAX over its templates
(measured against the mean template in bench/search.py; see the README's gallery section).
`mean_template` is kept for that comparison and for callers that want one vector per subject.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from openlfr.errors import ConfigError
from openlfr.vision.face import Template, check_same_model

KINDS = ("auto", "exact", "flat", "hnsw", "ivf")
# Below this many templates an exact scan is fast (< 1 ms p50); above it, an approximate
# index with exact re-ranking (IVF, 4-bit PQ fast-scan codes in the lists, float32 re-rank).
# Measured by bench/search.py (bench/results/search.json): at 100k the flat scan takes p50
# 1.5 ms, IVF 0.6 ms, on 2 shared cores; at 1M x 256-d pqfs scans faster than sq8.
AUTO_APPROXIMATE_FROM = 50_000
AUTO_APPROXIMATE = {"kind": "ivf", "storage": "pqfs"}


@dataclass(frozen=True)
class Candidate:
    """One subject found by a search: its best template's similarity (0..1) and which one."""

    subject_id: str
    similarity: float
    template_index: int  # position among the subject's templates, in the order they were added


@runtime_checkable
class GalleryIndex(Protocol):
    """What every 1:N index offers. The store is the source of truth; an index is rebuilt."""

    model_id: str
    dim: int

    def __len__(self) -> int: ...  # number of templates

    def add(self, subject_id: str, vectors: np.ndarray | Sequence[Template]) -> None: ...

    def remove(self, subject_id: str) -> int: ...

    def rebuild(self, items: Iterable[tuple[str, np.ndarray]] | None = None) -> None: ...

    def subjects(self) -> list[str]: ...

    def search(
        self, probe: np.ndarray | Template, threshold: float, top_k: int = 5
    ) -> list[Candidate]: ...

    def search_batch(
        self, probes: np.ndarray | Sequence[Template], threshold: float, top_k: int = 5
    ) -> list[list[Candidate]]: ...

    def save(self, path: str | Path) -> None: ...


def mean_template(vectors: np.ndarray) -> np.ndarray:
    """The L2-normalised mean of a subject's templates (the alternative fusion to max)."""
    m = np.asarray(vectors, dtype=np.float32).reshape(-1, vectors.shape[-1]).mean(axis=0)
    return (m / max(float(np.linalg.norm(m)), 1e-12)).astype(np.float32)


def make_index(
    model_id: str, dim: int, kind: str = "auto", expected_size: int = 0, **options
) -> GalleryIndex:
    """An empty index. "auto": exact FAISS flat scan below AUTO_APPROXIMATE_FROM templates,
    IVF (4-bit PQ fast-scan lists) with exact re-ranking from there; "exact" is the numpy
    reference."""
    if kind not in KINDS:
        raise ConfigError(f"unknown index kind {kind!r}; choose one of {', '.join(KINDS)}")
    if kind == "auto":
        if expected_size >= AUTO_APPROXIMATE_FROM:
            options = {**AUTO_APPROXIMATE, **options}
            kind = options.pop("kind")
        else:
            kind = "flat"
    if kind == "exact":
        return ExactIndex(model_id, dim)
    from openlfr.gallery.faiss_index import FaissIndex

    return FaissIndex(model_id, dim, kind=kind, **options)


def build_index(
    model_id: str,
    dim: int,
    items: Iterable[tuple[str, np.ndarray]],
    kind: str = "auto",
    **options,
) -> GalleryIndex:
    """An index filled from (subject_id, vectors) pairs, e.g. read from the store."""
    items = list(items)
    size = sum(len(np.atleast_2d(v)) for _, v in items)
    index = make_index(model_id, dim, kind=kind, expected_size=size, **options)
    index.rebuild(items)
    return index


def load_index(path: str | Path) -> GalleryIndex:
    """Read an index written by `save` (any kind)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"cannot read gallery index {path}: {exc}") from exc
    kind = str(data["kind"])
    if kind == "exact":
        index: _RowIndex = ExactIndex(str(data["model_id"]), int(data["dim"]))
    else:
        from openlfr.gallery.faiss_index import FaissIndex

        index = FaissIndex(str(data["model_id"]), int(data["dim"]), kind=kind)
    index._restore(data)
    return index


class _RowIndex:
    """Bookkeeping shared by the indexes: one row per template, subjects, tombstones.

    Subclasses give `_row_topk` (best rows per probe) and may re-rank exactly.
    """

    kind = "exact"
    approximate = False

    def __init__(self, model_id: str, dim: int) -> None:
        if not model_id:
            raise ConfigError("an index needs a model_id")
        if dim <= 0:
            raise ConfigError(f"bad template dimension {dim}")
        self.model_id = model_id
        self.dim = int(dim)
        self._clear()

    # ---- bookkeeping -------------------------------------------------------------------
    def _clear(self) -> None:
        self._vectors = np.zeros((0, self.dim), dtype=np.float32)
        self._n = 0  # rows used in _vectors (capacity may be larger)
        self._row_subject = np.zeros(0, dtype=np.int64)  # subject code per row
        self._row_tidx = np.zeros(0, dtype=np.int32)
        self._alive = np.zeros(0, dtype=bool)
        self._codes: dict[str, int] = {}
        self._names: list[str] = []
        self._subject_rows: dict[str, list[int]] = {}
        self._next_tidx: dict[str, int] = {}
        self._dead = 0

    def __len__(self) -> int:
        return self._n - self._dead

    def subjects(self) -> list[str]:
        return list(self._subject_rows)

    def __contains__(self, subject_id: object) -> bool:
        return subject_id in self._subject_rows

    def templates_of(self, subject_id: str) -> np.ndarray:
        rows = self._subject_rows.get(subject_id, [])
        return self._vectors[rows].copy()

    def _vectors_in(self, vectors: np.ndarray | Sequence[Template]) -> np.ndarray:
        if isinstance(vectors, Template):
            vectors = [vectors]
        if isinstance(vectors, (list, tuple)) and vectors and isinstance(vectors[0], Template):
            for t in vectors:
                check_same_model(self.model_id, t.model_id)
            vectors = np.stack([t.vector for t in vectors])
        v = np.asarray(vectors, dtype=np.float32)
        if v.ndim == 1:
            v = v[None, :]
        if v.ndim != 2 or v.shape[1] != self.dim:
            raise ConfigError(
                f"templates must have dimension {self.dim} (model {self.model_id}), "
                f"got shape {tuple(v.shape)}"
            )
        if not np.all(np.isfinite(v)):
            raise ConfigError("templates contain NaN or infinite values")
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        if np.any(norms < 1e-12):
            raise ConfigError("a template is the zero vector")
        return np.ascontiguousarray(v / norms, dtype=np.float32)

    def add(self, subject_id: str, vectors: np.ndarray | Sequence[Template]) -> None:
        """Enrol templates for a subject (appends when the subject is already there)."""
        if not isinstance(subject_id, str) or not subject_id:
            raise ConfigError("a subject id must be a non-empty string")
        v = self._vectors_in(vectors)
        if len(v) == 0:
            return
        self._append(subject_id, v)
        self._index_add(v)

    def _append(self, subject_id: str, v: np.ndarray) -> None:
        start, end = self._n, self._n + len(v)
        if end > len(self._vectors):  # grow by doubling: amortised O(1) per add
            cap = max(end, 2 * len(self._vectors), 64)
            for name, dtype, shape in (
                ("_vectors", np.float32, (cap, self.dim)),
                ("_row_subject", np.int64, (cap,)),
                ("_row_tidx", np.int32, (cap,)),
                ("_alive", bool, (cap,)),
            ):
                grown = np.zeros(shape, dtype=dtype)
                grown[: self._n] = getattr(self, name)[: self._n]
                setattr(self, name, grown)
        code = self._codes.get(subject_id)
        if code is None:
            code = self._codes[subject_id] = len(self._names)
            self._names.append(subject_id)
        first = self._next_tidx.get(subject_id, 0)
        self._vectors[start:end] = v
        self._row_subject[start:end] = code
        self._row_tidx[start:end] = np.arange(first, first + len(v))
        self._alive[start:end] = True
        self._next_tidx[subject_id] = first + len(v)
        self._subject_rows.setdefault(subject_id, []).extend(range(start, end))
        self._n = end

    def remove(self, subject_id: str) -> int:
        """Forget a subject's templates; returns how many were removed (0 if unknown)."""
        rows = self._subject_rows.pop(subject_id, None)
        self._next_tidx.pop(subject_id, None)
        if not rows:
            return 0
        self._alive[rows] = False
        self._dead += len(rows)
        self._index_removed(rows)
        return len(rows)

    def rebuild(self, items: Iterable[tuple[str, np.ndarray]] | None = None) -> None:
        """Rebuild from (subject_id, vectors) pairs, or compact the current content."""
        if items is None:
            items = [(s, self._vectors[r]) for s, r in self._subject_rows.items()]
        items = [(s, self._vectors_in(v)) for s, v in items]
        self._clear()
        for subject_id, v in items:
            if not isinstance(subject_id, str) or not subject_id:
                raise ConfigError("a subject id must be a non-empty string")
            self._append(subject_id, v)
        self._index_rebuild()

    # ---- search ------------------------------------------------------------------------
    def _probes_in(self, probes: np.ndarray | Template | Sequence[Template]) -> np.ndarray:
        return self._vectors_in(probes)

    def search(
        self, probe: np.ndarray | Template, threshold: float, top_k: int = 5
    ) -> list[Candidate]:
        """Up to top_k subjects with similarity >= threshold, best first; [] = unknown."""
        q = self._probes_in(probe)
        if len(q) != 1:
            raise ConfigError("search takes one probe; use search_batch for several")
        return self.search_batch(q, threshold, top_k)[0]

    def search_batch(
        self, probes: np.ndarray | Sequence[Template], threshold: float, top_k: int = 5
    ) -> list[list[Candidate]]:
        """`search` for each row of an (n, dim) array (or each Template), in one pass."""
        if not 0.0 <= float(threshold) <= 1.0:
            raise ConfigError(f"threshold must be in [0, 1], got {threshold}")
        if int(top_k) < 1:
            raise ConfigError(f"top_k must be >= 1, got {top_k}")
        q = self._probes_in(probes)
        if len(self) == 0:
            return [[] for _ in range(len(q))]
        k = min(self._n, self._first_k(top_k))
        scores, rows = self._row_topk(q, k)
        return [
            self._collect(q[i], scores[i], rows[i], k, float(threshold), int(top_k))
            for i in range(len(q))
        ]

    def _first_k(self, top_k: int) -> int:
        # rows to fetch first: room for subjects with several templates and for tombstones
        return max(4 * top_k, 16)

    def _collect(
        self,
        q: np.ndarray,
        scores: np.ndarray,
        rows: np.ndarray,
        k: int,
        threshold: float,
        top_k: int,
    ) -> list[Candidate]:
        # More subjects than needed when approximate: the exact re-rank then picks the best.
        want = max(2 * top_k, 10) if self.approximate else top_k
        while True:
            best: dict[int, tuple[float, int]] = {}
            last = -np.inf
            for s, r in zip(scores.tolist(), rows.tolist(), strict=True):
                if r < 0:
                    break  # approximate indexes pad with -1
                last = max(s, 0.0)  # the 0..1 scale: negative cosines count as 0
                if last < threshold:
                    break
                if not self._alive[r]:
                    continue
                code = int(self._row_subject[r])
                if code not in best:
                    best[code] = (s, r)
                    if len(best) >= want:
                        break
            exhausted = len(best) >= want or last < threshold or k >= self._n or rows[-1] < 0
            if exhausted:
                break
            # not enough distinct subjects above the threshold in the first k rows: look further
            k = min(self._n, 4 * k)
            s2, r2 = self._row_topk(q[None, :], k)
            scores, rows = s2[0], r2[0]
        if self.approximate:
            best = self._rerank(q, best)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        return [
            Candidate(self._names[code], float(min(1.0, max(0.0, s))), int(self._row_tidx[r]))
            for code, (s, r) in ranked[:top_k]
            if max(0.0, s) >= threshold
        ]

    def _rerank(self, q: np.ndarray, best: dict[int, tuple[float, int]]) -> dict:
        # Exact similarity of each candidate subject: max over ALL its live templates.
        out = {}
        for code in best:
            rows = self._subject_rows[self._names[code]]
            sims = self._vectors[rows] @ q
            j = int(np.argmax(sims))
            out[code] = (float(sims[j]), rows[j])
        return out

    # ---- persistence -------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the index (templates, subjects, and any built structure) to one .npz file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "kind": np.array(self.kind),
            "model_id": np.array(self.model_id),
            "dim": np.array(self.dim),
            "vectors": self._vectors[: self._n],
            "row_subject": self._row_subject[: self._n],
            "row_tidx": self._row_tidx[: self._n],
            "alive": self._alive[: self._n],
            "names": np.array(self._names, dtype=str),
        }
        data.update(self._extra_state())
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **data)
        tmp.replace(path)  # never a half-written index

    def _restore(self, data: dict) -> None:
        self._clear()
        n = len(data["vectors"])
        self._vectors = np.ascontiguousarray(data["vectors"], dtype=np.float32)
        self._row_subject = data["row_subject"].astype(np.int64)
        self._row_tidx = data["row_tidx"].astype(np.int32)
        self._alive = data["alive"].astype(bool)
        self._n = n
        self._names = [str(x) for x in data["names"]]
        self._codes = {s: i for i, s in enumerate(self._names)}
        for r in np.nonzero(self._alive)[0].tolist():
            s = self._names[int(self._row_subject[r])]
            self._subject_rows.setdefault(s, []).append(r)
            self._next_tidx[s] = max(self._next_tidx.get(s, 0), int(self._row_tidx[r]) + 1)
        self._dead = n - int(self._alive.sum())
        self._restore_extra(data)

    # ---- hooks for subclasses ----------------------------------------------------------
    def _index_add(self, v: np.ndarray) -> None:
        pass

    def _index_removed(self, rows: list[int]) -> None:
        pass

    def _index_rebuild(self) -> None:
        pass

    def _extra_state(self) -> dict:
        return {}

    def _restore_extra(self, data: dict) -> None:
        pass

    def _row_topk(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class ExactIndex(_RowIndex):
    """The reference: a brute-force numpy scan. Removal compacts at once (no tombstones)."""

    kind = "exact"

    def remove(self, subject_id: str) -> int:
        removed = super().remove(subject_id)
        if removed:
            self.rebuild()
        return removed

    def _row_topk(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        out_s = np.empty((len(q), k), dtype=np.float32)
        out_r = np.empty((len(q), k), dtype=np.int64)
        vectors = self._vectors[: self._n]
        step = max(1, 2**24 // max(self._n, 1))  # bound the (probes x rows) score block
        for i in range(0, len(q), step):
            block = q[i : i + step] @ vectors.T
            if k < self._n:
                part = np.argpartition(-block, k - 1, axis=1)[:, :k]
            else:
                part = np.broadcast_to(np.arange(self._n), block.shape)
            vals = np.take_along_axis(block, part, axis=1)
            order = np.argsort(-vals, axis=1, kind="stable")
            out_r[i : i + step] = np.take_along_axis(part, order, axis=1)
            out_s[i : i + step] = np.take_along_axis(vals, order, axis=1)
        return out_s, out_r
