"""FAISS indexes: an exact flat scan, and HNSW / IVF for large galleries with exact re-ranking.

All three keep the float32 templates beside the FAISS structure (bookkeeping in
`_RowIndex`): removal leaves tombstones that searches skip, and the structure is rebuilt
once they pass a quarter of the rows. The approximate kinds only propose candidates: each
proposed subject is re-scored exactly over all its templates before ranking, so every
similarity returned is exact; what can be lost is a subject the structure never proposed
(recall, measured by bench/search.py).

`storage` ("flat", "fp16", "sq8") picks how the approximate structure holds the vectors:
8-bit scalar quantisation cuts the IVF lists to a quarter (1M x 128-d: 128 MB beside the
512 MB of float32 templates, instead of 512 MB more) at the same recall, since the re-rank
is exact. `make_index("auto")` uses IVF with sq8 for large galleries.
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
# How the approximate structure stores vectors: float32, float16 or 8-bit scalar quantised.
# The float32 templates are always kept beside it for the exact re-rank.
STORAGES = ("flat", "fp16", "sq8")
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
# (bench/search.py): nlist 1264 (100k): 128 lists 0.998, 256 lists 1.0; nlist 4000 (1M):
# 256 lists 0.996, 384 lists 1.0. 8 sqrt(nlist) gives 285 and 506: a margin over both.
IVF_NPROBE_SQRT = 8.0
IVF_MIN_SIZE = 4096
SQ_MIN_SIZE = 1024  # fewer templates: float32 HNSW until a rebuild (quantizer ranges)
SMALL_BATCH = 8  # fewer probes than this are searched on one thread


def default_nprobe(nlist: int) -> int:
    """Lists an IVF search probes unless told: enough for recall@1 >= 0.999 (see above)."""
    return min(nlist, max(32, math.ceil(IVF_NPROBE_SQRT * math.sqrt(nlist))))


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
    ) -> None:
        if kind not in FAISS_KINDS:
            raise ConfigError(f"unknown FAISS index kind {kind!r}; choose {FAISS_KINDS}")
        if storage not in STORAGES:
            raise ConfigError(f"unknown storage {storage!r}; choose {STORAGES}")
        self.storage = storage if kind != "flat" else "flat"
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
        if self.storage == "flat":
            index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        else:
            qt = getattr(faiss.ScalarQuantizer, _SQ[self.storage])
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, self.dim, nlist, qt, faiss.METRIC_INNER_PRODUCT
            )
        index.nprobe = min(self.nprobe or default_nprobe(nlist), nlist)
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
            # k-means (IVF) or the quantizer's ranges (SQ) on a sample is enough
            n_train = min(self._n, getattr(index, "nlist", 1024) * 64)
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
        if len(q) >= SMALL_BATCH:
            return self._faiss.search(q, k)
        # One probe is one thread's work: OpenMP threads only add latency on a busy machine
        # (measured at 1M, IVF nprobe 256, 2 shared cores: p50 1.4 ms / p99 30 ms on one
        # thread; two threads splitting the lists: p50 0.8 ms but p99 132 ms).
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
            "storage": np.array(self.storage),
        }

    def _restore_extra(self, data: dict) -> None:
        m, efc, efs, nlist, nprobe = (int(x) for x in data["params"])
        self.hnsw_m, self.ef_construction, self.ef_search = m, efc, efs
        self.nlist, self.nprobe = (nlist or None), (nprobe or None)
        self.storage = str(data["storage"]) if "storage" in data else "flat"  # older files
        self._faiss = faiss.deserialize_index(np.asarray(data["faiss"], dtype=np.uint8))
        self._trained_rows = int(data["trained_rows"])
        if self._faiss.ntotal != self._n:
            raise ConfigError("gallery index file is inconsistent (FAISS rows != templates)")

    def memory_bytes(self) -> int:
        """Templates kept for re-ranking plus the FAISS structure (serialised size)."""
        assert self._faiss is not None
        return int(self._vectors[: self._n].nbytes + faiss.serialize_index(self._faiss).nbytes)
