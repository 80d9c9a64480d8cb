"""FAISS indexes: an exact flat scan, and HNSW / IVF for large galleries with exact re-ranking.

All three keep the float32 templates beside the FAISS structure (bookkeeping in
`_RowIndex`): removal leaves tombstones that searches skip, and the structure is rebuilt
once they pass a quarter of the rows. The approximate kinds only propose candidates: each
proposed subject is re-scored exactly over all its templates before ranking, so every
similarity returned is exact; what can be lost is a subject the structure never proposed
(recall, measured by bench/search.py).
"""

from __future__ import annotations

import math

import numpy as np

from openlfr.errors import ConfigError
from openlfr.gallery.index import _RowIndex

try:
    import faiss
except ImportError as exc:  # pragma: no cover - faiss-cpu is a hard dependency
    raise ImportError("faiss-cpu is required for the FAISS gallery indexes") from exc

FAISS_KINDS = ("flat", "hnsw", "ivf")
# Defaults chosen with bench/search.py on 128-d templates (recall@1 >= 0.999 against exact).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 256
IVF_MIN_TRAIN_PER_LIST = 39  # FAISS warns below this many training points per list
IVF_NPROBE_SHARE = 5  # probe 1/5 of the lists by default (recall, see the bench)
IVF_MIN_SIZE = 4096
SMALL_BATCH = 8  # fewer probes than this are searched on one thread


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
    ) -> None:
        if kind not in FAISS_KINDS:
            raise ConfigError(f"unknown FAISS index kind {kind!r}; choose {FAISS_KINDS}")
        self.kind = kind
        self.approximate = kind != "flat"
        self.hnsw_m = int(hnsw_m)
        self.ef_construction = int(ef_construction)
        self.ef_search = int(ef_search)
        self.nlist = nlist
        self.nprobe = nprobe
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
            index = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = self.ef_construction
            index.hnsw.efSearch = self.ef_search
            return index
        nlist = self._nlist_for(n)
        if nlist == 0:  # too few templates to train: an exact scan until a rebuild
            return faiss.IndexFlatIP(self.dim)
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.nprobe = min(self.nprobe or max(32, nlist // IVF_NPROBE_SHARE), nlist)
        index.cp.seed = 1234  # reproducible k-means
        return index

    def _nlist_for(self, n: int) -> int:
        if self.nlist:
            return self.nlist if n >= self.nlist * IVF_MIN_TRAIN_PER_LIST else 0
        # ~4 sqrt(n) lists is FAISS's usual guidance (fewer while lists would be too thin
        # to train); below IVF_MIN_SIZE templates an exact scan is as fast anyway
        nlist = int(min(4 * math.sqrt(n), n // IVF_MIN_TRAIN_PER_LIST))
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
            n_train = min(self._n, index.nlist * 64)  # k-means on a sample is enough
            rng = np.random.default_rng(0)
            sample = data[np.sort(rng.choice(self._n, n_train, replace=False))]
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
        if self.kind == "ivf" and self._n >= 2 * max(self._trained_rows, 2048):
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
        if len(q) >= SMALL_BATCH:
            return self._faiss.search(q, k)
        # One probe is one thread's work: OpenMP threads only add latency (measured: 2 ms
        # with one thread, 38 ms with two on a busy 2-core machine at 100k templates).
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._faiss.search(q, k)
        finally:
            faiss.omp_set_num_threads(threads)

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
        }

    def _restore_extra(self, data: dict) -> None:
        m, efc, efs, nlist, nprobe = (int(x) for x in data["params"])
        self.hnsw_m, self.ef_construction, self.ef_search = m, efc, efs
        self.nlist, self.nprobe = (nlist or None), (nprobe or None)
        self._faiss = faiss.deserialize_index(np.asarray(data["faiss"], dtype=np.uint8))
        self._trained_rows = int(data["trained_rows"])
        if self._faiss.ntotal != self._n:
            raise ConfigError("gallery index file is inconsistent (FAISS rows != templates)")

    def memory_bytes(self) -> int:
        """Templates kept for re-ranking plus the FAISS structure (serialised size)."""
        assert self._faiss is not None
        return int(self._vectors[: self._n].nbytes + faiss.serialize_index(self._faiss).nbytes)
