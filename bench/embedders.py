"""Embedder benchmark: dlib's ResNet in dlib-bin against the same network on ONNX Runtime,
and the TF.js networks faceres and mobileface converted to ONNX (vision/tfjs_backend.py).

Cuts dlib chips (HOG + 5 landmarks) from LFW images once, before timing, then times the
embedding of those same chips by:
- `dlib`: dlib-bin's compute_face_descriptor, one call per batch (dlib itself runs a list
  in batches of 16), as the `dlib` backend does;
- `dlib-onnx`: the converted graph on ONNX Runtime (intra-op threads = 1 on one core),
  at batch 1 and at the backend's batch size;
- `faceres`, `mobileface`: their embedders' embed_chips (preprocessing included) on their
  own chips of the same faces, at the batch size.
The process is pinned to one CPU (os.sched_setaffinity, as taskset does) unless --cores
says otherwise. Rounds alternate the embedders so that load from elsewhere on a shared
machine slows them alike; the table gives the median over rounds of ms per face and the
ratio to dlib. With --check the ONNX descriptors are also compared with dlib's on every
chip (cosine of the two 128-d vectors, min and median).

    python bench/embedders.py                 # 64 chips, 5 rounds, one core
    python bench/embedders.py --quick         # 16 chips, 3 rounds (< 1 minute)
    python bench/embedders.py --faces 1000 --rounds 0 --check   # equivalence only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def _pin(cores: int) -> list[int]:
    cpus = sorted(os.sched_getaffinity(0))
    chosen = cpus[-cores:]  # the last CPUs: often the least busy with system work
    os.sched_setaffinity(0, set(chosen))
    return chosen


def cut_faces(root: Path, n: int) -> list:
    """(image, first face) of every k-th LFW image (name order), n of them."""
    from openlfr.vision.dlib_backend import DlibDetector
    from openlfr.vision.image import load_image

    paths = sorted((root / "lfw").glob("*/*.jpg"))
    if not paths:
        sys.exit(f"no LFW images under {root / 'lfw'} (set OPENLFR_DATA)")
    step = max(1, len(paths) // n)
    detector = DlibDetector(upsample=0)  # LFW faces are large; 4x cheaper than upsample=1
    found = []
    for path in paths[::step]:
        image = load_image(path)
        faces = detector.detect(image)
        if faces:
            found.append((image, faces[0]))
        if len(found) == n:
            break
    return found


def cut_chips(root: Path, n: int, spec=None, faces: list | None = None) -> np.ndarray:
    """Chips (dlib's 150 px by default) of the first face found in every k-th LFW image."""
    from openlfr.vision import align
    from openlfr.vision.dlib_backend import CHIP

    return np.stack([align.chip(im, f, spec or CHIP) for im, f in faces or cut_faces(root, n)])


def _timers(chips: np.ndarray, faces: list, threads: int, batch: int) -> dict:
    import onnxruntime as ort

    from openlfr.convert.dlib_models import resnet_onnx
    from openlfr.vision.dlib_backend import recognition_model

    net = recognition_model()
    listed = list(chips)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(resnet_onnx()), options, providers=["CPUExecutionProvider"])

    def dlib_all() -> None:
        net.compute_face_descriptor(listed, 0)

    def onnx_batched(size: int):
        def run() -> None:
            for start in range(0, len(chips), size):
                session.run(None, {"chips": chips[start : start + size]})

        return run

    timers = {
        "dlib": dlib_all,
        "dlib-onnx b1": onnx_batched(1),
        f"dlib-onnx b{batch}": onnx_batched(batch),
    }
    timers.update(_tfjs_timers(faces, options, batch))
    return timers


def _tfjs_timers(faces: list, options, batch: int) -> dict:
    """The faceres and mobileface embedders (their own chips of the same faces), batched,
    preprocessing included; skipped with a note when the package cannot be had."""
    from openlfr.errors import OpenLFRError
    from openlfr.vision.tfjs_backend import FaceresEmbedder, MobilefaceEmbedder

    timers = {}
    for cls in (FaceresEmbedder, MobilefaceEmbedder):
        try:
            embedder = cls(device="cpu", threads=options.intra_op_num_threads, batch_size=batch)
        except OpenLFRError as exc:
            print(f"{cls.network}: skipped ({exc})")
            continue
        chips = list(cut_chips(Path(), 0, cls.chip, faces))
        timers[f"{cls.network} b{batch}"] = lambda e=embedder, c=chips: e.embed_chips(c)
    return timers


