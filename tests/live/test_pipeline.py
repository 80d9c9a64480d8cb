"""The pipeline on real footage: the hamilton clip against its performers' references
plus LFW distractors: the performer on screen alerts once, with usable evidence."""

from __future__ import annotations

import io
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openlfr.gallery.calibration import load_calibration
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
    return FaceEngine.from_backend(cnn_fallback=False)


@pytest.fixture(scope="module")
def watchlist(shared_data, tmp_path_factory):
    folder = make_watchlist_folder(shared_data, tmp_path_factory.mktemp("wl"), 20)
    return load_watchlist(folder)


@pytest.fixture(scope="module")
def hamilton_frames(shared_data):
    """Frames 130-189 of the hamilton clip: Lin-Manuel Miranda sings, close up."""
    frames = []
    with VideoSource(shared_data / "video" / "hamilton-360p.mp4") as src:
        for frame in src:
            if frame.index >= 190:
                break
            if frame.index >= 130:
                frames.append(frame)
    return frames


def test_tiles_cover_the_frame_with_overlap():
    tiles = tile_grid(1920, 1080, 600, 140)
    covered = np.zeros((1080, 1920), bool)
    for x1, y1, x2, y2 in tiles:
        covered[y1:y2, x1:x2] = True
        assert 0.7 * 600 <= x2 - x1 <= 1.5 * 600 and 0.7 * 600 <= y2 - y1 <= 1.5 * 600
    assert covered.all()
    # Neighbours overlap by at least the overlap (a face cut by one is whole in the other).
    xs = sorted({(t[0], t[2]) for t in tiles})
    assert all(a[1] - b[0] >= 140 for a, b in zip(xs, xs[1:], strict=False))


def test_scanner_revisits_busy_tiles_more_often_than_idle_ones():
    scanner = Scanner(min_face=56, scan_period_s=1.0, idle_period_s=3.0, hot_s=5.0)
    scanned: dict[tuple, list[float]] = {}
    first = scanner.plan(1920, 1080, [], 0.0)
    tiles = scanner.tiles
    assert first.tiles == len(tiles) > 1  # the first round looks everywhere
    busy = tiles[0]
    face = (busy[0] + 10.0, busy[1] + 10.0, busy[0] + 70.0, busy[1] + 70.0)
    for step in range(1, 121):  # 12 s of video, a detection round every 0.1 s
        now = step * 0.1
        for region in scanner.plan(1920, 1080, [], now).regions:
            scanned.setdefault(region.box, []).append(now)
        scanner.observe([face], now)  # a face keeps passing in the first tile
    assert set(scanned) == set(tiles)  # every tile is scanned
    per_round = Counter(t for v in scanned.values() for t in v)
    assert max(per_round.values()) <= 2  # later visits are staggered, not all at once
    gaps = {t: np.diff(v).max() for t, v in scanned.items() if len(v) > 1}
    assert gaps[busy] <= 1.05
    idle = [t for t in tiles if not any(x1 <= 40 + busy[0] < x2 and y1 <= 40 + busy[1] < y2
                                        for x1, y1, x2, y2 in [t])]  # fmt: skip
    assert idle and all(2.8 <= gaps[t] <= 3.05 for t in idle)


def test_scanner_adds_a_window_per_track_outside_the_tiles():
    scanner = Scanner(min_face=56, scan_period_s=1.0, idle_period_s=1.0)
    scanner.plan(1920, 1080, [], 0.0)
    plan = scanner.plan(1920, 1080, [(1000.0, 500.0, 1050.0, 550.0)], 0.05)
    windows = plan.regions[plan.tiles :]
    assert len(windows) <= 1
    if windows:  # unless a tile scanned this round holds it whole
        (win,) = windows
        assert win.box[0] < 1000 and win.box[2] > 1050 and win.scale == pytest.approx(2.0)


def test_a_track_seen_once_gets_a_wider_window():
    # No velocity yet: its window reaches as far as the tracker would follow it.
    scanner = Scanner(min_face=56, scan_period_s=10.0, idle_period_s=10.0)
    scanner.plan(1920, 1080, [], 0.0)  # the first round scans every tile; none due next
    box = (1000.0, 500.0, 1100.0, 600.0)
    (steady,) = scanner.plan(1920, 1080, [box], 0.1).regions
    (fresh,) = scanner.plan(1920, 1080, [], 0.2, fresh=[box]).regions
    assert steady.box == (925, 425, 1175, 675)  # 0.75 face widths each side
    assert fresh.box == (850, 350, 1250, 750)  # 1.5
    assert steady.scale == fresh.scale  # scaled by the face, not by the window


