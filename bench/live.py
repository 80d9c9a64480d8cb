"""Live pipeline throughput on the 1080p opera-house clip: ours against the naive loop.

Naive (the popular face_recognition examples): every frame, HOG upsampled once over the
whole frame, every face embedded and searched. Ours: `openlfr.live.pipeline` with its
defaults (tiles at the smallest useful face's scale, revisited by the stream's clock and
more often where faces pass, windows around tracks, detection every k-th frame in 2
worker processes, embedding only a track's best shots). Both use the default backend.

Both count faces the same way: the naive loop's detections go through the same tracker;
"faces seen" is the number of tracks with at least one face big enough to search (the
pipeline's `PipelineConfig.big_enough`), "usable" the number with at least one face
passing every quality check.
Raw detections (face boxes over all frames) are reported too.

The machine is shared, so wall time depends on what else runs. Each run also reports its
CPU seconds (this process and its detection workers) and ``cpu_realtime``: video seconds
per CPU second times the machine's cores, i.e. the real-time factor the run would have on
the whole (otherwise idle) machine. The 1-minute load average is recorded before and
after each run.

    python bench/live.py [--quick] [--json FILE] [--video PATH] [--skip-naive] [--also-hog]
        [--detector NAME] [--backend NAME]

Writes bench/results/live.json (or --json FILE). --quick: the first 30 frames only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "video" / "opera-house-crowd-1080p.mp4"
LFW = ROOT.parent / "shared" / "data" / "lfw"
_TICKS = os.sysconf("SC_CLK_TCK")


def small_watchlist(n: int = 20, backend: str | None = None):
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
    engine = FaceEngine.from_backend(backend) if backend else FaceEngine.from_backend()
    report = enrol(read_sources(tmp), engine)
    return Watchlist.from_report("bench", report, source=str(tmp))


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _pid_cpu(pid: int) -> float:
    """CPU seconds of a live process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def _worker_pids(pipe) -> list[int]:
    pool = pipe.detector._pool
    return list(getattr(pool, "_processes", {}) or {}) if pool is not None else []


class _Counter:
    """Faces seen / usable per track, as the pipeline counts them."""

    def __init__(self) -> None:
        from openlfr.live.pipeline import PipelineConfig

        self.config = PipelineConfig()  # the pipeline's own rule for a face seen
        self.seen: set[int] = set()
        self.usable: set[int] = set()

    def add(self, track_id: int, face) -> None:
        if self.config.big_enough(face.quality):
            self.seen.add(track_id)
        if face.quality.usable:
            self.usable.add(track_id)


def run_ours(
    video: Path,
    limit: int | None,
    watchlist,
    threshold: float,
    detector: str | None = None,
    backend: str | None = None,
) -> dict:
    from openlfr.gallery.identify import Threshold
    from openlfr.live.pipeline import Pipeline, PipelineConfig, live_engine
    from openlfr.live.sinks import MemorySink
    from openlfr.live.source import VideoSource

    # The detection workers build their detector from the backend too.
    chosen = {"detector": detector, "backend": backend}
    config = PipelineConfig(**{k: v for k, v in chosen.items() if v is not None})
    engine = live_engine(config.backend)  # the engine `openlfr run` embeds with
    sink = MemorySink()
    pipe = Pipeline(engine, watchlist, Threshold(threshold, "bench"), sink=sink, config=config)
    pipe.start()  # workers up before the clock starts, as in a running deployment
    workers = _worker_pids(pipe)
    load0 = os.getloadavg()[0]
    cpu0 = _self_cpu() + sum(_pid_cpu(p) for p in workers)
    src = VideoSource(video)
    t0 = time.monotonic()
    src.start()
    for frame in src:
        pipe.process(frame)
        if limit and pipe.stats.frames_processed >= limit:
            break
    src.stop()
    for track in pipe.tracker.end_all():  # finish() would stop the workers first
        pipe._end_track(track)
    cpu = _self_cpu() + sum(_pid_cpu(p) for p in workers) - cpu0
    wall = time.monotonic() - t0
    stats = pipe.finish()
    return {
        "detector": config.detector,
        "frames": stats.frames_processed,
        "wall_s": wall,
        "cpu_s": cpu,
        "video_s": stats.video_seconds,
        "faces_seen": stats.faces_seen,
        "faces_usable": stats.faces_usable,
        "tracks": stats.tracks,
        "detection_rounds": stats.detection_rounds,
        "detections": stats.detections,
        "embeddings": stats.embeddings,
        "alerts": stats.alerts,
        "load_avg_before": load0,
        "load_avg_after": os.getloadavg()[0],
    }


