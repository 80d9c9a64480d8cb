"""Many cameras side by side: each in its own process; a dead camera stops no other."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.gallery.identify import Threshold
from openlfr.gallery.watchlist import Watchlist
from openlfr.live.pipeline import PipelineConfig
from openlfr.live.runner import camera_specs, run_cameras
from openlfr.live.sinks import MemorySink
from openlfr.vision.engine import FaceEngine


@pytest.fixture
def watchlist():
    """A watchlist of random templates of the default model: nobody can match."""
    embedder = FaceEngine.from_backend(cnn_fallback=False).embedder
    rng = np.random.default_rng(0)
    t = rng.normal(size=(3, embedder.dim)).astype(np.float32)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    return Watchlist("rand", embedder.model_id, embedder.dim, ["a", "b", "c"], t, ["a", "b", "c"])


def test_camera_names_are_unique_and_redacted():
    specs = camera_specs(["/x/cam.mp4", "/y/cam.mp4", "rtsp://admin:secret@10.0.0.1/live"])
    assert [s.camera for s in specs] == ["cam", "cam-2", "rtsp://***:***@10.0.0.1/live"]


def test_two_good_cameras_and_two_dead_ones(make_clip, tmp_path, watchlist):
    good_a = make_clip("a.mp4", seconds=2, fps=10)
    good_b = make_clip("b.mp4", size="640x360", seconds=1, fps=10)
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00not a video" * 100)
    missing = tmp_path / "missing.mp4"
    sink = MemorySink()
    summary = run_cameras(
        [str(good_a), str(missing), str(good_b), str(corrupt)], watchlist,
        Threshold(0.95, "test"), sink=sink, config=PipelineConfig(),
    )  # fmt: skip
    by = {c.camera: c for c in summary.cameras}
    assert by["a"].frames_processed == 20 and by["a"].error is None and by["a"].opened
    assert by["b"].frames_processed == 10 and by["b"].opened
    assert by["missing"].opened is False and "no such file" in by["missing"].error
    assert by["corrupt"].opened is False and by["corrupt"].error
    assert summary.any_opened
    totals = summary.to_json()
    assert totals["frames_processed"] == 30 and totals["alerts"] == 0
    assert totals["video_seconds"] == pytest.approx(3.0, abs=0.05)
    assert {"a", "b"} <= set(sink.status)  # status came back from the camera processes


def test_no_source_opened(tmp_path, watchlist):
    summary = run_cameras(
        [str(tmp_path / "nothing.mp4")], watchlist, Threshold(0.95, "t"), sink=MemorySink(),
        config=PipelineConfig(workers=0),
    )  # fmt: skip
    assert not summary.any_opened and summary.cameras[0].state == "failed"
