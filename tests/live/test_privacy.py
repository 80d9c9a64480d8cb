"""Privacy invariant: a stream with nobody listed leaves nothing behind but counts.

Runs the opera-house clip's first 30 frames (real pedestrians, nobody listed) through
the live pipeline with a test hook that captures every template computed, then searches
the data and cache directories, the log records and every output (alerts JSONL, summary
JSON, console) for the bytes of any template or of any face crop."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from openlfr import paths
from openlfr.live import pipeline as pipeline_mod
from openlfr.live.counters import Summary
from openlfr.live.decision import choose_threshold
from openlfr.live.pipeline import PipelineConfig, load_watchlist
from openlfr.live.runner import run_cameras
from openlfr.live.sinks import JsonlSink, MemorySink, MultiSink


def _files_under(*roots: Path):
    for root in roots:
        if root.exists():
            for dirpath, _, names in os.walk(root):
                for name in names:
                    yield Path(dirpath) / name


def test_unmatched_tracks_leave_no_template_or_crop(shared_data, tmp_path, caplog, monkeypatch):
    # A watchlist of 5 LFW people: nobody in the opera-house clip.
    folder = tmp_path / "wl"
    for person in sorted(p for p in (shared_data / "lfw").iterdir() if p.is_dir())[:5]:
        first = sorted(person.glob("*.jpg"))[0]
        (folder / person.name).mkdir(parents=True)
        os.symlink(first, folder / person.name / first.name)
    wl = load_watchlist(folder)
    clip = tmp_path / "opera-30.mp4"
    _first_frames(shared_data / "video" / "opera-house-crowd-1080p.mp4", clip, 30)

    templates: list[np.ndarray] = []
    crops: list[np.ndarray] = []
    real_crop = pipeline_mod.alerts_mod.crop

    def spy_crop(image, box, margin=0.3):
        out = real_crop(image, box, margin)
        crops.append(out.copy())
        return out

    monkeypatch.setattr(pipeline_mod.alerts_mod, "crop", spy_crop)
    # The enrolment converted the embedder's model into the cache: that file may stay.
    before = set(_files_under(paths.data_dir(), paths.cache_dir()))
    caplog.set_level(logging.DEBUG)
    out_dir = tmp_path / "out"
    memory = MemorySink()
    sink = MultiSink([memory, JsonlSink(out_dir / "alerts.jsonl", include_images=True)])
    summary: Summary = run_cameras(
        [str(clip)], wl, choose_threshold(wl.model_id, len(wl.template_subjects), 0.95),
        sink=sink, config=PipelineConfig(workers=0), on_template=templates.append,
    )  # fmt: skip
    sink.close()
    (out_dir / "summary.json").write_text(json.dumps(summary.to_json()))

    cam = summary.cameras[0]
    assert cam.frames_processed == 30 and memory.alerts == []
    # The stream really had faces, searched and then forgotten.
    assert cam.tracks >= 1 and cam.embeddings >= 1 and templates and crops
    assert len(templates) == cam.embeddings

    needles = []
    for t in templates:
        raw = np.asarray(t, dtype=np.float32).tobytes()
        needles += [raw[:32], raw[-32:], np.asarray(t, np.float64).tobytes()[:32]]
    for c in crops:
        raw = np.ascontiguousarray(c).tobytes()
        mid = len(raw) // 2
        needles.append(raw[mid : mid + 48])
    haystacks = {
        str(p): p.read_bytes() for p in _files_under(paths.data_dir(), paths.cache_dir(), out_dir)
    }
    haystacks["log"] = "\n".join(r.getMessage() for r in caplog.records).encode()
    for where, data in haystacks.items():
        for needle in needles:
            assert needle not in data, f"template or crop bytes found in {where}"
    # Nothing written but our own outputs; the alerts file is empty.
    assert (out_dir / "alerts.jsonl").read_text() == ""
    # (models converted on first use, from registry weights, may join the cache)
    models = paths.cache_dir() / "models"
    after = {p for p in _files_under(paths.data_dir(), paths.cache_dir()) if p.parent != models}
    assert after == {p for p in before if p.parent != models}
    # The states of all tracks were dropped when the stream ended.
    assert json.loads((out_dir / "summary.json").read_text())["faces_seen"] == cam.faces_seen


def _first_frames(src: Path, dst: Path, n: int) -> None:
    """Re-encode the first n frames with PyAV (lossless enough: x264 at high quality)."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream_in = inp.streams.video[0]
        stream = out.add_stream("libx264", rate=stream_in.average_rate)
        stream.width, stream.height = stream_in.width, stream_in.height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "12", "preset": "ultrafast"}
        for i, frame in enumerate(inp.decode(video=0)):
            if i >= n:
                break
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