def run_naive(
    video: Path, limit: int | None, watchlist, threshold: float, backend: str | None = None
) -> dict:
    from openlfr.live.pipeline import PipelineConfig
    from openlfr.live.source import VideoSource
    from openlfr.live.tracker import Tracker
    from openlfr.vision.engine import FaceEngine

    engine = FaceEngine.from_backend(
        backend or PipelineConfig().backend, upsample=1, cnn_fallback=False
    )
    index = watchlist.index()
    # The same patience as ours, in frames: a track ends after as long unmatched (with
    # dlib's default patience, detections that flicker split one person into several).
    cfg = PipelineConfig()
    tracker = Tracker(
        max_misses=cfg.max_misses * cfg.detect_every,
        max_gap_frames=(cfg.max_misses + 1) * cfg.detect_every,
    )
    counter = _Counter()
    detections = embeddings = alerts = frames = 0
    alerted: set[int] = set()
    video_s = 0.0
    last = None
    load0 = os.getloadavg()[0]
    cpu0 = _self_cpu()
    t0 = time.monotonic()
    with VideoSource(video) as src:
        for frame in src:
            faces = engine.detect(frame.image)
            faces = engine.embed(frame.image, faces)
            detections += len(faces)
            embeddings += len(faces)
            matches, _ = tracker.update(faces, frames)
            for track, face in matches:
                counter.add(track.id, face)
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
        "cpu_s": _self_cpu() - cpu0,
        "video_s": video_s + (video_s / max(1, frames - 1)),
        "faces_seen": len(counter.seen),
        "faces_usable": len(counter.usable),
        "tracks": tracker.started,
        "detection_rounds": frames,
        "detections": detections,
        "embeddings": embeddings,
        "alerts": alerts,
        "load_avg_before": load0,
        "load_avg_after": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    ap.add_argument("--quick", action="store_true", help="first 30 frames (< 1 minute)")
    ap.add_argument("--frames", type=int, default=None, help="process only this many frames")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "live.json")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--watchlist-size", type=int, default=20)
    ap.add_argument(
        "--detector",
        default=None,
        help="region detector for ours (default: the pipeline's default; recorded in the JSON)",
    )
    ap.add_argument(
        "--backend", default=None, help="face engine backend for every run (default: the default)"
    )
    ap.add_argument(
        "--also-hog",
        action="store_true",
        help="also run ours with the HOG-only region detector (row ours-hog)",
    )
    args = ap.parse_args(argv)
    if not args.video.is_file():
        print(f"no video at {args.video}", file=sys.stderr)
        return 2
    limit = 30 if args.quick else args.frames
    from openlfr.gallery.identify import resolve_threshold

    wl = small_watchlist(args.watchlist_size, args.backend)
    # The threshold `openlfr run` would use: the model's calibration at the default FPIR
    # (a fixed fallback of 0.93 meant nothing on another model's scale, e.g. fused).
    threshold = resolve_threshold(wl.model_id, len(wl.template_subjects)).value
    cores = os.cpu_count() or 1
    rows = {"ours": run_ours(args.video, limit, wl, threshold, args.detector, args.backend)}
    if args.also_hog:
        rows["ours-hog"] = run_ours(
            args.video, limit, wl, threshold, detector="hog", backend=args.backend
        )
    if not args.skip_naive:
        rows["naive"] = run_naive(args.video, limit, wl, threshold, args.backend)
    for r in rows.values():
        r["fps"] = r["frames"] / r["wall_s"]
        r["realtime_factor"] = r["video_s"] / r["wall_s"]
        r["cpu_s_per_video_s"] = r["cpu_s"] / r["video_s"]
        r["cpu_realtime"] = r["video_s"] * cores / r["cpu_s"]
    header = (
        f"{'run':8} {'frames':>6} {'wall s':>7} {'cpu s':>6} {'fps':>6} {'video s/s':>9} "
        f"{'cpu-rt':>6} {'seen':>5} {'usable':>6} {'tracks':>6} {'dets':>5} {'embeds':>6} "
        f"{'alerts':>6} {'load':>9}"
    )
    print(header)
    for name, r in rows.items():
        print(
            f"{name:8} {r['frames']:6d} {r['wall_s']:7.2f} {r['cpu_s']:6.1f} {r['fps']:6.2f} "
            f"{r['realtime_factor']:9.3f} {r['cpu_realtime']:6.2f} {r['faces_seen']:5d} "
            f"{r['faces_usable']:6d} {r['tracks']:6d} {r['detections']:5d} "
            f"{r['embeddings']:6d} {r['alerts']:6d} "
            f"{r['load_avg_before']:4.1f}-{r['load_avg_after']:4.1f}"
        )
    out = {
        "video": args.video.name,
        "quick": args.quick,
        "frames_limit": limit,
        "watchlist_size": len(wl.enrolled_subjects),
        "threshold": threshold,
        "model_id": wl.model_id,
        "machine": {"cpus": cores, "platform": platform.platform()},
        "runs": {
            k: {kk: (round(v, 3) if isinstance(v, float) else v) for kk, v in r.items()}
            for k, r in rows.items()
        },  # fmt: skip
    }
    if "naive" in rows:
        ours, naive = rows["ours"], rows["naive"]
        out["speedup_fps"] = round(ours["fps"] / naive["fps"], 2)
        out["speedup_cpu"] = round(naive["cpu_s_per_video_s"] / ours["cpu_s_per_video_s"], 2)
        print(
            f"speed-up: {out['speedup_fps']:.1f}x the naive loop's frames per wall second, "
            f"{out['speedup_cpu']:.1f}x its video seconds per CPU second"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
