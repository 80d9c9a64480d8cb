"""One video source (file, RTSP, HTTP/MJPEG, webcam) decoded by FFmpeg through PyAV.

A reader thread owns the connection and runs an explicit state machine::

    CONNECTING -> LIVE <-> STALLED            (stalled: no frames, or a frozen picture)
        |          |          |
        +----------+----------+--> RECONNECTING (back-off: initial * 2**n, capped) -> LIVE
                                       ... -> STOPPED (stop(), end of file, fatal error)

It puts frames into a small buffer; a consumer that falls behind loses the *oldest* frames
(live streams and real-time file playback), so latency never grows. Files processed as
fast as possible never drop: the reader waits for the consumer instead. Every message
that leaves this module (log line, error, state reason) has its credentials redacted.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import av
import av.error
import numpy as np

from openlfr.errors import ConfigError, OpenLFRError
from openlfr.live.frames import Frame, FrameBuffer
from openlfr.live.redact import redact

log = logging.getLogger(__name__)


# --- errors -----------------------------------------------------------------------------


class SourceError(OpenLFRError):
    """A video source that cannot be opened or read. The message is already redacted."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class SourceNotFoundError(SourceError):
    """A missing file, a missing webcam device, or a server path with no stream (404)."""


class SourceFormatError(SourceError):
    """Not a video, no video track, or a corrupt/truncated file."""


class SourceUnreachableError(SourceError):
    """The camera or server does not answer (refused, unknown host, timed out)."""


class SourceAuthError(SourceError):
    """The camera refused the user name or password (401/403). Never retried: cameras
    often lock an account after a few failed logins."""


class SourceStalledError(SourceError):
    """A connected stream stopped sending frames for longer than the stall timeout."""


class SourceEndedError(SourceError):
    """A live stream ended (the server closed it)."""


# --- state ------------------------------------------------------------------------------


class SourceState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    STALLED = "stalled"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class SourceStats:
    state: SourceState
    reason: str
    frames_decoded: int
    frames_dropped: int
    decode_errors: int
    reconnects: int
    last_error: str | None  # redacted
    width: int | None
    height: int | None


StateCallback = Callable[[SourceState, str], None]

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://")
_WEBCAM = re.compile(r"^/dev/video\d+$")
_NETWORK_SCHEMES = {"rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt", "rtp"}
# After this many undecodable packets in a row the input is corrupt, not merely damaged.
_MAX_CONSECUTIVE_DECODE_ERRORS = 50
# Frames whose subsampled pictures differ by at most this mean level (0-255) are "the same":
# lossless repeats, or a still picture re-encoded. A real sensor's noise is well above it.
_FROZEN_MEAN_DIFF = 0.5


def _kind_of(target: str) -> str:
    if _WEBCAM.match(target):
        return "webcam"
    if _SCHEME.match(target):
        scheme = target.split("://", 1)[0].lower()
        if scheme == "file":
            return "file"
        if scheme in ("rtsp", "rtsps"):
            return "rtsp"
        if scheme in ("http", "https"):
            return "http"
        if scheme in _NETWORK_SCHEMES:
            return "stream"
        raise ConfigError(f"unsupported video URL scheme {scheme!r} in {redact(target)}")
    return "file"


