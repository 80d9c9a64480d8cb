"""FAISS indexes: an exact flat scan, and HNSW / IVF for large galleries with exact re-ranking.

All three keep the float32 templates beside the FAISS structure (bookkeeping in
`_RowIndex`): removal leaves tombstones that searches skip, and the structure is rebuilt
once they pass a quarter of the rows. The approximate kinds only propose candidates: each
proposed subject is re-scored exactly over all its templates before ranking, so every
similarity returned is exact; what can be lost is a subject the structure never proposed
(recall, measured by bench/search.py).

`storage` ("flat", "fp16", "sq8", "pqfs") picks how the approximate structure holds the
vectors: 8-bit scalar quantisation cuts the IVF lists to a quarter (1M x 128-d: 128 MB beside
the 512 MB of float32 templates, instead of 512 MB more) at the same recall, since the re-rank
is exact. "pqfs" (IVF only) holds 4-bit product-quantised codes scanned with SIMD lookup
tables (FAISS "fast scan"): half a byte per dimension (1M x 256-d: 144 MB), scanned faster
than sq8, but too coarse to rank near-tied faces, so the best `refine` rows it proposes are
first re-scored exactly from the float32 templates (a row-level re-rank, before the
subject-level one). `make_index("auto")` uses IVF with pqfs for large galleries.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from openlfr.errors import ConfigError
from openlfr.gallery.index import _RowIndex

try:
    import faiss
except ImportError as exc:  # pragma: no cover - faiss-cpu is a hard dependency
    raise ImportError("faiss-cpu is required for the FAISS gallery indexes") from exc

FAISS_KINDS = ("flat", "hnsw", "ivf")
# How the approximate structure stores vectors: float32, float16 or 8-bit scalar quantised.
# The float32 templates are always kept beside it for the exact re-rank.
STORAGES = ("flat", "fp16", "sq8", "pqfs")
_SQ = {"fp16": "QT_fp16", "sq8": "QT_8bit"}
# Defaults chosen with bench/search.py on face-like 128-d templates (synthetic.FaceModel).
# HNSW stalls below recall@1 0.999 for mated probes (0.95 at efSearch 256, 0.99 at 512 with
# M=48 at 100k: a mated probe sits among near-tied impostors the graph walk misses); IVF
# scanning ~8 sqrt(nlist) lists reaches it, so the "auto" kind for large galleries is IVF.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 256
IVF_MIN_TRAIN_PER_LIST = 39  # FAISS warns below this many training points per list
# Lists probed by default: IVF_NPROBE_SQRT * sqrt(nlist). Measured recall@1 of mated probes
# (bench/search.py, 128-d, before unit centroids): nlist 1264 (100k): 128 lists 0.998, 256
# lists 1.0; nlist 4000 (1M): 256 lists 0.996, 384 lists 1.0. 8 sqrt(nlist) gives 285 and
# 506. With unit centroids at 1M, 506 lists: 128-d 1.0 mated / 0.999 non-mated; fused 256-d
# 1.0 / 0.996 (non-mated probes' nearest impostor is spread wider: see PQFS_NPROBE_SQRT).
IVF_NPROBE_SQRT = 8.0
IVF_MIN_SIZE = 4096
SQ_MIN_SIZE = 1024  # fewer templates: float32 HNSW until a rebuild (quantizer ranges)
# pqfs: one 4-bit sub-quantiser per dimension, and rows re-scored exactly per probe.
# Measured at 1M fused 256-d face-like templates (4096 lists, 512 probed, 300 + 300 probes):
# 2 dimensions per code (64 B) kept the exact top-1 among its best 1024 rows for only 99.3%
# of mated / 97% of non-mated probes (4 per code: 86% / 63%); 1 per code: 100% / 99.7% from
# 512 rows, at a scan still cheaper than sq8's (bench/search.py has the figures).
PQFS_DIMS_PER_CODE = 1
PQFS_REFINE = 512
# Fast scan pays a fixed cost per list probed, so pqfs takes fewer, longer lists: sqrt(n)
# (1000 at 1M), probing 7 sqrt(nlist) (222). Non-mated probes' nearest impostor is spread
# over more lists than a mate: at 1M fused 256-d, 1024 lists, the true top-1's list is
# among the first 192 for 100% of mated / 99.9% of non-mated probes (256: 100%). Measured
# (400 + 400 probes, one thread, loaded machine): 1024 lists, 192 probed: CPU p50 3.2 ms,
# p99 3.7, recall@1 1.0 / 1.0; 4096 lists, 768 probed: 4.4 / 4.9 ms, 1.0 / 0.9975.
PQFS_NLIST_SQRT = 1.0
PQFS_NPROBE_SQRT = 7.0
SMALL_BATCH = 8  # fewer probes than this are searched on one thread


@contextmanager
def _one_thread() -> Iterator[None]:
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def default_nprobe(nlist: int, storage: str = "flat") -> int:
    """Lists an IVF search probes unless told: enough for recall@1 >= 0.999 (see above)."""
    per = PQFS_NPROBE_SQRT if storage == "pqfs" else IVF_NPROBE_SQRT
    return min(nlist, max(32, math.ceil(per * math.sqrt(nlist))))


class FaissIndex(_RowIndex):
    """A FAISS-backed `GalleryIndex`: kind "flat" (exact), "hnsw" or "ivf" (approximate)."""

    def __init__(
        self,
        model_id: str,
        dim: int,
        kind: str = "flat",
        *,
        hnsw_m: int = HNSW_M,
        ef_construction: int = HNSW_EF_CONSTRUCTION,
        ef_search: int = HNSW_EF_SEARCH,
        nlist: int | None = None,
        nprobe: int | None = None,
        threads: int | None = None,
        storage: str = "flat",
        refine: int | None = None,
    ) -> None:
        if kind not in FAISS_KINDS:
            raise ConfigError(f"unknown FAISS index kind {kind!r}; choose {FAISS_KINDS}")
        if storage not in STORAGES:
            raise ConfigError(f"unknown storage {storage!r}; choose {STORAGES}")
        if storage == "pqfs" and kind != "ivf":
            raise ConfigError("storage 'pqfs' (4-bit PQ fast scan) is for kind 'ivf' only")
        if refine is not None and int(refine) < 1:
            raise ConfigError(f"refine must be >= 1, got {refine}")
        self.storage = storage if kind != "flat" else "flat"
        self.kind = kind
        self.approximate = kind != "flat"
        self.hnsw_m = int(hnsw_m)
        self.ef_construction = int(ef_construction)
        self.ef_search = int(ef_search)
        self.nlist = nlist
        self.nprobe = nprobe
        # rows the structure proposes and the float32 templates re-score, per probe
        self.refine = int(refine) if refine else (PQFS_REFINE if storage == "pqfs" else 0)
        if threads is not None:
            faiss.omp_set_num_threads(int(threads))
        self._faiss: faiss.Index | None = None
        self._trained_rows = 0
        super().__init__(model_id, dim)
        self._index_rebuild()

    # ---- the FAISS structure -----------------------------------------------------------
    def _new_structure(self, n: int) -> faiss.Index:
        if self.kind == "flat":
            return faiss.IndexFlatIP(self.dim)
        if self.kind == "hnsw":
            if self.storage == "flat" or n < SQ_MIN_SIZE:  # too few rows to train a quantizer
                index = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            else:
                qt = getattr(faiss.ScalarQuantizer, _SQ[self.storage])
                index = faiss.IndexHNSWSQ(self.dim, qt, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.ef_construction
            index.hnsw.efSearch = self.ef_search
            return index
        nlist = self._nlist_for(n)
        if nlist == 0:  # too few templates to train: an exact scan until a rebuild
            return faiss.IndexFlatIP(self.dim)
        quantizer = faiss.IndexFlatIP(self.dim)
        if self.storage == "pqfs":
            m = self.dim // PQFS_DIMS_PER_CODE
            index = faiss.IndexIVFPQFastScan(
                quantizer, self.dim, nlist, m, 4, faiss.METRIC_INNER_PRODUCT
            )
        elif self.storage == "flat":
            index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        else:
            qt = getattr(faiss.ScalarQuantizer, _SQ[self.storage])
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, self.dim, nlist, qt, faiss.METRIC_INNER_PRODUCT
            )
        index.nprobe = min(self.nprobe or default_nprobe(nlist, self.storage), nlist)
        index.cp.seed = 1234  # reproducible k-means
        # Unit centroids (spherical k-means): lists are probed by inner product, and FAISS's
        # plain k-means leaves centroids of unequal norm inside the narrow cone of face
        # templates, so the longest ones win the probe order whatever the angle. Measured on
        # fused 256-d face-like templates at 1M, 4096 lists: the true top-1's list among the
        # first 512 probed for 98% (mated) / 94% (non-mated) probes, 100% / 99.8% with unit
        # centroids.
        index.cp.spherical = True
        return index

    def _nlist_for(self, n: int) -> int:
        if self.nlist:
            return self.nlist if n >= self.nlist * IVF_MIN_TRAIN_PER_LIST else 0
        # ~4 sqrt(n) lists is FAISS's usual guidance (fewer while lists would be too thin
        # to train); below IVF_MIN_SIZE templates an exact scan is as fast anyway
        per = PQFS_NLIST_SQRT if self.storage == "pqfs" else 4.0
        nlist = int(min(per * math.sqrt(n), n // IVF_MIN_TRAIN_PER_LIST))
        return nlist if n >= IVF_MIN_SIZE else 0

    def _index_rebuild(self) -> None:
        # Compact: drop tombstoned rows so FAISS ids are row numbers again.
        if self._dead:
            live = np.nonzero(self._alive[: self._n])[0]
            self._vectors = np.ascontiguousarray(self._vectors[live])
            self._row_subject = self._row_subject[live]
            self._row_tidx = self._row_tidx[live]
            self._alive = np.ones(len(live), dtype=bool)
            self._n = len(live)
            self._dead = 0
            self._subject_rows = {}
            for r, code in enumerate(self._row_subject.tolist()):
                self._subject_rows.setdefault(self._names[code], []).append(r)
        index = self._new_structure(self._n)
        data = self._vectors[: self._n]
        if not index.is_trained:
            # k-means (IVF) or the quantizer's ranges (SQ) on a sample is enough
            n_train = min(self._n, getattr(index, "nlist", 1024) * 64)
            rng = np.random.default_rng(0)
            sample = data[np.sort(rng.choice(self._n, n_train, replace=False))]
            if isinstance(index, faiss.IndexIVFPQFastScan):
                # k-means for the lists on all threads, then the PQ's many tiny k-means (16
                # centroids per dimension) on one: threads only add sync cost there (100k x
                # 256-d on 2 shared cores: 28 s on two threads, 2 s on one)
                faiss.Clustering(self.dim, index.nlist, index.cp).train(sample, index.quantizer)
                with _one_thread():
                    index.train(sample)  # the quantizer is trained: FAISS skips it
            else:
                index.train(sample)
        if self._n:
            index.add(data)
        self._faiss = index
        self._trained_rows = self._n

    def _index_add(self, v: np.ndarray) -> None:
        assert self._faiss is not None
        self._faiss.add(v)
        # An IVF that outgrew its lists (or was a flat stand-in) is retrained once it has
        # doubled: keeps lists balanced without retraining on every enrolment.
        trained = self.kind == "ivf" or self.storage != "flat"
        if trained and self._n >= 2 * max(self._trained_rows, 2048):
            self._index_rebuild()

    def _index_removed(self, rows: list[int]) -> None:
        if self._dead > max(1024, self._n // 4):
            self._index_rebuild()

    def _row_topk(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        assert self._faiss is not None
        k = min(k, self._n)
        if self.kind == "hnsw":
            # efSearch must cover k, or HNSW returns fewer rows than asked
            self._faiss.hnsw.efSearch = max(self.ef_search, k)
        q = np.ascontiguousarray(q, dtype=np.float32)
        if self.refine > k and not isinstance(self._faiss, faiss.IndexFlat):
            kk = min(self.refine, self._n)
            step = max(1, 2**22 // (kk * self.dim))  # bound the gathered (probes, kk, dim) block
            parts = [self._refined(q[i : i + step], k, kk) for i in range(0, len(q), step)]
            return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        return self._search(q, k)

    def _refined(self, q: np.ndarray, k: int, kk: int) -> tuple[np.ndarray, np.ndarray]:
        # The structure's best kk rows, re-scored exactly; the best k of those, best first.
        _, rows = self._search(q, kk)
        safe = np.maximum(rows, 0)
        exact = np.einsum("qkd,qd->qk", self._vectors[safe], q)
        exact[rows < 0] = -np.inf  # padding (fewer than kk rows in the probed lists)
        part = np.argpartition(-exact, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(exact, part, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        top = np.take_along_axis(part, order, axis=1)
        scores = np.take_along_axis(exact, top, axis=1)
        out = np.take_along_axis(rows, top, axis=1)
        out[~np.isfinite(scores)] = -1
        return scores.astype(np.float32), out

    def _search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        assert self._faiss is not None
        if len(q) >= SMALL_BATCH:
            return self._faiss.search(q, k)
        # One probe is one thread's work: OpenMP threads only add latency on a busy machine
        # (measured at 1M, IVF nprobe 256, 2 shared cores: p50 1.4 ms / p99 30 ms on one
        # thread; two threads splitting the lists: p50 0.8 ms but p99 132 ms).
        with _one_thread():
            return self._faiss.search(q, k)

    # ---- persistence -------------------------------------------------------------------
    def _extra_state(self) -> dict:
        assert self._faiss is not None
        return {
            "faiss": faiss.serialize_index(self._faiss),
            "params": np.array(
                [
                    self.hnsw_m,
                    self.ef_construction,
                    self.ef_search,
                    self.nlist or 0,
                    self.nprobe or 0,
                ]
            ),
            "trained_rows": np.array(self._trained_rows),
            "storage": np.array(self.storage),
            "refine": np.array(self.refine),
        }

    def _restore_extra(self, data: dict) -> None:
        m, efc, efs, nlist, nprobe = (int(x) for x in data["params"])
        self.hnsw_m, self.ef_construction, self.ef_search = m, efc, efs
        self.nlist, self.nprobe = (nlist or None), (nprobe or None)
        self.storage = str(data["storage"]) if "storage" in data else "flat"  # older files
        self.refine = int(data["refine"]) if "refine" in data else 0
        self._faiss = faiss.deserialize_index(np.asarray(data["faiss"], dtype=np.uint8))
        self._trained_rows = int(data["trained_rows"])
        if self._faiss.ntotal != self._n:
            raise ConfigError("gallery index file is inconsistent (FAISS rows != templates)")

    def memory_bytes(self) -> int:
        """Templates kept for re-ranking plus the FAISS structure (serialised size)."""
        assert self._faiss is not None
        return int(self._vectors[: self._n].nbytes + faiss.serialize_index(self._faiss).nbytes)