def test_performer_alerts_once_with_evidence(engine, watchlist, hamilton_frames):
    # The model's false-match rate 1e-4 point per comparison (fused default: 0.878).
    threshold = load_calibration(engine.model_id).threshold_for_p(1e-4)
    sink = MemorySink()
    templates: list[np.ndarray] = []
    pipe = Pipeline(
        engine, watchlist, Threshold(threshold, "test"), camera="stage", sink=sink,
        config=PipelineConfig(workers=0, min_face=40), on_template=templates.append,
    )  # fmt: skip
    for frame in hamilton_frames:
        pipe.process(frame)
    stats = pipe.finish()
    assert [a.subject for a in sink.alerts] == [LIN]
    alert = sink.alerts[0]
    assert alert.camera == "stage" and alert.similarity >= threshold
    assert alert.model_id == engine.model_id and alert.first_seen <= alert.alerted_at
    assert alert.latency_s < 1.0  # a good frontal face: found and searched at once
    for jpeg in (alert.probe_jpeg, alert.evidence_jpeg):
        assert Image.open(io.BytesIO(jpeg)).format == "JPEG"
    assert Image.open(io.BytesIO(alert.evidence_jpeg)).size == (640, 360)
    # Embedding only on a track's best shots, not on every frame.
    assert stats.frames_processed == 60 and stats.detection_rounds == 20
    assert 1 <= stats.embeddings <= 12 * stats.tracks and stats.embeddings == len(templates)
    assert stats.faces_seen >= stats.faces_usable >= 1 and stats.tracks <= 3
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


class _NoFaces:
    def detect(self, image):
        return []


class _Engine:
    model_id = "test-model"


class _Watchlist:
    name = "test"
    model_id = "test-model"
    template_subjects = ["s1"]

    def index(self):
        from openlfr.gallery.index import build_index

        return build_index("test-model", 4, [("s1", np.eye(4, dtype=np.float32)[:1])], "exact")


def test_stream_clock_counts_the_time_of_dropped_frames():
    # Under overload a real-time source drops frames (its frame numbers run on) and several
    # seconds may pass between two processed frames: that is stream time, and alerts are
    # timed by this clock. A timestamp jump the frame numbers do not explain (a reconnect
    # restarting the timestamps) counts as the frames in between.
    from openlfr.live.frames import Frame
    from openlfr.live.scan import RegionDetector

    pipe = Pipeline(
        _Engine(), _Watchlist(), Threshold(0.9, "test"), config=PipelineConfig(workers=0)
    )
    pipe.detector = RegionDetector(workers=0, detector=_NoFaces())
    image = np.zeros((120, 160, 3), np.uint8)

    def feed(index: int, pts: float) -> float:
        pipe.process(Frame(image, pts, index, "cam", 0.0))
        return pipe.stats.video_seconds

    assert feed(0, 0.0) == 0.0
    assert feed(1, 0.04) == pytest.approx(0.04)
    assert feed(2, 0.08) == pytest.approx(0.08)
    assert feed(100, 4.0) == pytest.approx(4.0)  # 97 frames dropped: 3.92 s
    assert feed(101, 4.04) == pytest.approx(4.04)
    assert feed(102, 0.0) == pytest.approx(4.08)  # timestamps restarted: one frame
    assert feed(103, 0.04) == pytest.approx(4.12)
    pipe.finish()


def test_default_region_detector_is_blazeface_and_a_wrong_name_is_a_config_error():
    from openlfr.errors import ConfigError

    options = PipelineConfig().detector_options()
    assert options == {"detector": "blazeface", "threads": 1}
    options = PipelineConfig(detector="hog+mmod").detector_options()
    assert options["detector"] == "hog+mmod" and options["grey"] is True
    assert PipelineConfig(detector="hog").detector_options() == {"detector": "hog"}
    with pytest.raises(ConfigError, match="detector must be one of"):
        PipelineConfig(detector="yolo").check()


