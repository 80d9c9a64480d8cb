"""1:N search benchmark: latency (p50, p99), memory and recall@1 against exact, per index kind.

Synthetic, face-like templates (openlfr.gallery.synthetic): clustered 128-d unit vectors,
one template per subject; mated probes are fresh noisy copies of enrolled identities (mate
cosine ~0.7), non-mated probes are identities of the same clusters that are not enrolled.
Latency is one probe per call (the live pipeline's shape), top_k=5, threshold 0 (worst case:
the result list is always full). Recall@1 compares each index's first subject with the exact
numpy reference's, for mated and for non-mated probes separately.

Also measures template fusion (max over a subject's templates vs their mean template) on
synthetic subjects with templates of mixed quality, and on real faces with --lfw DIR.

    python bench/search.py                # N = 10k, 100k, 1M (several minutes)
    python bench/search.py --quick        # N = 10k, 100k, fewer probes (< 1 minute)
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from openlfr.gallery import synthetic
from openlfr.gallery.faiss_index import FaissIndex
from openlfr.gallery.index import ExactIndex, mean_template

KINDS = ("exact", "flat", "hnsw", "ivf")


def make_data(n: int, dim: int, n_probes: int, seed: int = 0):
    ids = synthetic.identities(n + n_probes, dim, seed=seed)
    gallery = synthetic.templates(ids[:n], 1, seed=seed + 1)[:, 0]
    rng = np.random.default_rng(seed + 2)
    mated_rows = rng.choice(n, n_probes, replace=False)
    mated = synthetic.templates(ids[mated_rows], 1, seed=seed + 3)[:, 0]
    nonmated = synthetic.templates(ids[n:], 1, seed=seed + 4)[:, 0]
    return gallery, mated, nonmated


def build(kind: str, dim: int, gallery: np.ndarray):
    ix = ExactIndex("bench", dim) if kind == "exact" else FaissIndex("bench", dim, kind=kind)
    t = time.perf_counter()
    ix.rebuild([(f"s{i}", v) for i, v in enumerate(gallery)])
    return ix, time.perf_counter() - t


def memory_bytes(ix) -> int:
    if isinstance(ix, FaissIndex):
        return ix.memory_bytes()
    return int(ix._vectors[: ix._n].nbytes)


def latencies(ix, probes: np.ndarray) -> tuple[np.ndarray, list]:
    times, results = [], []
    for p in probes:
        t = time.perf_counter()
        results.append(ix.search(p, threshold=0.0, top_k=5))
        times.append(time.perf_counter() - t)
    return np.asarray(times) * 1000.0, results


def top1(results) -> list[str | None]:
    return [r[0].subject_id if r else None for r in results]


def bench_size(n: int, dim: int, n_probes: int, kinds, out: list, efs=(None,)) -> None:
    gallery, mated, nonmated = make_data(n, dim, n_probes)
    truth_box: list = []  # exact top-1 subjects, from the first (exact) kind
    for kind in kinds:
        ix, build_s = build(kind, dim, gallery)
        for ef in efs if kind == "hnsw" else (None,):
            if ef:
                ix.ef_search = ef
            measure(ix, kind, n, build_s, gallery, mated, nonmated, truth_box, out)
        del ix


def measure(ix, kind, n, build_s, gallery, mated, nonmated, truth_box, out) -> None:
    dim, n_probes = gallery.shape[1], len(mated)
    # (exact numpy at 1M is ~10-50 ms a probe: fewer probes keep the run short)
    # exact numpy at 1M is ~50 ms a probe: fewer probes keep the run short
    probes_m = mated if not (kind == "exact" and n >= 500_000) else mated[: n_probes // 3]
    ms, res_m = latencies(ix, probes_m)
    ms_n, res_n = latencies(ix, nonmated[: len(probes_m)])
    ms = np.concatenate([ms, ms_n])
    if not truth_box:
        ref = ix if kind == "exact" else ExactIndex("bench", dim)
        if ref is not ix:
            ref.rebuild([(f"s{i}", v) for i, v in enumerate(gallery)])
        truth_box.append(
            (top1(ref.search_batch(mated, 0.0, 1)), top1(ref.search_batch(nonmated, 0.0, 1)))
        )
    truth = truth_box[0]
    rec_m = float(np.mean([a == b for a, b in zip(top1(res_m), truth[0], strict=False)]))
    rec_n = float(np.mean([a == b for a, b in zip(top1(res_n), truth[1], strict=False)]))
    t = time.perf_counter()
    ix.search_batch(mated, 0.0, 5)
    batch_qps = len(mated) / (time.perf_counter() - t)
    row = {
        "n": n,
        "kind": kind,
        "params": params(ix),
        "build_s": round(build_s, 2),
        "memory_mb": round(memory_bytes(ix) / 2**20, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "recall1_mated": round(rec_m, 4),
        "recall1_nonmated": round(rec_n, 4),
        "batch_qps": round(batch_qps, 1),
        "probes": int(len(ms)),
    }
    out.append(row)
    print_row(row)


def params(ix) -> str:
    if getattr(ix, "kind", "") == "hnsw":
        return f"M={ix.hnsw_m} efC={ix.ef_construction} efS={ix.ef_search}"
    if getattr(ix, "kind", "") == "ivf":
        return f"nlist={ix._faiss.nlist} nprobe={ix._faiss.nprobe}"
    return ""


def print_row(r: dict) -> None:
    print(
        f"{r['n']:>9,} {r['kind']:>6} {r['params']:>26} "
        f"{r['build_s']:>8.1f} {r['memory_mb']:>8.1f} "
        f"{r['p50_ms']:>8.3f} {r['p99_ms']:>8.3f} {r['recall1_mated']:>8.4f} "
        f"{r['recall1_nonmated']:>8.4f} {r['batch_qps']:>10.0f}",
        flush=True,
    )


# ---- fusion: max over templates vs mean template -------------------------------------------


def open_set(gallery: dict[str, np.ndarray], mated, nonmated, fusion: str) -> dict:
    """TPIR (rank-1 hit above threshold) at the thresholds giving FPIR 1e-2 and 1e-3."""
    ix = ExactIndex("fusion", next(iter(gallery.values())).shape[1])
    for s, v in gallery.items():
        ix.add(s, mean_template(v) if fusion == "mean" else v)
    non = np.array([r[0].similarity if r else 0.0 for r in ix.search_batch(nonmated, 0.0, 1)])
    res = ix.search_batch(np.stack([v for _, v in mated]), 0.0, 1)
    out = {"fusion": fusion}
    hits = np.array(
        [bool(r) and r[0].subject_id == s for r, (s, _) in zip(res, mated, strict=True)]
    )
    out["rank1"] = round(float(hits.mean()), 4)
    for fpir in (1e-2, 1e-3):
        t = float(np.quantile(non, 1 - fpir)) if len(non) else 1.0
        sims = np.array([r[0].similarity if r else 0.0 for r in res])
        out[f"tpir@fpir={fpir:g}"] = round(float(np.mean(hits & (sims > t))), 4)
    return out


def fusion_synthetic(n_subjects: int, per: int, dim: int, n_probes: int) -> list[dict]:
    # Templates of mixed quality (cosine to the identity 0.2 .. 0.7), as enrolment photos
    # are; probes at 0.45 (a live camera's face is rarely as good as a mugshot).
    rng = np.random.default_rng(7)
    ids = synthetic.identities(n_subjects + n_probes, dim, seed=7)
    gallery = {}
    for i in range(n_subjects):
        qs = rng.uniform(0.2, 0.7, per)
        gallery[f"s{i}"] = np.concatenate(
            [synthetic.templates(ids[i : i + 1], 1, mate_similarity=q, seed=i)[0] for q in qs]
        )
    rows = rng.choice(n_subjects, n_probes, replace=False)
    mated = [
        (
            f"s{r}",
            synthetic.templates(ids[r : r + 1], 1, mate_similarity=0.45, seed=10**6 + r)[0, 0],
        )
        for r in rows
    ]
    nonmated = synthetic.templates(ids[n_subjects:], 1, seed=99)[:, 0]
    return [
        dict(data="synthetic", **open_set(gallery, mated, nonmated, f)) for f in ("max", "mean")
    ]


def fusion_lfw(faces: Path, people: int, per: int) -> list[dict]:
    """Real faces: people with more than `per` images enrol `per`, probe with the rest;
    people with one image are non-mated probes (dlib embeddings, cached)."""
    from openlfr.evaluation.cache import embed_images, primary_face
    from openlfr.evaluation.datasets import scan_people, spread
    from openlfr.vision.engine import FaceEngine

    all_people = scan_people(faces)
    multi = spread([p for p, imgs in all_people.items() if len(imgs) > per], people)
    single = spread([p for p, imgs in all_people.items() if len(imgs) == 1], 3 * people)
    paths = [im for p in multi for im in all_people[p][: per + 3]]
    paths += [all_people[p][0] for p in single]
    engine = FaceEngine.from_backend("dlib")
    results = embed_images(engine, paths, progress=False)
    vec = {}
    for r in results:
        f = primary_face(r)
        if f is not None:
            vec[r.path] = f.template.vector
    gallery, mated = {}, []
    for p in multi:
        imgs = [im for im in all_people[p][: per + 3] if im in vec]
        if len(imgs) <= per:
            continue
        gallery[p] = np.stack([vec[im] for im in imgs[:per]])
        mated += [(p, vec[im]) for im in imgs[per:]]
    nonmated = np.stack([vec[all_people[p][0]] for p in single if all_people[p][0] in vec])
    return [
        dict(data=f"lfw ({len(gallery)} people)", **open_set(gallery, mated, nonmated, f))
        for f in ("max", "mean")
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N up to 100k, fewer probes (< 1 min)")
    ap.add_argument("--sizes", default=None, help="comma-separated gallery sizes")
    ap.add_argument("--kinds", default=",".join(KINDS), help="index kinds (first must be exact)")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--hnsw-ef", default="", help="HNSW efSearch values to measure (one build)")
    ap.add_argument("--no-search", action="store_true", help="only the fusion measurement")
    ap.add_argument("--probes", type=int, default=None, help="mated (and non-mated) probes")
    ap.add_argument("--lfw", type=Path, default=None, help="also measure fusion on LFW (dlib)")
    ap.add_argument("--lfw-people", type=int, default=60)
    ap.add_argument("--json", type=Path, default=Path("bench/results/search.json"))
    args = ap.parse_args(argv)
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    )
    kinds = args.kinds.split(",")
    n_probes = args.probes or (200 if args.quick else 1000)

    rows: list[dict] = []
    print(
        f"{'N':>9} {'kind':>6} {'params':>26} {'build_s':>8} {'mem_MB':>8} "
        f"{'p50_ms':>8} {'p99_ms':>8} "
        f"{'rec1_m':>8} {'rec1_nm':>8} {'batch_qps':>10}"
    )
    efs = tuple(int(e) for e in args.hnsw_ef.split(",") if e) or (None,)
    for n in [] if args.no_search else sizes:
        bench_size(n, args.dim, n_probes, kinds, rows, efs)

    print("\nfusion of several templates per subject (exact index)")
    fusion = fusion_synthetic(2000 if args.quick else 5000, 3, args.dim, 500)
    if args.lfw:
        fusion += fusion_lfw(args.lfw, args.lfw_people, 3)
    for f in fusion:
        print("  " + "  ".join(f"{k}={v}" for k, v in f.items()))

    result = {
        "bench": "search",
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": sys.version.split()[0],
        "quick": args.quick,
        "dim": args.dim,
        "search": rows,
        "fusion": fusion,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
