"""The pipeline on real footage: the hamilton clip against its performers' references
plus LFW distractors: the performer on screen alerts once, with usable evidence."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openlfr.gallery.identify import Threshold
from openlfr.live.pipeline import Pipeline, PipelineConfig, load_watchlist, run_pipeline
from openlfr.live.scan import Scanner, tile_grid
from openlfr.live.sinks import MemorySink
from openlfr.live.source import VideoSource
from openlfr.vision.engine import FaceEngine

LIN = "lin-manuel-miranda"


def make_watchlist_folder(shared: Path, dest: Path, distractors: int) -> Path:
    """One sub-folder per person: the two performers' references and the first image
    of the first `distractors` LFW people (symlinks: nothing is copied)."""
    for ref in sorted((shared / "video" / "hamilton-references").iterdir()):
        (dest / ref.stem).mkdir(parents=True)
        os.symlink(ref, dest / ref.stem / ref.name)
    people = sorted(p for p in (shared / "lfw").iterdir() if p.is_dir())[:distractors]
    for person in people:
        first = sorted(person.glob("*.jpg"))[0]
        (dest / person.name).mkdir()
        os.symlink(first, dest / person.name / first.name)
    return dest


@pytest.fixture(scope="module")
def engine():
    return FaceEngine.from_backend("dlib")


@pytest.fixture(scope="module")
def watchlist(shared_data, tmp_path_factory):
    folder = make_watchlist_folder(shared_data, tmp_path_factory.mktemp("wl"), 50)
    return load_watchlist(folder)


@pytest.fixture(scope="module")
def hamilton_frames(shared_data):
    """Frames 80-139 of the hamilton clip: Lin-Manuel Miranda sings, close up."""
    frames = []
    with VideoSource(shared_data / "video" / "hamilton-360p.mp4") as src:
        for frame in src:
            if frame.index >= 140:
                break
            if frame.index >= 80:
                frames.append(frame)
    return frames


def test_tiles_cover_the_frame_with_overlap():
    tiles = tile_grid(1920, 1080, 600, 140)
    covered = np.zeros((1080, 1920), bool)
    for x1, y1, x2, y2 in tiles:
        covered[y1:y2, x1:x2] = True
    assert covered.all()
    plan_rounds = Scanner(min_face=56, rounds_per_cycle=4)
    seen = set()
    for _ in range(4):
        plan = plan_rounds.plan(1920, 1080, [])
        seen |= {r.box for r in plan.regions}
    assert len(seen) == len(plan_rounds._tiles(1920, 1080))  # every tile once per cycle


def test_performer_alerts_once_with_evidence(engine, watchlist, hamilton_frames):
    sink = MemorySink()
    templates: list[np.ndarray] = []
    pipe = Pipeline(
        engine, watchlist, Threshold(0.93, "test"), camera="stage", sink=sink,
        config=PipelineConfig(workers=0, min_face=40), on_template=templates.append,
    )  # fmt: skip
    for frame in hamilton_frames:
        pipe.process(frame)
    stats = pipe.finish()
    assert [a.subject for a in sink.alerts] == [LIN]
    alert = sink.alerts[0]
    assert alert.camera == "stage" and alert.similarity >= 0.93
    assert alert.model_id == engine.model_id and alert.first_seen <= alert.alerted_at
    assert alert.latency_s < 1.0  # a good frontal face: found and searched at once
    for jpeg in (alert.probe_jpeg, alert.evidence_jpeg):
        assert Image.open(io.BytesIO(jpeg)).format == "JPEG"
    assert Image.open(io.BytesIO(alert.evidence_jpeg)).size == (640, 360)
    # Embedding only on a track's best shots, not on every frame.
    assert stats.frames_processed == 60 and stats.detection_rounds == 20
    assert 1 <= stats.embeddings <= 5 * stats.tracks and stats.embeddings == len(templates)
    assert stats.faces_seen >= 1 and stats.tracks <= 3
    assert sink.status["stage"].state == "finished"


def test_run_pipeline_on_a_file_with_two_workers(shared_data, watchlist, tmp_path):
    """The simple entry point with the detection pool, on the whole clip (sparse detection
    to keep the test short)."""
    sink = MemorySink()
    stats = run_pipeline(
        shared_data / "video" / "hamilton-360p.mp4", watchlist, sink=sink, threshold=0.99,
        config=PipelineConfig(workers=2, min_face=60, detect_every=6), camera="cam",
    )  # fmt: skip
    assert stats.frames_processed == 275 and stats.frames_dropped == 0
    assert stats.video_seconds == pytest.approx(275 / 29.97, rel=0.01)
    assert stats.tracks >= 1 and stats.detections >= stats.tracks
    assert sink.alerts == []  # nobody reaches 0.99
    assert stats.error is None and stats.opened