class VideoSource:
    """Frames from one camera or file, with reconnection and bounded latency.

    ``source``: a file path, ``rtsp://``/``http://`` URL (credentials allowed in the URL),
    ``/dev/videoN`` or an int N for a local webcam. ``realtime`` (files only): play at the
    file's frame rate, dropping frames a slow consumer misses, to stand in for a camera;
    default False (every frame, as fast as the consumer takes them). Live sources always
    run in real time. ``buffer``: frames held for the consumer. ``stall_timeout_s``: no
    frame for this long -> STALLED, then reconnect. ``frozen_timeout_s``: an unchanged
    picture for this long (stream time) -> STALLED with a "frozen" reason; frames keep
    flowing (None disables). ``max_reconnects``: consecutive failed reconnects before
    giving up (None: forever; files never reconnect). ``max_side``: downscale larger
    pictures so their longer side is at most this. ``options``: extra FFmpeg options.
    ``on_state_change(state, reason)`` runs on the reader thread; keep it short.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | int,
        camera_id: str | None = None,
        *,
        realtime: bool | None = None,
        buffer: int = 2,
        stall_timeout_s: float = 5.0,
        connect_timeout_s: float = 10.0,
        frozen_timeout_s: float | None = 10.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_reconnects: int | None = None,
        rtsp_transport: str = "tcp",
        max_side: int | None = None,
        options: Mapping[str, str] | None = None,
        on_state_change: StateCallback | None = None,
    ) -> None:
        target = f"/dev/video{source}" if isinstance(source, int) else os.fspath(source)
        self._target = target
        self.kind = _kind_of(target)
        self.url = redact(target)
        self.camera = camera_id or (Path(target).stem if self.kind == "file" else self.url)
        self._check_config(
            buffer, stall_timeout_s, connect_timeout_s, frozen_timeout_s, backoff_initial_s,
            backoff_max_s, max_reconnects, rtsp_transport, max_side,
        )  # fmt: skip
        if self.kind == "file":
            path = Path(target[len("file://") :] if target.startswith("file://") else target)
            if not path.exists():
                raise SourceNotFoundError(f"camera {self.camera!r}: no such file: {path}")
            if path.is_dir():
                raise SourceFormatError(f"camera {self.camera!r}: {path} is a folder, not a video")
            self._target = str(path)
        elif self.kind == "webcam" and not Path(target).exists():
            raise SourceNotFoundError(
                f"camera {self.camera!r}: no camera device at {target} "
                "(is it plugged in, and may this user read it?)"
            )

        self.is_live = self.kind != "file"
        self.realtime = True if self.is_live else bool(realtime)
        self._buffer = FrameBuffer(buffer, drop_oldest=self.realtime)
        self._stall_timeout = stall_timeout_s
        self._connect_timeout = connect_timeout_s
        self._frozen_timeout = frozen_timeout_s
        self._backoff_initial = backoff_initial_s
        self._backoff_max = backoff_max_s
        self._max_reconnects = max_reconnects
        self._rtsp_transport = rtsp_transport
        self._max_side = max_side
        self._options = dict(options or {})
        self._on_state_change = on_state_change

        self._lock = threading.Condition()
        self._state = SourceState.CONNECTING
        self._reason = "not started"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: SourceError | None = None
        self._last_error: str | None = None
        self._index = 0
        self._decode_errors = 0
        self._reconnects = 0
        self._size: tuple[int, int] | None = None
        # per-connection state
        self._session_frames = 0
        self._pace_origin: tuple[float, float] | None = None
        self._opened_at = 0.0
        self._last_sig: np.ndarray | None = None
        self._last_pts = 0.0
        self._still_since: float | None = None

    @staticmethod
    def _check_config(
        buffer: int,
        stall: float,
        connect: float,
        frozen: float | None,
        backoff_initial: float,
        backoff_max: float,
        max_reconnects: int | None,
        transport: str,
        max_side: int | None,
    ) -> None:
        if buffer < 1:
            raise ConfigError(f"buffer must hold at least 1 frame, not {buffer}")
        if stall <= 0 or connect <= 0:
            raise ConfigError("stall and connect timeouts must be positive")
        if frozen is not None and frozen <= 0:
            raise ConfigError("frozen_timeout_s must be positive (or None to disable)")
        if backoff_initial <= 0 or backoff_max < backoff_initial:
            raise ConfigError("back-off must be positive, and its maximum at least its start")
        if max_reconnects is not None and max_reconnects < 0:
            raise ConfigError("max_reconnects must be 0 or more (or None: forever)")
        if transport not in ("tcp", "udp"):
            raise ConfigError(f"rtsp_transport must be 'tcp' or 'udp', not {transport!r}")
        if max_side is not None and max_side < 16:
            raise ConfigError(f"max_side must be at least 16 pixels, not {max_side}")

    # --- public API ---------------------------------------------------------------------

    @property
    def state(self) -> SourceState:
        return self._state

    @property
    def reason(self) -> str:
        return self._reason

    @property
    def finished(self) -> bool:
        """Stopped and every buffered frame consumed: nothing more will come."""
        return self._state is SourceState.STOPPED and len(self._buffer) == 0

    @property
    def error(self) -> SourceError | None:
        """The error that stopped the source, if one did."""
        return self._error

    @property
    def stats(self) -> SourceStats:
        return SourceStats(
            state=self._state,
            reason=self._reason,
            frames_decoded=self._index,
            frames_dropped=self._buffer.dropped,
            decode_errors=self._decode_errors,
            reconnects=self._reconnects,
            last_error=self._last_error,
            width=self._size[0] if self._size else None,
            height=self._size[1] if self._size else None,
        )

    def start(self) -> VideoSource:
        """Start the reader thread (idempotent). Returns self."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"video-{self.camera}", daemon=True
                )
                self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading and release the connection. Safe to call more than once."""
        self._stop.set()
        self._buffer.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            # A blocked network open only returns at its own timeout; don't wait forever.
            thread.join(timeout)
        self._set_state(SourceState.STOPPED, "stopped")

    def read(self, timeout: float | None = None) -> Frame | None:
        """The next frame, or None if none came within ``timeout`` seconds or the source has
        finished (see :attr:`finished`). Raises the SourceError that stopped the source."""
        self.start()
        frame = self._buffer.get(timeout)
        if frame is None and self._buffer.closed and self._error is not None:
            raise self._error
        return frame

    def __iter__(self) -> Iterator[Frame]:
        """Every frame until the source stops; raises the error that stopped it, if any."""
        while True:
            frame = self.read(timeout=0.5)
            if frame is not None:
                yield frame
            elif self.finished:
                if self._error is not None:
                    raise self._error
                return

    def wait_for(self, *states: SourceState, timeout: float | None = None) -> bool:
        """Block until the state is one of ``states``; False on timeout."""
        self.start()
        with self._lock:
            return self._lock.wait_for(lambda: self._state in states, timeout)

    def wait_until_live(self, timeout: float) -> None:
        """Return once frames flow; else raise the fatal error, or the last one on timeout."""
        if self.wait_for(SourceState.LIVE, SourceState.STOPPED, timeout=timeout):
            if self._state is SourceState.LIVE:
                return
            if self._error is not None:
                raise self._error
            return  # a file that already ended
        detail = self._last_error or f"still {self._state.value} after {timeout:g} s"
        raise SourceUnreachableError(detail)

    def __enter__(self) -> VideoSource:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"VideoSource({self.url!r}, camera={self.camera!r}, state={self._state.value})"

    # --- state machine ------------------------------------------------------------------

    def _where(self) -> str:
        return f"camera {self.camera!r} ({self.url})"

    def _set_state(self, state: SourceState, reason: str, level: int | None = None) -> None:
        reason = redact(reason)
        with self._lock:
            if self._state is SourceState.STOPPED:
                return  # STOPPED is final
            # Retries are worth a line each (their reason says the next delay); LIVE is not.
            changed = state is not self._state or (
                reason != self._reason and state is SourceState.RECONNECTING
            )
            self._state, self._reason = state, reason
            self._lock.notify_all()
        if not changed:
            return
        if level is None:
            calm = state in (SourceState.LIVE, SourceState.CONNECTING, SourceState.STOPPED)
            level = logging.INFO if calm else logging.WARNING
        where = self._where()
        log.log(level, "%s", redact(f"{where}: {state.value}: {reason.removeprefix(where + ': ')}"))
        if self._on_state_change is not None:
            try:
                self._on_state_change(state, reason)
            except Exception as exc:  # a consumer's bug must not kill the reader
                log.error("%s", redact(f"{where}: state callback failed: {exc!r}"))

    def _run(self) -> None:
        failures = 0  # consecutive connections that delivered no frame
        try:
            while not self._stop.is_set():
                if failures == 0 and self._reconnects == 0:
                    self._set_state(SourceState.CONNECTING, "opening")
                try:
                    self._session()
                except SourceError as exc:
                    error = exc
                except Exception as exc:  # unexpected: report it redacted, never crash
                    error = SourceError(f"{self._where()}: unexpected error: {exc!r}")
                else:
                    if self._stop.is_set():
                        return
                    if not self.is_live:
                        self._set_state(SourceState.STOPPED, "end of file")
                        return
                    error = SourceEndedError(f"{self._where()}: the stream ended")
                if self._stop.is_set():
                    return
                self._last_error = str(error)
                if isinstance(error, SourceStalledError):
                    self._set_state(SourceState.STALLED, str(error))
                if not self.is_live or isinstance(error, SourceAuthError) or self._fatal(error):
                    self._fail(error)
                    return
                failures = 0 if self._session_frames else failures + 1
                if self._max_reconnects is not None and failures > self._max_reconnects:
                    gave_up = type(error)(f"{error} (gave up after {self._max_reconnects} retries)")
                    self._fail(gave_up)
                    return
                delay = min(self._backoff_max, self._backoff_initial * 2 ** max(0, failures - 1))
                self._set_state(SourceState.RECONNECTING, f"{error}; retrying in {delay:.1f} s")
                if self._stop.wait(delay):
                    return
                self._reconnects += 1
        finally:
            self._buffer.close()
            self._set_state(SourceState.STOPPED, "stopped")

    @staticmethod
    def _fatal(error: SourceError) -> bool:
        # A live stream without a video track will not grow one by reconnecting.
        return isinstance(error, SourceFormatError) and "no video track" in str(error)

    def _fail(self, error: SourceError) -> None:
        self._error = error
        self._last_error = str(error)
        self._set_state(SourceState.STOPPED, str(error), logging.ERROR)

    # --- one connection -----------------------------------------------------------------

    def _open_kwargs(self) -> dict[str, object]:
        options: dict[str, str] = {}
        kwargs: dict[str, object] = {}
        if self.is_live:
            # Interrupt a connect, or a read with no data, after these many seconds.
            kwargs["timeout"] = (self._connect_timeout, self._stall_timeout)
            options["analyzeduration"] = "1000000"  # probe 1 s, not 5: connect faster
        if self.kind == "rtsp":
            options["rtsp_transport"] = self._rtsp_transport
        if self.kind == "webcam":
            kwargs["format"] = "v4l2"
        options.update(self._options)
        kwargs["options"] = options
        return kwargs

    def _session(self) -> None:
        self._session_frames = 0
        self._pace_origin = None
        self._last_sig = None
        self._still_since = None
        try:
            container = av.open(self._target, mode="r", **self._open_kwargs())
        except Exception as exc:
            raise self._classify(exc, opening=True) from None
        self._opened_at = time.monotonic()
        try:
            if not container.streams.video:
                kinds = sorted({s.type for s in container.streams}) or ["none"]
                raise SourceFormatError(
                    f"{self._where()}: has no video track (streams: {', '.join(kinds)})"
                )
            stream = container.streams.video[0]
            # Frame threading speeds files up; live streams keep slice threading (no delay).
            stream.thread_type = "SLICE" if self.is_live else "AUTO"
            self._decode(container, stream)
        except SourceError:
            raise
        except Exception as exc:
            raise self._classify(exc, opening=False) from None
        finally:
            container.close()
        if not self.is_live and self._session_frames == 0:
            raise SourceFormatError(
                f"{self._where()}: no frame could be decoded; the file is corrupt or truncated"
            )

    def _decode(self, container: av.container.InputContainer, stream: av.VideoStream) -> None:
        consecutive_errors = 0
        for packet in container.demux(stream):
            if self._stop.is_set():
                return
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                # Damaged data: skip the packet, as a player would, unless nothing decodes.
                self._decode_errors += 1
                consecutive_errors += 1
                if consecutive_errors >= _MAX_CONSECUTIVE_DECODE_ERRORS:
                    raise SourceFormatError(
                        f"{self._where()}: {consecutive_errors} undecodable packets in a row; "
                        "the video is corrupt"
                    ) from None
                continue
            if frames:
                consecutive_errors = 0
            for video_frame in frames:
                if self._stop.is_set():
                    return
                self._emit(video_frame)
        if self._decode_errors:
            log.warning(
                "%s", redact(f"{self._where()}: skipped {self._decode_errors} damaged packets")
            )

    def _emit(self, video_frame: av.VideoFrame) -> None:
        pts = video_frame.time
        if pts is None:  # e.g. MJPEG over HTTP: no timestamps, use time since connecting
            pts = time.monotonic() - self._opened_at
        if self.realtime and not self.is_live:
            self._pace(pts)
            if self._stop.is_set():
                return
        image = self._to_rgb(video_frame)
        self._size = (image.shape[1], image.shape[0])
        frozen_for = self._frozen_for(image, pts)
        frame = Frame(image, float(pts), self._index, self.camera, time.time())
        self._index += 1
        self._session_frames += 1
        if frozen_for is not None:
            if self._state is not SourceState.STALLED:
                self._set_state(
                    SourceState.STALLED,
                    f"frozen: the picture has not changed for {frozen_for:.1f} s",
                )
        elif self._state is not SourceState.LIVE:
            self._set_state(SourceState.LIVE, f"{self._size[0]}x{self._size[1]} frames")
        self._buffer.put(frame)

    def _to_rgb(self, video_frame: av.VideoFrame) -> np.ndarray:
        width, height = video_frame.width, video_frame.height
        if self._max_side is not None and max(width, height) > self._max_side:
            scale = self._max_side / max(width, height)
            width, height = max(1, round(width * scale)), max(1, round(height * scale))
            return video_frame.reformat(
                width=width, height=height, format="rgb24", interpolation="AREA"
            ).to_ndarray()
        return video_frame.to_ndarray(format="rgb24")

    def _pace(self, pts: float) -> None:
        now = time.monotonic()
        if self._pace_origin is None:
            self._pace_origin = (now, pts)
        due = self._pace_origin[0] + (pts - self._pace_origin[1])
        if due > now:
            self._stop.wait(due - now)

    def _frozen_for(self, image: np.ndarray, pts: float) -> float | None:
        """Seconds (stream time) the picture has been unchanged, once past the timeout."""
        if self._frozen_timeout is None:
            return None
        sig = np.ascontiguousarray(image[::8, ::8])
        last, self._last_sig = self._last_sig, sig
        last_pts, self._last_pts = self._last_pts, pts
        if (
            last is None
            or last.shape != sig.shape
            or np.abs(sig.astype(np.int16) - last).mean() > _FROZEN_MEAN_DIFF
        ):
            self._still_since = None
            return None
        if self._still_since is None:
            self._still_since = last_pts
        still = pts - self._still_since
        return still if still >= self._frozen_timeout else None

    # --- errors -------------------------------------------------------------------------

    def _classify(self, exc: BaseException, *, opening: bool) -> SourceError:
        where = self._where()
        detail = redact(getattr(exc, "strerror", None) or exc)
        if isinstance(exc, av.error.HTTPUnauthorizedError):
            if urlsplit(self._target).username is None:
                return SourceAuthError(
                    f"{where}: the camera needs a user name and password (401 Unauthorized); "
                    "put them in the URL: rtsp://USER:PASSWORD@host/path"
                )
            return SourceAuthError(
                f"{where}: authentication failed: the camera refused the user name or "
                "password (401 Unauthorized)"
            )
        if isinstance(exc, av.error.HTTPForbiddenError):
            return SourceAuthError(f"{where}: access denied (403 Forbidden)")
        if isinstance(exc, av.error.HTTPNotFoundError):
            return SourceNotFoundError(f"{where}: the server has no stream at this path (404)")
        if isinstance(exc, FileNotFoundError):
            if self.kind == "webcam":
                return SourceNotFoundError(f"{where}: no camera device at {self._target}")
            return SourceNotFoundError(f"{where}: not found ({detail})")
        if isinstance(exc, PermissionError):
            return SourceError(f"{where}: permission denied")
        if isinstance(exc, ConnectionRefusedError):
            return SourceUnreachableError(
                f"{where}: cannot reach the camera: connection refused "
                "(is it on, and are the host and port right?)"
            )
        if isinstance(exc, av.error.ExitError | TimeoutError | av.error.ConnectionResetError):
            if opening:
                return SourceUnreachableError(
                    f"{where}: cannot reach the camera: no answer within "
                    f"{self._connect_timeout:g} s"
                )
            if isinstance(exc, av.error.ConnectionResetError):
                return SourceEndedError(f"{where}: the server closed the connection")
            return SourceStalledError(f"{where}: no frames for {self._stall_timeout:g} s")
        if isinstance(exc, av.error.InvalidDataError):
            if self.is_live:
                return SourceFormatError(f"{where}: the stream sent data FFmpeg cannot read")
            if opening:
                return SourceFormatError(
                    f"{where}: not a video file, or it is corrupt or truncated"
                )
            return SourceFormatError(f"{where}: the file is corrupt from frame {self._index}")
        if self.is_live and opening and getattr(exc, "errno", None) == errno.EIO:
            host = urlsplit(self._target).hostname
            if host and not _resolves(host):
                return SourceUnreachableError(f"{where}: unknown host name {host!r}")
            return SourceUnreachableError(f"{where}: cannot reach the camera ({detail})")
        if isinstance(exc, av.error.FFmpegError | OSError):
            kind = SourceUnreachableError if self.is_live and opening else SourceError
            return kind(f"{where}: {detail}")
        return SourceError(f"{where}: unexpected error: {type(exc).__name__}: {detail}")


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None)
    except OSError:
        return False
    return True
