"""Fixtures for the live-source tests: clips made by ffmpeg, a real RTSP server (GStreamer)
that a test can start, kill, pause and restart, and a camera-like HTTP/MJPEG server.
Everything listens on 127.0.0.1 only. `make test` installs the system parts
(scripts/system/ffmpeg.sh, scripts/system/rtsp.sh); when they are missing the tests fail
in CI and are skipped elsewhere."""

from __future__ import annotations

import base64
import io
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SERVER = Path(__file__).with_name("rtsp_server.py")


def _missing(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- clips --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        _missing("ffmpeg is not installed (run scripts/system/ffmpeg.sh)")
    return str(path)


@pytest.fixture(scope="session")
def make_clip(ffmpeg: str, tmp_path_factory) -> Callable[..., Path]:
    """make_clip(name, size="320x240", seconds=2, fps=10, source="testsrc") -> Path.
    Clips are cached per session by their arguments."""
    folder = tmp_path_factory.mktemp("clips")

    def make(
        name: str,
        size: str = "320x240",
        seconds: float = 2.0,
        fps: int = 10,
        source: str = "testsrc",
        args: tuple[str, ...] = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"),
    ) -> Path:
        path = folder / name
        if not path.exists():
            lavfi = source if "=" in source else f"{source}=size={size}:rate={fps}"
            cmd = [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", lavfi, "-t", str(seconds)]
            subprocess.run([*cmd, *args, str(path)], check=True, timeout=60)
        return path

    return make


# --- RTSP ---------------------------------------------------------------------------------


class RtspServer:
    """One GStreamer RTSP server process on a fixed loopback port, restartable."""

    def __init__(self, port: int, *extra: str) -> None:
        self.port = port
        self.extra = extra
        self.proc: subprocess.Popen[str] | None = None

    def url(self, userinfo: str = "", path: str = "/live") -> str:
        at = f"{userinfo}@" if userinfo else ""
        return f"rtsp://{at}127.0.0.1:{self.port}{path}"

    def start(self) -> RtspServer:
        cmd = [SYSTEM_PYTHON, str(RTSP_SERVER), "--port", str(self.port), *self.extra]
        deadline = time.monotonic() + 10
        while True:  # the port may linger a moment after a kill
            self.proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            line = self.proc.stdout.readline().strip() if self.proc.stdout else ""
            if line == "ready":
                return self
            self.proc.wait(5)
            if time.monotonic() > deadline:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"RTSP test server did not start: {err}")
            time.sleep(0.2)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # in case it was paused
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def pause(self) -> None:
        """Freeze the process: connections stay open but no data flows (a hung camera)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


@pytest.fixture(scope="session")
def gst_rtsp() -> None:
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
        capture_output=True,
    ) if Path(SYSTEM_PYTHON).exists() else None  # fmt: skip
    if probe is None or probe.returncode != 0:
        _missing("GStreamer RTSP server not installed (run scripts/system/rtsp.sh)")


@pytest.fixture
def rtsp_server(gst_rtsp) -> Iterator[Callable[..., RtspServer]]:
    """rtsp_server(*args) -> a started RtspServer (args go to rtsp_server.py)."""
    servers: list[RtspServer] = []

    def start(*extra: str) -> RtspServer:
        server = RtspServer(free_port(), *extra).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.kill()


# --- HTTP / MJPEG -------------------------------------------------------------------------


class MjpegServer:
    """A camera-like MJPEG server: multipart/x-mixed-replace JPEGs at /video.mjpg."""

    BOUNDARY = "frameboundary"

    def __init__(self, size: tuple[int, int] = (160, 120), fps: float = 20.0, auth: str = ""):
        self.size, self.fps, self.auth = size, fps, auth
        self.frames_sent = 0
        self.stopping = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802
                expected = "Basic " + base64.b64encode(owner.auth.encode()).decode()
                if owner.auth and self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path != "/video.mjpg":
                    self.send_error(404)
                    return
                self.send_response(200)
                ctype = f"multipart/x-mixed-replace; boundary={owner.BOUNDARY}"
                self.send_header("Content-Type", ctype)
                self.end_headers()
                try:
                    while not owner.stopping.is_set():
                        jpeg = owner.jpeg(owner.frames_sent)
                        head = (
                            f"--{owner.BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                            f"Content-Length: {len(jpeg)}\r\n\r\n"
                        )
                        self.wfile.write(head.encode() + jpeg + b"\r\n")
                        owner.frames_sent += 1
                        time.sleep(1 / owner.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, userinfo: str = "") -> str:
        at = f"{userinfo}@" if userinfo else ""
        return f"http://{at}127.0.0.1:{self.port}/video.mjpg"

    def jpeg(self, n: int) -> bytes:
        width, height = self.size
        image = np.zeros((height, width, 3), np.uint8)
        image[..., 2] = 90
        x = (n * 4) % max(1, width - 20)
        image[height // 3 : height // 3 + 20, x : x + 20] = (255, 200, 0)  # a moving box
        out = io.BytesIO()
        Image.fromarray(image).save(out, format="JPEG", quality=85)
        return out.getvalue()

    def close(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mjpeg_server() -> Iterator[Callable[..., MjpegServer]]:
    servers: list[MjpegServer] = []

    def start(**kwargs: object) -> MjpegServer:
        server = MjpegServer(**kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