def check(chips: np.ndarray) -> dict:
    """Cosine between dlib's descriptors and the ONNX graph's, chip by chip."""
    import onnxruntime as ort

    from openlfr.convert.dlib_models import resnet_onnx
    from openlfr.vision.dlib_backend import recognition_model

    session = ort.InferenceSession(str(resnet_onnx()), providers=["CPUExecutionProvider"])
    ref = np.array(
        [np.asarray(v) for v in recognition_model().compute_face_descriptor(list(chips), 0)]
    )
    ours = np.concatenate(
        [session.run(None, {"chips": chips[i : i + 64]})[0] for i in range(0, len(chips), 64)]
    ).astype(np.float64)
    cos = (ref * ours).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(ours, axis=1)
    return {
        "faces": len(chips),
        "cosine_min": float(cos.min()),
        "cosine_median": float(np.median(cos)),
        "max_abs_diff": float(np.abs(ref - ours).max()),
        "faces_below_0.9999": int((cos < 0.9999).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="shared face data folder")
    parser.add_argument("--faces", type=int, default=64, help="chips to embed per round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (0: none)")
    parser.add_argument("--batch", type=int, default=32, help="ONNX batch size")
    parser.add_argument("--cores", type=int, default=1, help="CPUs to pin to (threads too)")
    parser.add_argument("--check", action="store_true", help="compare descriptors with dlib's")
    parser.add_argument("--quick", action="store_true", help="16 chips, 3 rounds (< 1 min)")
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    args = parser.parse_args()
    if args.quick:
        args.faces, args.rounds = 16, 3

    from openlfr.paths import shared_faces_dir

    cpus = _pin(args.cores)
    faces = cut_faces(args.data or shared_faces_dir(), args.faces)
    chips = cut_chips(Path(), 0, faces=faces)
    result: dict = {
        "machine": platform.processor() or platform.machine(),
        "cpus": cpus,
        "faces": len(chips),
        "rounds": args.rounds,
    }
    if args.rounds:
        timers = _timers(chips, faces, threads=args.cores, batch=args.batch)
        for run in timers.values():  # warm up: first runs allocate
            run()
        wall: dict[str, list[float]] = {name: [] for name in timers}
        cpu: dict[str, list[float]] = {name: [] for name in timers}
        for _ in range(args.rounds):
            for name, run in timers.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                run()
                wall[name].append(1000 * (time.perf_counter() - start) / len(chips))
                cpu[name].append(1000 * (time.process_time() - start_cpu) / len(chips))
        dlib_ms = statistics.median(wall["dlib"])
        dlib_cpu = statistics.median(cpu["dlib"])
        rows = {}
        print(f"{len(chips)} chips, {args.rounds} rounds, {args.cores} core(s) {cpus}")
        print("medians over rounds; CPU time is less disturbed by other work on the machine")
        print(
            f"{'embedder':<16}{'ms/face':>9}{'min':>8}{'max':>8}{'x dlib':>8}"
            f"{'CPU ms':>9}{'x dlib':>8}"
        )
        for name in timers:
            med, med_cpu = statistics.median(wall[name]), statistics.median(cpu[name])
            rows[name] = {
                "ms_per_face": med,
                "min": min(wall[name]),
                "max": max(wall[name]),
                "speedup_vs_dlib": dlib_ms / med,
                "cpu_ms_per_face": med_cpu,
                "cpu_speedup_vs_dlib": dlib_cpu / med_cpu,
            }
            print(
                f"{name:<16}{med:>9.2f}{min(wall[name]):>8.2f}{max(wall[name]):>8.2f}"
                f"{dlib_ms / med:>8.1f}{med_cpu:>9.2f}{dlib_cpu / med_cpu:>8.1f}"
            )
        result["timings"] = rows
    if args.check:
        result["check"] = check(chips)
        c = result["check"]
        print(
            f"check on {c['faces']} faces: cosine min {c['cosine_min']:.7f}, "
            f"median {c['cosine_median']:.7f}, max |diff| {c['max_abs_diff']:.2e}, "
            f"{c['faces_below_0.9999']} below 0.9999"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
