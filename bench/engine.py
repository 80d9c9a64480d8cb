"""Face engine benchmark: ms per face for detect, quality, align, embed; faces/s end to end.

Runs the embedded dlib backend on LFW images (shared face data) and, in the same run,
the naive use of dlib's models, the face_recognition library's way: HOG upsampled once,
the 5-point shape per face, then one `compute_face_descriptor(image, shape)` call per face
(which cuts its own chip). Ours is the default engine (`DEFAULT_BACKEND` with its own
options: now the fused dlib ResNet + faceres embedder, one chip per model), plus dlib-onnx
alone (flip on: the previous default), without flip, and with dlib-bin's network, so each
step's gain shows. A fused embedder's components are also timed one by one
(`embed_parts_ms_per_face`). All rows share the same detector (dlib HOG, CNN fallback).

Everything runs on one core (one process pinned to one CPU) and on two cores (two
processes, each pinned to its own CPU, each doing half the images). Within a process the
pipelines take turns image by image, so load from elsewhere slows them alike. Images are
decoded before timing starts. Per-face stage times are summed over every image and divided
by the faces found; end-to-end faces/s adds up each process's faces / its time in that
pipeline. Timings on a shared machine are noisy: compare runs on the same one.

    python bench/engine.py            # 300 LFW images
    python bench/engine.py --quick    # 24 images (< 1 minute)
    python bench/engine.py --pipelines naive,openlfr   # only these rows
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

# openlfr: the default engine (DEFAULT_BACKEND, its default options); openlfr-dlib-onnx:
# dlib's ResNet on ONNX Runtime with flip averaging; openlfr-noflip: the same without flip
# (dlib's exact templates); openlfr-dlib: dlib-bin's own network behind our
# detect/quality/align stages.
PIPELINES = ("naive", "openlfr", "openlfr-dlib-onnx", "openlfr-noflip", "openlfr-dlib")


def sample_images(root: Path, n: int) -> list[Path]:
    """Every k-th LFW image in name order: many people, deterministic."""
    paths = sorted((root / "lfw").glob("*/*.jpg"))
    if not paths:
        sys.exit(f"no LFW images under {root / 'lfw'} (set OPENLFR_DATA)")
    step = max(1, len(paths) // n)
    return paths[::step][:n]


def _pin(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[cpu % len(cpus)]})


def _worker(paths: list[str], pipelines: list[str], cpu: int | None, barrier, queue) -> None:
    _pin(cpu)
    from openlfr.vision.image import load_image

    images = [load_image(p) for p in paths]
    runners = {name: _make_runner(name) for name in pipelines}
    for run in runners.values():
        run(images[0])  # warm up: first calls into dlib allocate
    stages = ("detect", "quality", "align", "embed")
    totals = {name: dict.fromkeys(stages, 0.0) for name in pipelines}
    faces = dict.fromkeys(pipelines, 0)
    elapsed = dict.fromkeys(pipelines, 0.0)
    barrier.wait()
    # Interleaved image by image, so that whatever else the machine is doing slows every
    # pipeline alike: the comparison stays fair on a shared machine.
    for image in images:
        for name, run in runners.items():
            start = time.perf_counter()
            faces[name] += run(image, totals[name])
            elapsed[name] += time.perf_counter() - start
    models = {name: run.model_id for name, run in runners.items()}
    queue.put(
        {
            "faces": faces,
            "elapsed": elapsed,
            "totals": totals,
            "images": len(images),
            "models": models,
        }
    )


def _make_runner(pipeline: str):
    if pipeline == "naive":
        import dlib

        from openlfr.vision import dlib_backend

        hog = dlib.get_frontal_face_detector()
        shape = dlib_backend.shape_predictor()
        net = dlib_backend.recognition_model()

        def naive(image: np.ndarray, totals: dict | None = None) -> int:
            t0 = time.perf_counter()
            shapes = [shape(image, r) for r in hog(image, 1)]
            t1 = time.perf_counter()
            _ = [np.array(net.compute_face_descriptor(image, s, 1)) for s in shapes]
            t2 = time.perf_counter()
            if totals is not None:
                totals["detect"] += t1 - t0
                totals["embed"] += t2 - t1  # includes dlib's own chip cutting
            return len(shapes)

        naive.model_id = "dlib-resnet-v1 (dlib-bin)"
        return naive

    from openlfr.vision import align, quality
    from openlfr.vision.backends import DEFAULT_BACKEND, get_backend
    from openlfr.vision.dlib_backend import DlibDetector, DlibEmbedder

    detector = DlibDetector(upsample=1, cnn_fallback=True)
    # One thread: each process is pinned to one core.
    if pipeline == "openlfr-dlib":
        embedder = DlibEmbedder()
    elif pipeline == "openlfr":
        embedder = get_backend(DEFAULT_BACKEND).make_embedder(threads=1)
    else:
        flip = pipeline == "openlfr-dlib-onnx"
        embedder = get_backend("dlib-onnx").make_embedder(flip=flip, threads=1)
    # A fused embedder: one chip per component model, each component timed on its own.
    parts = list(getattr(embedder, "components", None) or [embedder])
    specs = [p.chip for p in parts]

    def ours(image: np.ndarray, totals: dict | None = None) -> int:
        # The same steps as FaceEngine.analyse, timed one by one.
        t0 = time.perf_counter()
        faces = detector.detect(image)
        t1 = time.perf_counter()
        _ = [quality.assess(image, f) for f in faces]
        t2 = time.perf_counter()
        chip_sets = [[align.chip(image, f, spec) for f in faces] for spec in specs]
        t3 = time.perf_counter()
        part_times = []
        if faces:
            vectors = []
            for part, chips in zip(parts, chip_sets, strict=True):
                s = time.perf_counter()
                vectors.append(part.embed_chips(chips))
                part_times.append((part.model_id, time.perf_counter() - s))
            if len(parts) > 1:
                embedder.combine(vectors)
        t4 = time.perf_counter()
        if totals is not None:
            for key, dt in (("detect", t1 - t0), ("quality", t2 - t1)):
                totals[key] += dt
            totals["align"] += t3 - t2
            totals["embed"] += t4 - t3
            if len(parts) > 1:
                for model_id, dt in part_times:
                    key = "embed:" + model_id
                    totals[key] = totals.get(key, 0.0) + dt
        return len(faces)

    ours.model_id = embedder.model_id
    return ours


def measure(paths: list[Path], cores: int, pipelines: list[str]) -> list[dict]:
    """One row per pipeline; `cores` processes, each pinned to a CPU, share the images."""
    ctx = mp.get_context("spawn")  # fresh processes: no models or threads inherited
    barrier = ctx.Barrier(cores)
    queue = ctx.Queue()
    shares = [[str(p) for p in paths[i::cores]] for i in range(cores)]
    procs = [
        ctx.Process(target=_worker, args=(shares[i], pipelines, i, barrier, queue))
        for i in range(cores)
    ]
    for p in procs:
        p.start()
    parts = [queue.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join()
    rows = []
    for name in pipelines:
        faces = sum(r["faces"][name] for r in parts)
        per_face = {
            f"{k}_ms_per_face": (
                round(1000 * sum(r["totals"][name][k] for r in parts) / faces, 2) if faces else None
            )
            for k in ("detect", "quality", "align", "embed")
        }
        if name == "naive":  # cut inside compute_face_descriptor; no quality step
            per_face["align_ms_per_face"] = per_face["quality_ms_per_face"] = None
        # Each process is one core's worth of this pipeline: throughputs add up.
        rate = sum(r["faces"][name] / r["elapsed"][name] for r in parts if r["elapsed"][name])
        part_keys = sorted(k for k in parts[0]["totals"][name] if k.startswith("embed:"))
        if part_keys and faces:
            per_face["embed_parts_ms_per_face"] = {
                k.split(":", 1)[1]: round(
                    1000 * sum(r["totals"][name][k] for r in parts) / faces, 2
                )
                for k in part_keys
            }
        rows.append(
            {
                "pipeline": name,
                "model_id": parts[0]["models"][name],
                "cores": cores,
                "images": len(paths),
                "faces": faces,
                **per_face,
                "faces_per_s": round(rate, 2),
            }
        )
    return rows


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def print_table(rows: list[dict]) -> None:
    cols = ["pipeline", "cores", "images", "faces"]
    cols += [f"{k}_ms_per_face" for k in ("detect", "quality", "align", "embed")]
    cols += ["faces_per_s"]
    heads = ["pipeline", "cores", "images", "faces", "detect", "quality", "align", "embed"]
    heads += ["faces/s"]
    print("ms per face by stage; faces/s end to end (decoding excluded)")
    print("  ".join(f"{h:>12}" for h in heads))
    for r in rows:
        print("  ".join(f"{_fmt(r[c]):>12}" for c in cols))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="24 images (< 1 minute)")
    ap.add_argument("--images", type=int, default=None, help="number of LFW images (300)")
    ap.add_argument("--data", type=Path, default=None, help="shared face data folder")
    ap.add_argument(
        "--pipelines",
        default=",".join(PIPELINES),
        help=f"comma-separated rows to run (default: all of {', '.join(PIPELINES)})",
    )
    ap.add_argument(
        "--json",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "engine.json",
        help="where to write the results",
    )
    args = ap.parse_args(argv)
    pipelines = [p.strip() for p in args.pipelines.split(",") if p.strip()]
    unknown = sorted(set(pipelines) - set(PIPELINES))
    if unknown or not pipelines:
        ap.error(f"unknown pipelines {unknown}: choose from {', '.join(PIPELINES)}")

    from openlfr.paths import shared_faces_dir
    from openlfr.vision.backends import DEFAULT_BACKEND

    root = args.data or shared_faces_dir()
    n = args.images or (24 if args.quick else 300)
    paths = sample_images(root, n)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    core_counts = [1, 2] if (cpus or 1) >= 2 else [1]

    # Decoding, for reference (once, in this process).
    from openlfr.vision.image import load_image

    t = time.perf_counter()
    for p in paths:
        load_image(p)
    decode_ms = 1000 * (time.perf_counter() - t) / len(paths)

    rows = []
    for cores in core_counts:
        rows += measure(paths, cores, pipelines)
        print(f"  done: {cores} core(s)", file=sys.stderr)
    print_table(rows)
    for r in rows:
        for model_id, ms in (r.get("embed_parts_ms_per_face") or {}).items():
            print(
                f"  {r['pipeline']} on {r['cores']} core(s): {model_id} embeds in {ms:.2f} ms/face"
            )
    print(f"decode: {decode_ms:.2f} ms per 250x250 LFW JPEG")
    base = {r["cores"]: r for r in rows if r["pipeline"] == "naive"}
    for r in rows:
        naive = base.get(r["cores"])
        if r["pipeline"] != "naive" and r["faces_per_s"] and naive and naive["faces_per_s"]:
            r["speedup_vs_naive"] = round(r["faces_per_s"] / naive["faces_per_s"], 3)
            print(f"{r['pipeline']} on {r['cores']} core(s): {r['speedup_vs_naive']:.2f}x naive")

    result = {
        "benchmark": "engine",
        "quick": args.quick,
        "data": "LFW (deep-funneled, 250x250), every k-th image in name order",
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus_available": cpus,
            "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        },
        "default_backend": DEFAULT_BACKEND,
        "pipelines": pipelines,
        "decode_ms_per_image": round(decode_ms, 2),
        "results": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
