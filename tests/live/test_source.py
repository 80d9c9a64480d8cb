"""VideoSource against real inputs: ffmpeg-made files, a GStreamer RTSP server that the tests
start, kill, pause and restart, and a camera-like HTTP/MJPEG server. Loopback only."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest

from openlfr.errors import ConfigError
from openlfr.live import (
    Frame,
    FrameBuffer,
    RedactingFilter,
    SourceAuthError,
    SourceError,
    SourceFormatError,
    SourceNotFoundError,
    SourceState,
    SourceUnreachableError,
    VideoSource,
    redact,
)

from .conftest import free_port

FAST = {"backoff_initial_s": 0.1, "backoff_max_s": 0.4, "stall_timeout_s": 1.5}


class Recorder:
    """Collects (state, reason) from on_state_change."""

    def __init__(self) -> None:
        self.events: list[tuple[SourceState, str]] = []
        self.lock = threading.Lock()

    def __call__(self, state: SourceState, reason: str) -> None:
        with self.lock:
            self.events.append((state, reason))

    @property
    def states(self) -> list[SourceState]:
        with self.lock:
            return [s for s, _ in self.events]


def read_n(source: VideoSource, n: int, timeout: float = 10.0) -> list[Frame]:
    frames: list[Frame] = []
    deadline = time.monotonic() + timeout
    while len(frames) < n and time.monotonic() < deadline:
        frame = source.read(timeout=0.5)
        if frame is not None:
            frames.append(frame)
    assert len(frames) == n, f"got {len(frames)} of {n} frames; stats {source.stats}"
    return frames


# --- redaction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/live", "rtsp://***:***@10.0.0.5:554/live"),
        ("rtsp://admin@cam/live", "rtsp://***@cam/live"),
        ("rtsp://admin:p@ss@cam/x", "rtsp://***:***@cam/x"),  # raw "@" in a password
        ("http://cam/video.cgi?user=admin&password=hunter2&res=hd",
         "http://cam/video.cgi?user=***&password=***&res=hd"),
        ("[Errno 111] Connection refused: 'rtsp://u:pw@127.0.0.1:9/x'",
         "[Errno 111] Connection refused: 'rtsp://***:***@127.0.0.1:9/x'"),
        ("a rtsp://a:b@h/1 and http://c:d@h/2", "a rtsp://***:***@h/1 and http://***:***@h/2"),
        ("rtsp://10.0.0.5/live mail me@example.org", "rtsp://10.0.0.5/live mail me@example.org"),
        ("/videos/door.mp4", "/videos/door.mp4"),
    ],
)  # fmt: skip
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redacting_filter_masks_messages_and_arguments() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "open %s", ("rtsp://u:pw@h/",), None)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == "open rtsp://***:***@h/"


# --- the buffer -----------------------------------------------------------------------------


def _frame(i: int) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), i / 10, i, "cam", time.time())


def test_buffer_drops_oldest_when_full() -> None:
    buffer = FrameBuffer(2, drop_oldest=True)
    for i in range(5):
        assert buffer.put(_frame(i))
    assert buffer.dropped == 3
    assert [buffer.get(0).index, buffer.get(0).index] == [3, 4]
    assert buffer.get(0.01) is None


def test_buffer_without_dropping_makes_the_producer_wait() -> None:
    buffer = FrameBuffer(1, drop_oldest=False)
    buffer.put(_frame(0))
    done = threading.Event()
    threading.Thread(target=lambda: (buffer.put(_frame(1)), done.set()), daemon=True).start()
    assert not done.wait(0.2)  # blocked: the buffer is full
    assert buffer.get(1).index == 0
    assert done.wait(2)
    assert buffer.get(1).index == 1 and buffer.dropped == 0
    buffer.close()
    assert buffer.get(None) is None and not buffer.put(_frame(2))


# --- files ----------------------------------------------------------------------------------


def test_file_as_fast_as_possible_keeps_every_frame(make_clip) -> None:
    clip = make_clip("fast.mp4", seconds=2, fps=10)
    frames = []
    started = time.monotonic()
    with VideoSource(clip, "door", buffer=1) as source:
        for frame in source:
            time.sleep(0.005)  # a consumer slower than the decoder: still no frame lost
            frames.append(frame)
    assert time.monotonic() - started < 1.8  # faster than real time
    assert [f.index for f in frames] == list(range(20))
    assert [round(f.pts_seconds, 3) for f in frames] == [round(i / 10, 3) for i in range(20)]
    first = frames[0]
    assert first.image.shape == (240, 320, 3) and first.image.dtype == np.uint8
    assert first.camera == "door" and (first.width, first.height) == (320, 240)
    assert source.stats.frames_dropped == 0 and source.state is SourceState.STOPPED
    assert source.reason == "end of file" and source.finished


def test_file_in_real_time_paces_and_drops_oldest_for_a_slow_consumer(make_clip) -> None:
    clip = make_clip("realtime.mp4", seconds=1.5, fps=20)
    ages, indices = [], []
    started = time.monotonic()
    with VideoSource(clip, realtime=True, buffer=2) as source:
        for frame in source:
            ages.append(frame.age_s)
            indices.append(frame.index)
            time.sleep(0.12)  # ~8 fps consumer for a 20 fps "camera"
    elapsed = time.monotonic() - started
    assert 1.3 < elapsed < 2.5
    assert source.stats.frames_decoded == 30
    assert source.stats.frames_dropped > 10
    assert len(indices) + source.stats.frames_dropped == 30
    assert indices == sorted(indices) and indices[-1] == 29  # the newest frame is never lost
    assert max(ages) < 0.5  # latency stays bounded by the buffer, not by the backlog


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(SourceNotFoundError, match="no such file"):
        VideoSource(tmp_path / "nope.mp4")
    with pytest.raises(SourceFormatError, match="is a folder"):
        VideoSource(tmp_path)


def test_not_a_video(tmp_path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("these are not the frames you are looking for\n")
    source = VideoSource(path)
    with pytest.raises(SourceFormatError, match="not a video file, or it is corrupt"):
        list(source)
    assert source.state is SourceState.STOPPED and source.error is not None


def test_file_with_no_video_track(make_clip) -> None:
    clip = make_clip("tone.m4a", source="sine=frequency=440:duration=1", args=())
    with pytest.raises(SourceFormatError, match=r"no video track \(streams: audio\)"):
        list(VideoSource(clip))


def test_truncated_file(make_clip, tmp_path) -> None:
    clip = make_clip("whole.mp4")  # its index (moov) is at the end, so a cut file has none
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with pytest.raises(SourceFormatError, match="corrupt or truncated"):
        VideoSource(cut).read(timeout=10)


def test_damaged_file_skips_bad_packets_and_goes_on(make_clip, tmp_path, caplog) -> None:
    clip = make_clip("damaged-src.mp4", seconds=2, fps=10)
    data = bytearray(clip.read_bytes())
    rng = np.random.default_rng(1)
    start = len(data) // 3
    data[start : start + len(data) // 4] = rng.integers(0, 256, len(data) // 4, np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="openlfr.live"):
        source = VideoSource(damaged)
        frames = list(source)
    assert 0 < len(frames) < 20
    assert source.stats.decode_errors > 0
    assert "damaged packets" in caplog.text


def test_garbage_only_file_is_corrupt(tmp_path) -> None:
    path = tmp_path / "noise.ts"
    path.write_bytes(np.random.default_rng(2).integers(0, 256, 200_000, np.uint8).tobytes())
    with pytest.raises(SourceFormatError, match="corrupt"):
        list(VideoSource(path))


def test_4k_is_decoded_and_can_be_downscaled(make_clip) -> None:
    clip = make_clip("uhd.mp4", size="3840x2160", seconds=0.2, fps=10)
    full = list(VideoSource(clip))
    assert len(full) == 2 and full[0].image.shape == (2160, 3840, 3)
    small = list(VideoSource(clip, max_side=1280))
    assert small[0].image.shape == (720, 1280, 3)
    # downscaling keeps the picture: compare with a naive subsample of the full frame
    diff = np.abs(small[0].image[::4, ::4].astype(int) - full[0].image[::12, ::12].astype(int))
    assert diff.mean() < 25


def test_tiny_160x120(make_clip) -> None:
    frames = list(VideoSource(make_clip("tiny.mp4", size="160x120", seconds=1)))
    assert len(frames) == 10 and frames[0].image.shape == (120, 160, 3)


def test_same_frame_forever_is_reported_as_frozen(make_clip) -> None:
    still = make_clip("still.mp4", source="color=c=gray:size=320x240:rate=10", seconds=3)
    moving = make_clip("moving.mp4", seconds=3)
    events = Recorder()
    frames = list(VideoSource(still, frozen_timeout_s=1.0, on_state_change=events))
    assert len(frames) == 30  # frames still flow: frozen is a warning, not a failure
    assert (SourceState.STALLED, "frozen: the picture has not changed for 1.0 s") in events.events
    events = Recorder()
    list(VideoSource(moving, frozen_timeout_s=1.0, on_state_change=events))
    assert SourceState.STALLED not in events.states


def test_stop_in_the_middle(make_clip) -> None:
    source = VideoSource(make_clip("long.mp4", seconds=5), realtime=True)
    assert source.read(timeout=5) is not None
    source.stop()
    assert source.state is SourceState.STOPPED and source.reason == "stopped"
    assert source.stats.frames_decoded < 50
    source.stop()  # twice is fine


# --- configuration and webcams ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rtsp_transport": "sctp"}, "rtsp_transport"),
        ({"buffer": 0}, "buffer"),
        ({"backoff_initial_s": 5, "backoff_max_s": 1}, "back-off"),
        ({"max_reconnects": -1}, "max_reconnects"),
        ({"frozen_timeout_s": 0}, "frozen_timeout_s"),
    ],
)
def test_bad_options(kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match):
        VideoSource("rtsp://127.0.0.1:9/x", **kwargs)


def test_unsupported_scheme_is_redacted() -> None:
    with pytest.raises(ConfigError, match=r"'ftp'") as info:
        VideoSource("ftp://user:secret@host/video.mp4")
    assert "secret" not in str(info.value)


def test_missing_webcam() -> None:
    with pytest.raises(SourceNotFoundError, match=r"no camera device at /dev/video99"):
        VideoSource("/dev/video99")
    with pytest.raises(SourceNotFoundError, match=r"/dev/video98"):
        VideoSource(98)


# --- RTSP -----------------------------------------------------------------------------------


def test_unreachable_camera_gives_up_with_a_redacted_error(caplog) -> None:
    url = f"rtsp://admin:hunter2@127.0.0.1:{free_port()}/live"
    events = Recorder()
    with caplog.at_level(logging.DEBUG, logger="openlfr.live"):
        source = VideoSource(url, "gate", max_reconnects=2, on_state_change=events, **FAST)
        with pytest.raises(SourceUnreachableError, match="connection refused") as info:
            source.read(timeout=10)
    message = str(info.value)
    assert "rtsp://***:***@127.0.0.1" in message and "gave up after 2 retries" in message
    assert source.stats.reconnects == 2 and source.state is SourceState.STOPPED
    retries = [r for s, r in events.events if s is SourceState.RECONNECTING]
    assert [r.rsplit("retrying in ", 1)[1] for r in retries] == ["0.1 s", "0.2 s"]  # back-off
    everything = caplog.text + message + repr(events.events) + repr(source.stats) + repr(source)
    assert "hunter2" not in everything and "admin" not in everything


def test_unknown_host() -> None:
    source = VideoSource("rtsp://u:p@camera.invalid/live", max_reconnects=0, **FAST)
    with pytest.raises(SourceUnreachableError, match="camera.invalid"):
        source.read(timeout=15)


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_rtsp_reconnects_when_the_server_restarts(rtsp_server, transport) -> None:
    server = rtsp_server()
    events = Recorder()
    source = VideoSource(
        server.url("viewer:pass"), "lobby", rtsp_transport=transport, on_state_change=events, **FAST
    )
    with source:
        source.wait_until_live(10)
        before = read_n(source, 5)
        assert before[0].image.shape == (240, 320, 3)
        assert all(b.pts_seconds > a.pts_seconds for a, b in zip(before, before[1:], strict=False))

        server.kill()  # the stream stops mid-way
        assert source.wait_for(SourceState.RECONNECTING, timeout=5)
        time.sleep(0.8)  # a few failed retries while it is down
        assert source.state is SourceState.RECONNECTING
        assert "connection refused" in (source.stats.last_error or "")

        server.start()  # same port
        assert source.wait_for(SourceState.LIVE, timeout=10)
        after = read_n(source, 5)
    assert after[0].index > before[-1].index
    assert source.stats.reconnects >= 2
    states = events.states
    first_live = states.index(SourceState.LIVE)
    assert SourceState.RECONNECTING in states[first_live:]
    assert SourceState.LIVE in states[states.index(SourceState.RECONNECTING) :]
    assert states[-1] is SourceState.STOPPED


def test_rtsp_stall_is_detected_and_recovered(rtsp_server) -> None:
    server = rtsp_server()
    events = Recorder()
    opts = {**FAST, "stall_timeout_s": 1.0}
    with VideoSource(server.url(), connect_timeout_s=2, on_state_change=events, **opts) as source:
        source.wait_until_live(10)
        server.pause()  # connection open, no data: a hung camera
        assert source.wait_for(SourceState.RECONNECTING, timeout=6)
        stalled = [r for s, r in events.events if s is SourceState.STALLED]
        assert stalled and "no frames for 1 s" in stalled[0]
        server.resume()
        assert source.wait_for(SourceState.LIVE, timeout=10)
        read_n(source, 3)


def test_rtsp_slow_consumer_gets_recent_frames(rtsp_server) -> None:
    server = rtsp_server()  # 15 fps
    with VideoSource(server.url(), buffer=1, **FAST) as source:
        source.wait_until_live(10)
        source.read(timeout=2)
        live_since = time.time()
        frames, ages = [], []
        for _ in range(6):
            time.sleep(0.3)  # a consumer at ~3 fps
            frame = source.read(timeout=2)
            assert frame is not None
            frames.append(frame)
            ages.append(frame.age_s)
    assert source.stats.frames_dropped >= 15
    assert max(ages) < 0.3  # at most one frame interval (67 ms) plus scheduling
    # stream time keeps pace with the wall clock: the backlog does not grow
    lag = [(f.wall_time - live_since) - (f.pts_seconds - frames[0].pts_seconds) for f in frames]
    assert max(lag) - min(lag) < 0.5


def test_rtsp_wrong_password_is_not_retried(rtsp_server, caplog) -> None:
    server = rtsp_server("--user", "admin", "--password", "s3cret")
    with caplog.at_level(logging.DEBUG, logger="openlfr.live"):
        wrong = VideoSource(server.url("admin:letmein"), **FAST)  # max_reconnects: forever
        with pytest.raises(SourceAuthError, match=r"refused the user name or password \(401"):
            wrong.read(timeout=10)
        assert wrong.stats.reconnects == 0  # cameras lock accounts after failed logins
        anonymous = VideoSource(server.url(), **FAST)
        with pytest.raises(SourceAuthError, match="needs a user name and password"):
            anonymous.read(timeout=10)
    assert "letmein" not in caplog.text + str(wrong.error)
    with VideoSource(server.url("admin:s3cret"), **FAST) as right:
        right.wait_until_live(10)
        assert right.read(timeout=5) is not None


def test_rtsp_frozen_camera_and_unknown_path(rtsp_server) -> None:
    server = rtsp_server("--frozen")
    events = Recorder()
    with VideoSource(server.url(), frozen_timeout_s=1.0, on_state_change=events, **FAST) as source:
        source.wait_until_live(10)
        assert source.wait_for(SourceState.STALLED, timeout=5)
        assert source.reason.startswith("frozen")
        assert source.read(timeout=2) is not None  # frames keep coming, nothing crashed
    missing = VideoSource(server.url(path="/nope"), max_reconnects=0, **FAST)
    with pytest.raises(SourceNotFoundError, match="no stream at this path"):
        missing.read(timeout=10)


# --- HTTP / MJPEG ---------------------------------------------------------------------------


def test_http_mjpeg_camera_160x120(mjpeg_server) -> None:
    server = mjpeg_server(size=(160, 120), fps=20)
    with VideoSource(server.url(), "mjpeg", **FAST) as source:
        source.wait_until_live(10)
        frames = read_n(source, 6)
        assert frames[0].image.shape == (120, 160, 3)
        assert all(b.pts_seconds > a.pts_seconds for a, b in zip(frames, frames[1:], strict=False))
        # the moving box: consecutive pictures differ
        assert np.abs(frames[-1].image.astype(int) - frames[0].image.astype(int)).max() > 100
        server.close()  # the camera goes away
        assert source.wait_for(SourceState.RECONNECTING, timeout=5)


def test_http_mjpeg_wrong_password(mjpeg_server) -> None:
    server = mjpeg_server(auth="admin:s3cret")
    source = VideoSource(server.url("admin:nope"), **FAST)
    with pytest.raises(SourceAuthError, match="401") as info:
        source.read(timeout=10)
    assert "nope" not in str(info.value)
    with VideoSource(server.url("admin:s3cret"), **FAST) as right:
        right.wait_until_live(10)


def test_errors_are_openlfr_errors() -> None:
    assert issubclass(SourceUnreachableError, SourceError)
    from openlfr.errors import OpenLFRError

    assert issubclass(SourceError, OpenLFRError)