def _copy_to_corner(faces):
    """The largest face's box and landmarks moved to the frame's top left (the curtain):
    a detection with nobody there."""
    f = max(faces, key=lambda x: x.width)
    dx, dy = 10 - f.box[0], 10 - f.box[1]
    box = (f.box[0] + dx, f.box[1] + dy, f.box[2] + dx, f.box[3] + dy)
    return f.with_(box=box, landmarks=f.landmarks + [dx, dy])


def test_a_one_off_detection_is_neither_counted_nor_searched(engine, watchlist, hamilton_frames):
    """A detector's single hit that no later round repeats (a poster, a pattern in the
    background) starts a track but is not a face seen, and is never embedded."""

    def run(inject_at: int | None) -> tuple:
        templates: list[np.ndarray] = []
        pipe = Pipeline(
            engine, watchlist, Threshold(0.99, "test"), camera="stage", sink=MemorySink(),
            config=PipelineConfig(workers=0, min_face=40), on_template=templates.append,
        )  # fmt: skip
        real_detect = pipe.detector.detect
        rounds = []

        def detect(image, regions):
            faces = real_detect(image, regions)
            rounds.append(1)
            if len(rounds) == inject_at and faces:
                faces = [*faces, _copy_to_corner(faces)]  # a one-off "face"
            return faces

        pipe.detector.detect = detect
        for frame in hamilton_frames:
            pipe.process(frame)
        stats = pipe.finish()
        return stats.tracks, stats.faces_seen, stats.embeddings, len(templates)

    tracks, seen, embeds, _ = run(None)
    tracks2, seen2, embeds2, n_templates = run(5)
    assert tracks2 == tracks + 1  # the one-off hit did start a track...
    assert seen2 == seen and embeds2 == embeds == n_templates  # ...counted and searched never


def test_a_repeated_detection_that_is_no_face_is_neither_counted_nor_searched(
    engine, watchlist, hamilton_frames
):
    """A background pattern the region detector fires on every round is confirmed as a
    track, but dlib's CNN finds no face on it: not a face seen, never searched."""

    def run(verify: bool) -> tuple:
        pipe = Pipeline(
            engine, watchlist, Threshold(0.99, "test"), camera="stage", sink=MemorySink(),
            config=PipelineConfig(workers=0, min_face=40, verify_faces=verify),
        )  # fmt: skip
        real_detect = pipe.detector.detect

        def detect(image, regions):
            faces = real_detect(image, regions)
            return [*faces, _copy_to_corner(faces)] if faces else faces

        pipe.detector.detect = detect
        for frame in hamilton_frames:
            pipe.process(frame)
        stats = pipe.finish()
        return stats.faces_seen, stats.embeddings

    seen_off, embeds_off = run(False)
    seen_on, embeds_on = run(True)
    assert seen_on == seen_off - 1 and embeds_on <= embeds_off  # the real face still counts
    assert seen_on >= 1


class _BoxDetector:
    """Test double: the given boxes, one list per detection round (then none)."""

    def __init__(self, rounds: list[list[tuple[float, float, float, float]]]) -> None:
        self.rounds = list(rounds)

    def start(self):
        return self

    def close(self):
        pass

    def detect(self, image, regions):
        from openlfr.vision.face import Face

        boxes = self.rounds.pop(0) if self.rounds else []
        marks = lambda b: np.array(  # noqa: E731
            [[b[0] + 10, b[1] + 10], [b[2] - 10, b[1] + 10], [(b[0] + b[2]) / 2, b[1] + 30],
             [b[0] + 15, b[3] - 10], [b[2] - 15, b[3] - 10]], np.float32,
        )  # fmt: skip
        return [Face(box=b, score=0.9, landmarks=marks(b)) for b in boxes]


class _CountingEngine:
    model_id = "test-model"

    def __init__(self) -> None:
        self.embedded = 0

    def embed(self, image, faces):
        from openlfr.vision.face import Template

        self.embedded += len(faces)
        v = np.array([0.0, 1.0, 0.0, 0.0], np.float32)  # unlike s1's template: no alert
        return [f.with_(template=Template(v, self.model_id)) for f in faces]


class _AgreeingVerifier:
    """A test double for the face check: agrees on every box, counting the questions."""

    def __init__(self) -> None:
        self.checks = 0

    def load(self) -> None:
        pass

    def is_face(self, image, box) -> bool:
        self.checks += 1
        return True


