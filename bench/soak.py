"""Soak: the live pipeline on a camera-like stream for a long time; resident memory and
alert latency over time.

A clip (default: a simulated scene from `openlfr simulate`, else any video) is played at
its real frame rate, over and over, as one endless camera (frame numbers and the clock
run on across loops), through one `Pipeline` with its detection workers. Every
``--sample`` seconds the resident memory (RSS) of the pipeline's process and of its
workers is recorded. The target (issue 3): RSS stays within 5% of its value after the
first minute. With a scene folder, its watchlist is enrolled, and the alerts of the
scene's first pass are scored against its truth (`openlfr.evaluation.video`): alert
latency from the person's first appearance, from a recognisable face and from the
pipeline's track, at real frame rate (frames the pipeline cannot keep up with are dropped).

    python bench/soak.py --minutes 30 [--scene DIR | --video PATH] [--json FILE]
    python bench/soak.py --quick          # 1.5 minutes

Writes bench/results/soak.json (or --json FILE): the RSS curve, its drift against the
value at one minute, frames processed and dropped, alerts and latency percentiles.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENE = ROOT.parent / "notes" / "scene300"
DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "video" / "opera-house-crowd-1080p.mp4"
LFW = ROOT.parent / "shared" / "data" / "lfw"
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MiB (Linux /proc; 0 when gone)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * _PAGE / 2**20


def _lfw_watchlist(n: int):
    import tempfile

    from openlfr.gallery.enrol import enrol, read_sources
    from openlfr.gallery.watchlist import Watchlist
    from openlfr.vision.engine import FaceEngine

    tmp = Path(tempfile.mkdtemp(prefix="bench-soak-wl-"))
    for person in sorted(p for p in LFW.iterdir() if p.is_dir())[:n]:
        first = sorted(person.glob("*.jpg"))[0]
        (tmp / person.name).mkdir()
        os.symlink(first, tmp / person.name / first.name)
    report = enrol(read_sources(tmp), FaceEngine.from_backend())
    return Watchlist.from_report("soak", report, source=str(tmp))


class _LeanSink:
    """Keeps each alert without its JPEGs: a long run must not measure its own sink."""

    def __init__(self) -> None:
        self.alerts: list = []

    def on_alert(self, event) -> None:
        self.alerts.append(dataclasses.replace(event, probe_jpeg=b"", evidence_jpeg=b""))

    def on_status(self, stats) -> None:
        pass

    def close(self) -> None:
        pass


def _frames_forever(video: Path, stop: threading.Event):
    """Frames of ``video`` at its real rate, looped; index and clock run on."""
    from openlfr.live.source import VideoSource

    index_offset, time_offset = 0, 0.0
    while not stop.is_set():
        src = VideoSource(video, "soak", realtime=True)
        src.start()
        last_index, last_pts = -1, 0.0
        try:
            while not stop.is_set():
                frame = src.read(timeout=0.5)
                if frame is None:
                    if src.finished:
                        break
                    continue
                last_index, last_pts = frame.index, frame.pts_seconds
                yield (
                    dataclasses.replace(
                        frame,
                        index=frame.index + index_offset,
                        pts_seconds=frame.pts_seconds + time_offset,
                    ),
                    src,
                )
        finally:
            src.stop()
        index_offset += last_index + 1
        time_offset += last_pts + 0.04


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--quick", action="store_true", help="1.5 minutes")
    ap.add_argument("--scene", type=Path, default=None, help="a scene folder (openlfr simulate)")
    ap.add_argument("--video", type=Path, default=None, help="any clip (no scene truth)")
    ap.add_argument("--sample", type=float, default=10.0, help="seconds between RSS samples")
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "soak.json")
    args = ap.parse_args(argv)
    minutes = 1.5 if args.quick else args.minutes

    from openlfr.live.decision import choose_threshold
    from openlfr.live.pipeline import Pipeline, PipelineConfig, load_watchlist
    from openlfr.vision.engine import FaceEngine

    scene = args.scene if args.scene else (None if args.video else DEFAULT_SCENE)
    if scene is not None:
        truth = json.loads((scene / "truth.json").read_text())
        video = scene / truth.get("video", "scene.mp4")
        wl = load_watchlist(scene / truth.get("watchlist", "watchlist"))
    else:
        video = args.video or DEFAULT_VIDEO
        wl = _lfw_watchlist(20)
    if not video.is_file():
        print(f"no video at {video}", file=sys.stderr)
        return 2
    chosen = choose_threshold(wl.model_id, len(wl.template_subjects), args.threshold)
    engine = FaceEngine.from_backend(cnn_fallback=False)
    sink = _LeanSink()
    pipe = Pipeline(engine, wl, chosen, camera="soak", sink=sink, config=PipelineConfig())
    pipe.start()
    pool = pipe.detector._pool
    pids = [os.getpid(), *(list(getattr(pool, "_processes", {}) or {}) if pool else [])]

    stop = threading.Event()
    samples: list[dict] = []
    t0 = time.monotonic()
    next_sample = 0.0
    dropped = 0
    last_src = None
    first_loop: dict | None = None  # the scene's first pass: scored against its truth
    for frame, src in _frames_forever(video, stop):
        if src is not last_src:
            if last_src is not None:
                dropped += last_src.stats.frames_dropped
                if first_loop is None:
                    first_loop = {
                        "faces_seen": pipe.stats.faces_seen,
                        "video_s": pipe.stats.video_seconds,
                        "alerts": list(sink.alerts),
                        "dropped": dropped,
                    }
            last_src = src
        pipe.process(frame)
        now = time.monotonic() - t0
        if now >= next_sample:
            per = [rss_mb(p) for p in pids]
            samples.append(
                {
                    "t_s": round(now, 1),
                    "rss_mb": round(sum(per), 1),
                    "rss_main_mb": round(per[0], 1),
                    "frames": pipe.stats.frames_processed,
                    "dropped": dropped + src.stats.frames_dropped,
                    "active_tracks": len(pipe.tracker.tracks),
                    "alerts": pipe.stats.alerts,
                }
            )
            s = samples[-1]
            print(
                f"{s['t_s']:7.1f} s  rss {s['rss_mb']:7.1f} MiB (main {s['rss_main_mb']:6.1f})"
                f"  frames {s['frames']:6d}  dropped {s['dropped']:5d}  alerts {s['alerts']}",
                flush=True,
            )
            next_sample += args.sample
        if now >= minutes * 60:
            stop.set()
    if last_src is not None:
        dropped += last_src.stats.frames_dropped
    stats = pipe.finish()

    after_1min = next((s for s in samples if s["t_s"] >= 60.0), samples[-1])
    base = after_1min["rss_mb"]
    later = [s["rss_mb"] for s in samples if s["t_s"] >= after_1min["t_s"]]
    drift = (max(later) - base) / base if base else 0.0
    drift_low = (min(later) - base) / base if base else 0.0
    latencies = sorted(a.latency_s for a in sink.alerts)
    scene_score = None
    if scene is not None and first_loop is not None:
        from openlfr.evaluation.video import AlertRecord, score_alerts
        from openlfr.simulate.truth import load_truth

        records = [AlertRecord.from_event(e) for e in first_loop["alerts"]]
        scene_score = score_alerts(load_truth(scene), records, first_loop["faces_seen"]).to_json()
        scene_score["frames_dropped"] = first_loop["dropped"]
        scene_score.pop("alerts", None)
    out = {
        "video": str(video),
        "minutes": minutes,
        "realtime": True,
        "threshold": chosen.value,
        "threshold_source": chosen.source,
        "model_id": wl.model_id,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_avg_end": os.getloadavg()[0],
        },
        "rss_after_1min_mb": base,
        "rss_max_after_1min_mb": max(later),
        "rss_drift_max": round(drift, 4),
        "rss_drift_min": round(drift_low, 4),
        "within_5_percent": abs(drift) <= 0.05 and abs(drift_low) <= 0.05,
        "frames_processed": stats.frames_processed,
        "frames_dropped": dropped,
        "video_seconds": round(stats.video_seconds, 1),
        "tracks": stats.tracks,
        "faces_seen": stats.faces_seen,
        "alerts": stats.alerts,
        "latency_p50_s": float(np.percentile(latencies, 50)) if latencies else None,
        "latency_p95_s": float(np.percentile(latencies, 95)) if latencies else None,
        "first_pass_scored": scene_score,
        "samples": samples,
    }
    if scene_score is not None:
        print(
            "first pass of the scene, at real rate: latency p50/p95 "
            f"{scene_score['latency_p50']}/{scene_score['latency_p95']} s from a recognisable "
            f"face, {scene_score.get('latency_from_entry_p95')} s (p95) from first "
            f"appearance, {scene_score.get('latency_from_track_p95')} s (p95) from the "
            f"track's start; TPIR {scene_score['tpir']}, false alerts "
            f"{scene_score['false_alerts']}"
        )
    print(
        f"RSS after 1 min {base:.1f} MiB, max later {max(later):.1f} MiB "
        f"(drift {drift:+.2%}, min {drift_low:+.2%}); {stats.frames_processed} frames, "
        f"{dropped} dropped, {stats.alerts} alerts, latency p95 {out['latency_p95_s']}"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
