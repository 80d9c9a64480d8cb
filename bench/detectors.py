"""Face detectors for live video: faces found and their cost, against the naive reference.

The reference is the naive live loop's detector: dlib's HOG upsampled once over every whole
1080p frame of the opera-house clip (368 faces over 105 frames). Measured on the same frames,
in the same run (the machine is shared: ratios within one run are what to compare):

* ``hog-up1``: the reference; ``hog-up0``: HOG on the frame as it is (faces >= ~80 px);
* ``hog-tiles``: the live scanner's tile grid (openlfr.live.scan), every tile every frame,
  at its scale 80 / min_face (1.48x for 1080p): the cost of covering a frame once;
* ``hog-scan`` / ``mmod-scan`` / ``hybrid-scan``: the live scanner as the pipeline runs
  it, on every frame: the tiles due (whole frame once a second, idle parts every 2 s) plus
  a window around each tracked face; HOG, MMOD-ONNX, or HOG with MMOD-ONNX where HOG finds
  nothing in a window (detector "hog+mmod") as the region detector; ``-40``: min_face 40;
* ``blazeface tN``: MediaPipe BlazeFace "back" (openlfr.vision.blazeface, 1 thread) on
  every whole frame, cut into N-pixel square tiles (each resized to its 256 input) plus
  one whole-frame pass; ``blazeface-scan``: BlazeFace as the live scanner's region
  detector (800-px tiles in the scanner's scaled regions); ``@S``: min_score S (default
  MediaPipe's 0.5). With --only blazeface rows, BlazeFace and HOG also run on the group
  photos and LFW (found / total);
* ``mmod-onnx xS``: dlib's MMOD CNN on onnxruntime (openlfr.vision.mmod_onnx, 1 thread),
  the frame resized by S first; ``dlib-mmod``: dlib's own (dlib-bin), for its speed.

Heavy variants run on every ``--stride``-th frame (dlib's own on every 3x that); each is
compared with the reference on its own frames. Times are per frame (mean: total / frames,
as the scanners work in bursts), detection plus 5-point landmarks; CPU time (this
process, all threads) is reported beside wall time because other people's jobs inflate
wall time here. Also: found / total on the group
photos and on LFW images (one face each), and whether MMOD-ONNX finds dlib's faces there
(IoU >= 0.95).

    python bench/detectors.py [--quick] [--json FILE] [--stride N] [--lfw N]
    python bench/detectors.py --only hybrid-scan,hybrid-grey-scan   # reference + these

A focused run (--only) is written into the JSON file's "focused_runs" (keyed by its
variants), beside the full run's figures.

Writes bench/results/detectors.json (or --json FILE). --quick: 8 frames, 10 LFW images,
no dlib upsampling (< 1 minute on an idle 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DEFAULT_VIDEO = DATA / "video" / "opera-house-crowd-1080p.mp4"
GROUP = DATA / "small-sets" / "group-photos"
LFW = DATA / "lfw"
REFERENCE = "hog-up1"
MATCH_IOU = 0.3  # a detection "is" a reference face when their boxes overlap this much
WINDOW_PIXELS = 360_000  # hog+mmod: MMOD fallback in regions of at most 600 x 600 px

Box = tuple[float, float, float, float]


def _iou(a: Box, b: Box) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _timed(fn: Callable, *args):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000


@dataclass
class Variant:
    name: str
    detect: Callable[[np.ndarray, int, float], list[Box]]  # image, frame index, pts (s)
    every: int = 1
    frames: list[int] = field(default_factory=list)
    found: list[int] = field(default_factory=list)
    matched: list[int] = field(default_factory=list)  # reference faces it also found
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)


def _boxes(faces) -> list[Box]:
    return [tuple(float(v) for v in f.box) for f in faces]


def _frame_detector(detector) -> Callable:
    return lambda image, _i, _t: _boxes(detector.detect(image))


def _tiles_detector(min_face: int, tile: int) -> Callable:
    from openlfr.live.scan import HOG_WINDOW, detect_region, tile_grid
    from openlfr.live.tracker import nms
    from openlfr.vision.dlib_backend import DlibDetector
    from openlfr.vision.face import Face

    detector = DlibDetector(upsample=0, cnn_fallback=False)
    scale = HOG_WINDOW / min_face

    def run(image: np.ndarray, _i: int, _t: float) -> list[Box]:
        h, w = image.shape[:2]
        t = max(64, int(tile / scale))
        grid = tile_grid(w, h, t, min(t // 2, int(min_face * 2.5)))
        faces = [
            Face(box=box, score=score)
            for x1, y1, x2, y2 in grid
            for box, score, _m, _e in detect_region(detector, image[y1:y2, x1:x2], (x1, y1), scale)
        ]
        return _boxes(nms(faces))

    return run


def _scan_detector(detector, min_face: int, tile: int) -> Callable:
    """The live scanner and tracker around `detector`, detecting on every frame."""
    from openlfr.live.scan import RegionDetector, Scanner
    from openlfr.live.tracker import Tracker

    scanner = Scanner(min_face=min_face, tile=tile, max_scale=4.0)
    regions = RegionDetector(workers=0, detector=detector)
    tracker = Tracker(max_misses=4, max_gap_frames=5)

    def run(image: np.ndarray, index: int, pts: float) -> list[Box]:
        h, w = image.shape[:2]
        predicted = tracker.predicted(index)
        plan = scanner.plan(w, h, list(predicted.values()), pts)
        faces = [f for f in regions.detect(image, plan.regions) if f.landmarks is not None]
        scanner.observe([f.box for f in faces], pts)
        tracker.update(faces, index)
        return _boxes(faces)

    return run


def _dlib_mmod(upsample: int) -> Callable[[np.ndarray], list[tuple[tuple, float]]]:
    import dlib

    from openlfr.vision.dlib_backend import MMOD, model_path

    net = dlib.cnn_face_detection_model_v1(str(model_path(MMOD)))

    def run(image: np.ndarray) -> list[tuple[tuple, float]]:
        return [
            ((d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()), d.confidence)
            for d in net(image, upsample)
        ]

    return run


def _dlib_mmod_faces(run) -> Callable:
    from openlfr.vision.dlib_backend import shape_predictor

    shape = shape_predictor()

    def detect(image: np.ndarray, _i: int, _t: float) -> list[Box]:
        import dlib

        out = []
        for rect, _score in run(image):
            shape(image, dlib.rectangle(*rect))  # landmarks, as every other variant
            out.append((rect[0], rect[1], rect[2] + 1.0, rect[3] + 1.0))
        return out

    return detect


# --- the clip --------------------------------------------------------------------------


def decode(video: Path, limit: int | None):
    import av

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        for i, frame in enumerate(container.decode(stream)):
            if limit is not None and i >= limit:
                return
            yield i, float(frame.time or 0.0), frame.to_ndarray(format="rgb24")


def run_clip(
    video: Path, limit: int | None, stride: int, threads: int, only: list[str] | None = None
) -> dict:
    from openlfr.vision.dlib_backend import DlibDetector
    from openlfr.vision.mmod_onnx import HogMmodDetector, MmodOnnxDetector

    def mmod(scale: float) -> MmodOnnxDetector:
        return MmodOnnxDetector(upsample=0, scale=scale, device="cpu", threads=threads)

    def hybrid(grey: bool = False) -> HogMmodDetector:
        # Fallback in track windows (~250 px) only, not in the ~1 MP tiles.
        return HogMmodDetector(
            upsample=0,
            fallback_max_pixels=WINDOW_PIXELS,
            device="cpu",
            threads=threads,
            grey=grey,
        )

    def blaze(tile: int | None, min_score: float = 0.5):
        from openlfr.vision.blazeface import BlazeFaceDetector

        return BlazeFaceDetector(tile=tile, min_score=min_score, device="cpu", threads=threads)

    min_face, tile = 54, 1000  # the live pipeline's defaults for a 1080-row frame
    variants = [
        Variant(REFERENCE, _frame_detector(DlibDetector(upsample=1, cnn_fallback=False))),
        Variant("hog-up0", _frame_detector(DlibDetector(upsample=0, cnn_fallback=False))),
        Variant("hog-tiles", _tiles_detector(min_face, tile)),
        Variant(
            "hog-scan",
            _scan_detector(DlibDetector(upsample=0, cnn_fallback=False), min_face, tile),
        ),
        Variant("mmod-scan", _scan_detector(mmod(1.0), min_face, tile)),
        Variant("hybrid-scan", _scan_detector(hybrid(), min_face, tile)),
        Variant("hybrid-scan-40", _scan_detector(hybrid(), 40, tile)),
        # The live pipeline's default (PipelineConfig.detector): HOG on the grey image.
        Variant("hybrid-grey-scan", _scan_detector(hybrid(grey=True), min_face, tile)),
        Variant("mmod-onnx x1.0", _frame_detector(mmod(1.0))),
        Variant("mmod-onnx x1.5", _frame_detector(mmod(1.5)), every=stride),
        Variant("mmod-onnx x2.0", _frame_detector(mmod(2.0)), every=stride),
        Variant("dlib-mmod x1.0", _dlib_mmod_faces(_dlib_mmod(0)), every=3 * stride),
    ]
    # BlazeFace: built only when asked for (--only), as the rows above are by default.
    blaze_rows = {
        "blazeface t540": lambda: _frame_detector(blaze(540)),
        "blazeface t540@0.65": lambda: _frame_detector(blaze(540, 0.65)),
        "blazeface t700": lambda: _frame_detector(blaze(700)),
        "blazeface-scan": lambda: _scan_detector(blaze(800), min_face, tile),
        "blazeface-scan@0.65": lambda: _scan_detector(blaze(800, 0.65), min_face, tile),
    }
    variants += [Variant(name, make()) for name, make in blaze_rows.items() if name in (only or [])]
    if only:
        variants = [v for v in variants if v.name == REFERENCE or v.name in only]
    reference: dict[int, list[Box]] = {}
    pixels = 0
    for index, pts, image in decode(video, limit):
        pixels = image.shape[0] * image.shape[1]
        for v in variants:
            if index % v.every:
                continue
            boxes, wall, cpu = _timed(v.detect, image, index, pts)
            if v.name == REFERENCE:
                reference[index] = boxes
            ref = reference[index]
            v.frames.append(index)
            v.found.append(len(boxes))
            v.matched.append(sum(any(_iou(r, b) >= MATCH_IOU for b in boxes) for r in ref))
            v.wall_ms.append(wall)
            v.cpu_ms.append(cpu)
        print(f"\rframe {index + 1}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    ref_cpu = {i: c for i, c in zip(variants[0].frames, variants[0].cpu_ms, strict=True)}
    ref_wall = {i: c for i, c in zip(variants[0].frames, variants[0].wall_ms, strict=True)}
    rows = {}
    for v in variants:
        ref_faces = sum(len(reference[i]) for i in v.frames)
        same_ref_cpu = statistics.mean(ref_cpu[i] for i in v.frames)
        rows[v.name] = {
            "frames": len(v.frames),
            "faces": sum(v.found),
            "reference_faces": ref_faces,
            "faces_vs_reference": round(sum(v.found) / max(1, ref_faces), 3),
            "reference_faces_found": round(sum(v.matched) / max(1, ref_faces), 3),
            "faces_per_frame": round(sum(v.found) / max(1, len(v.frames)), 2),
            # Mean (total / frames): the scanners' cost comes in bursts (tiles due), so
            # the median frame would hide it. The median is given beside it.
            "ms_per_frame_cpu": round(statistics.mean(v.cpu_ms), 1),
            "ms_per_frame_wall": round(statistics.mean(v.wall_ms), 1),
            "median_ms_per_frame_cpu": round(statistics.median(v.cpu_ms), 1),
            # Its total CPU time / the reference's on the same frames.
            "cost_vs_reference": round(sum(v.cpu_ms) / sum(ref_cpu[i] for i in v.frames), 3),
            "reference_ms_cpu_same_frames": round(same_ref_cpu, 1),
            "wall_vs_reference": round(sum(v.wall_ms) / sum(ref_wall[i] for i in v.frames), 3),
        }
    mp = pixels / 1e6
    per_mp = {
        name: {
            "ms_per_megapixel_cpu": round(rows[name]["ms_per_frame_cpu"] / mp, 1),
            "ms_per_megapixel_wall": round(rows[name]["ms_per_frame_wall"] / mp, 1),
        }
        for name in ("mmod-onnx x1.0", "dlib-mmod x1.0")
        if name in rows
    }
    # Same frames only: dlib's frames are a subset of mmod-onnx x1.0's.
    by_name = {v.name: v for v in variants}
    if "mmod-onnx x1.0" in by_name and "dlib-mmod x1.0" in by_name:
        onnx_v = by_name["mmod-onnx x1.0"]
        onnx = {i: c for i, c in zip(onnx_v.frames, onnx_v.cpu_ms, strict=True)}
        dlib_v = by_name["dlib-mmod x1.0"]
        per_mp["dlib_over_onnx_cpu_same_frames"] = round(
            statistics.median(
                c / onnx[i] for i, c in zip(dlib_v.frames, dlib_v.cpu_ms, strict=True)
            ),
            2,
        )
    return {
        "frames": len(reference),
        "megapixels": round(mp, 3),
        "variants": rows,
        "mmod_speed": per_mp,
    }


# --- stills ----------------------------------------------------------------------------


def run_stills(n_lfw: int, threads: int, dlib_upsample: bool) -> dict:
    from openlfr.vision.dlib_backend import DlibDetector
    from openlfr.vision.image import load_image
    from openlfr.vision.mmod_onnx import MmodOnnxDetector

    onnx0 = MmodOnnxDetector(upsample=0, device="cpu", threads=threads, landmarks=False)
    onnx1 = MmodOnnxDetector(upsample=1, device="cpu", threads=threads, landmarks=False)
    dlib0, dlib1 = _dlib_mmod(0), _dlib_mmod(1)
    hog = {u: DlibDetector(upsample=u, cnn_fallback=False) for u in (0, 1)}

    def agree(theirs, ours) -> tuple[bool, float, float]:
        if len(theirs) != len(ours):
            return False, 0.0, 1.0
        worst, diff = 1.0, 0.0
        for rect, score in theirs:
            best = max(ours, key=lambda o: _iou(_edges(o[0]), _edges(rect)))
            worst = min(worst, _iou(_edges(best[0]), _edges(rect)))
            diff = max(diff, abs(best[1] - score))
        return worst >= 0.95, worst, diff

    def measure(images: list[tuple[str, np.ndarray]], upsample_dlib: bool) -> dict:
        counts: dict[str, list[int]] = {}
        ms: dict[str, list[float]] = {}
        agreement = {"images": 0, "same_faces": 0, "worst_iou": 1.0, "max_score_diff": 0.0}
        pixels = 0
        for _name, image in images:
            pixels += image.shape[0] * image.shape[1]
            runs = {
                "hog-up0": lambda im: hog[0].detect(im),
                "hog-up1": lambda im: hog[1].detect(im),
                "mmod-onnx up0": onnx0.detect_rects,
                "mmod-onnx up1": onnx1.detect_rects,
                "dlib-mmod up0": dlib0,
            }
            if upsample_dlib:
                runs["dlib-mmod up1"] = dlib1
            out = {}
            for key, fn in runs.items():
                found, _wall, cpu = _timed(fn, image)
                out[key] = found
                counts.setdefault(key, []).append(len(found))
                ms.setdefault(key, []).append(cpu)
            pairs = [("dlib-mmod up0", "mmod-onnx up0")]
            if upsample_dlib:
                pairs.append(("dlib-mmod up1", "mmod-onnx up1"))
            for theirs, ours in pairs:
                same, worst, diff = agree(out[theirs], out[ours])
                agreement["images"] += 1
                agreement["same_faces"] += int(same)
                agreement["worst_iou"] = round(min(agreement["worst_iou"], worst), 4)
                agreement["max_score_diff"] = max(agreement["max_score_diff"], diff)
        return {
            "images": len(images),
            "megapixels": round(pixels / 1e6, 3),
            "faces": {k: sum(v) for k, v in counts.items()},
            "images_with_a_face": {k: sum(1 for n in v if n) for k, v in counts.items()},
            "cpu_ms_total": {k: round(sum(v)) for k, v in ms.items()},
            "mmod_onnx_vs_dlib": agreement,
        }

    group = [(p.name, load_image(p)) for p in sorted(GROUP.glob("*.jpg"))]
    files = sorted(LFW.glob("*/*.jpg"))
    step = max(1, len(files) // n_lfw)
    lfw = [(p.name, load_image(p)) for p in files[::step][:n_lfw]]
    return {
        "group_photos": measure(group, dlib_upsample),
        "lfw": measure(lfw, False),
    }


def run_blaze_stills(n_lfw: int, threads: int) -> dict:
    """BlazeFace (whole image, and 540-px tiles) against HOG on the group photos and LFW."""
    from openlfr.vision.blazeface import BlazeFaceDetector
    from openlfr.vision.dlib_backend import DlibDetector
    from openlfr.vision.image import load_image

    runs = {
        "hog-up0": DlibDetector(upsample=0, cnn_fallback=False),
        "hog-up1": DlibDetector(upsample=1, cnn_fallback=False),
        "blazeface": BlazeFaceDetector(tile=None, device="cpu", threads=threads),
        "blazeface t540": BlazeFaceDetector(tile=540, device="cpu", threads=threads),
    }

    def measure(images: list[tuple[str, np.ndarray]]) -> dict:
        counts: dict[str, list[int]] = {k: [] for k in runs}
        ms: dict[str, list[float]] = {k: [] for k in runs}
        for _name, image in images:
            for key, det in runs.items():
                found, _wall, cpu = _timed(det.detect, image)
                counts[key].append(len(found))
                ms[key].append(cpu)
        return {
            "images": len(images),
            "faces": {k: sum(v) for k, v in counts.items()},
            "images_with_a_face": {k: sum(1 for n in v if n) for k, v in counts.items()},
            "images_with_one_face": {k: sum(1 for n in v if n == 1) for k, v in counts.items()},
            "cpu_ms_per_image": {k: round(statistics.mean(v), 1) for k, v in ms.items()},
        }

    group = [(p.name, load_image(p)) for p in sorted(GROUP.glob("*.jpg"))]
    files = sorted(LFW.glob("*/*.jpg"))
    step = max(1, len(files) // n_lfw)
    lfw = [(p.name, load_image(p)) for p in files[::step][:n_lfw]]
    return {"group_photos": measure(group), "lfw": measure(lfw)}


def _edges(rect) -> Box:
    # Inclusive dlib rect -> edges, for IoU.
    return (rect[0], rect[1], rect[2] + 1.0, rect[3] + 1.0)


def _table(clip: dict) -> str:
    lines = [
        f"{'variant':16} {'frames':>6} {'faces':>6} {'ref':>5} {'found/ref':>9} "
        f"{'ref hit':>7} {'ms cpu':>8} {'ms wall':>8} {'cost/ref':>8}"
    ]
    for name, r in clip["variants"].items():
        lines.append(
            f"{name:16} {r['frames']:6d} {r['faces']:6d} {r['reference_faces']:5d} "
            f"{r['faces_vs_reference']:9.2f} {r['reference_faces_found']:7.2f} "
            f"{r['ms_per_frame_cpu']:8.0f} {r['ms_per_frame_wall']:8.0f} "
            f"{r['cost_vs_reference']:8.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 frames, 10 LFW images")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "detectors.json")
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--stride", type=int, default=5, help="heavy variants: every Nth frame")
    parser.add_argument("--lfw", type=int, default=200, help="LFW images (one face each)")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated variants to run besides the reference (e.g. "
        "hybrid-scan,hybrid-grey-scan); skips the stills",
    )
    parser.add_argument("--frames", type=int, default=None, help="first N frames only")
    args = parser.parse_args(argv)
    if not args.video.is_file():
        print(f"no video at {args.video}", file=sys.stderr)
        return 2
    limit = 8 if args.quick else args.frames
    only = [v for v in args.only.split(",") if v]
    stride = 4 if args.quick else args.stride
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()
    clip = run_clip(args.video, limit, stride, args.threads, only)
    print(_table(clip))
    print("MMOD speed:", json.dumps(clip["mmod_speed"]))
    n_lfw = 10 if args.quick else args.lfw
    if not only:
        stills = run_stills(n_lfw, args.threads, not args.quick)
    elif any(v.startswith("blazeface") for v in only):
        stills = run_blaze_stills(n_lfw, args.threads)
    else:
        stills = {}
    for key, s in stills.items():
        print(f"{key}: faces {s['faces']}")
        print(f"  images with a face {s['images_with_a_face']} of {s['images']}")
        if "mmod_onnx_vs_dlib" in s:
            print(f"  MMOD-ONNX vs dlib: {s['mmod_onnx_vs_dlib']}; cpu ms {s['cpu_ms_total']}")
        else:
            print(f"  one face {s['images_with_one_face']}; cpu ms/image {s['cpu_ms_per_image']}")
    result = {
        "video": args.video.name,
        "quick": args.quick,
        "stride": stride,
        "onnx_threads": args.threads,
        "only": only or None,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_avg_1m_start": round(load0, 2),
            "load_avg_1m_end": round(os.getloadavg()[0], 2),
        },
        "wall_s": round(time.monotonic() - t0, 1),
        "clip": clip,
        "stills": stills,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    if only and args.json.is_file():
        # A focused run (--only) keeps the full run's figures and sits beside them.
        full = json.loads(args.json.read_text())
        full.setdefault("focused_runs", {})[",".join(only)] = result
        result = full
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