def _scripted(monkeypatch, rounds, qualities, verifier=None, **config):
    """Run a pipeline on blank frames, one detection round per frame, with the given boxes
    and quality verdicts (a test double for the quality check: a bare score is usable)."""
    from openlfr.live import pipeline as pipeline_mod
    from openlfr.live.frames import Frame
    from openlfr.vision.face import Quality

    verdicts = iter(q if isinstance(q, Quality) else Quality(q) for q in qualities)
    monkeypatch.setattr(pipeline_mod.quality_mod, "assess", lambda img, f: next(verdicts))
    engine = _CountingEngine()
    # Blank frames: nothing for the face verifier to confirm, so it is off here.
    cfg = PipelineConfig(workers=0, detect_every=1, verify_faces=False, **config)
    pipe = Pipeline(engine, _Watchlist(), Threshold(0.9, "test"), config=cfg)
    pipe.detector = _BoxDetector(rounds)
    pipe.verifier = verifier
    image = np.zeros((240, 320, 3), np.uint8)
    for i in range(len(rounds)):
        pipe.process(Frame(image, i / 25, i, "cam", 0.0))
    return pipe.finish(), engine.embedded


def test_a_confirmed_tracks_first_shots_are_each_searched_at_once(monkeypatch):
    # Ten rounds (0.4 s) of one face whose quality never improves by min_gain: the first
    # prompt_shots are each searched as they come; the best-of-3 rule alone searches 3
    # (the refresh, 1 s, is not due).
    rounds = [[(100.0, 80.0, 180.0, 160.0)]] * 10
    stats, embedded = _scripted(monkeypatch, rounds, [0.6] * 10, prompt_shots=8)
    assert embedded == stats.embeddings == 8
    stats, embedded = _scripted(monkeypatch, rounds, [0.6] * 10, prompt_shots=0)
    assert embedded == 3
    stats, embedded = _scripted(monkeypatch, rounds, [0.6] * 10, prompt_shots=20)
    assert embedded == 9  # every round but the first (confirmed by its second)


def test_a_slightly_small_or_turned_face_is_searched_live_but_not_a_blurred_one(monkeypatch):
    from openlfr.vision.face import Quality

    rounds = [[(100.0, 80.0, 180.0, 160.0)]] * 4  # confirmed on the 2nd: 3 shots to search
    small = Quality(0.2, ("too small",), eye_distance=21.0, yaw=0.1)
    stats, embedded = _scripted(monkeypatch, rounds, [small] * 4)
    assert embedded == 3 and stats.faces_seen == 1 and stats.faces_usable == 0
    stats, embedded = _scripted(monkeypatch, rounds, [small] * 4, search_min_eye_px=22.0)
    assert embedded == 0 and stats.faces_seen == 0  # too small to search: not a face seen
    turned = Quality(0.3, ("profile",), eye_distance=40.0, yaw=-0.48)
    assert _scripted(monkeypatch, rounds, [turned] * 4)[1] == 3
    assert _scripted(monkeypatch, rounds, [turned] * 4, search_max_yaw=0.45)[1] == 0
    blurred = Quality(0.2, ("too small", "blurred"), eye_distance=21.0)
    stats, embedded = _scripted(monkeypatch, rounds, [blurred] * 4)
    assert embedded == 0 and stats.faces_seen == 1


def test_a_face_the_check_confirms_counts_from_its_first_detection(monkeypatch):
    from openlfr.vision.face import Quality

    # One detection round only (a face crossing the view fast): with the face check it
    # is a face seen and searched; without it, min_hits (2) rounds are needed.
    one = [[(100.0, 80.0, 180.0, 160.0)]]
    verifier = _AgreeingVerifier()
    stats, embedded = _scripted(monkeypatch, one, [0.6], verifier=verifier)
    assert verifier.checks == 1 and stats.faces_seen == 1 and embedded == 1
    stats, embedded = _scripted(monkeypatch, one, [0.6])
    assert stats.faces_seen == 0 and embedded == 0
    # A first detection too small to count is not checked early: it waits for min_hits.
    tiny = Quality(0.1, ("too small",), eye_distance=12.0)
    verifier = _AgreeingVerifier()
    stats, _ = _scripted(monkeypatch, one * 2, [tiny, tiny], verifier=verifier)
    assert verifier.checks == 1 and stats.faces_seen == 0  # checked at its 2nd round
