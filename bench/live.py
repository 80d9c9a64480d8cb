"""Live pipeline throughput on the 1080p opera-house clip: ours against the naive loop.

Naive (the popular face_recognition examples): every frame, HOG upsampled once over the
whole frame, every face embedded and searched. Ours: `openlfr.live.pipeline` with its
defaults (tiles at the smallest useful face's scale, windows around tracks, detection
every k-th frame in 2 worker processes, embedding only a track's best shots).

Both count "faces seen" the same way: the naive loop's detections go through the same
tracker, and a track with at least one usable face is one face seen. Raw detections
(face boxes over all frames) are reported too.

    python bench/live.py [--quick] [--json FILE] [--video PATH] [--skip-naive]

Writes bench/results/live.json (or --json FILE). --quick: the first 50 frames only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "video" / "opera-house-crowd-1080p.mp4"
LFW = ROOT.parent / "shared" / "data" / "lfw"


def small_watchlist(n: int = 20):
    """The first image of n LFW people (nobody in the clip)."""
    import tempfile

    from openlfr.gallery.enrol import enrol, read_sources
    from openlfr.gallery.watchlist import Watchlist
    from openlfr.vision.engine import FaceEngine

    tmp = Path(tempfile.mkdtemp(prefix="bench-live-wl-"))
    for person in sorted(p for p in LFW.iterdir() if p.is_dir())[:n]:
        first = sorted(person.glob("*.jpg"))[0]
        (tmp / person.name).mkdir()
        os.symlink(first, tmp / person.name / first.name)
    report = enrol(read_sources(tmp), FaceEngine.from_backend("dlib"))
    return Watchlist.from_report("bench", report, source=str(tmp))


def run_ours(video: Path, limit: int | None, watchlist, threshold: float) -> dict:
    from openlfr.gallery.identify import Threshold
    from openlfr.live.pipeline import Pipeline, PipelineConfig
    from openlfr.live.sinks import MemorySink
    from openlfr.live.source import VideoSource
    from openlfr.vision.engine import FaceEngine

    engine = FaceEngine.from_backend("dlib")
    sink = MemorySink()
    pipe = Pipeline(
        engine, watchlist, Threshold(threshold, "bench"), sink=sink, config=PipelineConfig()
    )
    pipe.start()  # workers up before the clock starts, as in a running deployment
    src = VideoSource(video)
    t0 = time.monotonic()
    src.start()
    for frame in src:
        pipe.process(frame)
        if limit and pipe.stats.frames_processed >= limit:
            break
    src.stop()
    stats = pipe.finish()
    wall = time.monotonic() - t0
    return {
        "frames": stats.frames_processed,
        "wall_s": wall,
        "video_s": stats.video_seconds,
        "faces_seen": stats.faces_seen,
        "tracks": stats.tracks,
        "detections": stats.detections,
        "embeddings": stats.embeddings,
        "alerts": stats.alerts,
    }


def run_naive(video: Path, limit: int | None, watchlist, threshold: float) -> dict:
    from openlfr.live.source import VideoSource
    from openlfr.live.tracker import Tracker
    from openlfr.vision.engine import FaceEngine

    engine = FaceEngine.from_backend("dlib", upsample=1)
    index = watchlist.index()
    tracker = Tracker()
    usable_tracks: set[int] = set()
    detections = embeddings = alerts = frames = 0
    alerted: set[int] = set()
    video_s = 0.0
    last = None
    t0 = time.monotonic()
    with VideoSource(video) as src:
        for frame in src:
            faces = engine.detect(frame.image)
            faces = engine.embed(frame.image, faces)
            detections += len(faces)
            embeddings += len(faces)
            matches, _ = tracker.update(faces, frames)
            for track, face in matches:
                if face.quality.usable:
                    usable_tracks.add(track.id)
                if index.search(face.template.vector, threshold, 1) and track.id not in alerted:
                    alerted.add(track.id)
                    alerts += 1
            if last is not None:
                video_s += frame.pts_seconds - last
            last = frame.pts_seconds
            frames += 1
            if limit and frames >= limit:
                break
    wall = time.monotonic() - t0
    return {
        "frames": frames,
        "wall_s": wall,
        "video_s": video_s + (video_s / max(1, frames - 1)),
        "faces_seen": len(usable_tracks),
        "tracks": tracker.started,
        "detections": detections,
        "embeddings": embeddings,
        "alerts": alerts,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    ap.add_argument("--quick", action="store_true", help="first 50 frames (< 1 minute)")
    ap.add_argument("--frames", type=int, default=None, help="process only this many frames")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "live.json")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--watchlist-size", type=int, default=20)
    args = ap.parse_args(argv)
    if not args.video.is_file():
        print(f"no video at {args.video}", file=sys.stderr)
        return 2
    limit = 50 if args.quick else args.frames
    from openlfr.gallery.identify import fallback_threshold

    wl = small_watchlist(args.watchlist_size)
    threshold = fallback_threshold(wl.model_id) or 0.93
    rows = {"ours": run_ours(args.video, limit, wl, threshold)}
    if not args.skip_naive:
        rows["naive"] = run_naive(args.video, limit, wl, threshold)
    for r in rows.values():
        r["fps"] = r["frames"] / r["wall_s"]
        r["realtime_factor"] = r["video_s"] / r["wall_s"]
    header = f"{'run':6} {'frames':>6} {'wall s':>7} {'fps':>6} {'video s/s':>9} "
    header += f"{'faces seen':>10} {'tracks':>6} {'detections':>10} {'embeds':>6} {'alerts':>6}"
    print(header)
    for name, r in rows.items():
        print(
            f"{name:6} {r['frames']:6d} {r['wall_s']:7.2f} {r['fps']:6.2f} "
            f"{r['realtime_factor']:9.3f} {r['faces_seen']:10d} {r['tracks']:6d} "
            f"{r['detections']:10d} {r['embeddings']:6d} {r['alerts']:6d}"
        )
    if "naive" in rows:
        speedup = rows["ours"]["fps"] / rows["naive"]["fps"]
        print(f"speed-up: {speedup:.1f}x the naive loop's frames per second")
    out = {
        "video": args.video.name,
        "quick": args.quick,
        "frames_limit": limit,
        "watchlist_size": len(wl.enrolled_subjects),
        "threshold": threshold,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_avg_1m": os.getloadavg()[0],
        },  # fmt: skip
        "runs": {
            k: {kk: (round(v, 3) if isinstance(v, float) else v) for kk, v in r.items()}
            for k, r in rows.items()
        },  # fmt: skip
    }
    if "naive" in rows:
        out["speedup_fps"] = round(rows["ours"]["fps"] / rows["naive"]["fps"], 2)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
