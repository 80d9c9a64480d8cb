"""Decoded frames and the small bounded buffer between a source's reader and its consumer."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One decoded picture.

    ``pts_seconds`` is the stream's own timestamp (restarts after a reconnect; for streams
    without timestamps, seconds since the connection opened); ``index`` counts frames
    decoded by the source over its whole life; ``wall_time`` is ``time.time()`` at decode.
    """

    image: np.ndarray  # H x W x 3, RGB, uint8
    pts_seconds: float
    index: int
    camera: str
    wall_time: float

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def age_s(self) -> float:
        """Seconds since this frame was decoded: the latency the consumer is adding."""
        return time.time() - self.wall_time


class FrameBuffer:
    """A bounded FIFO of frames.

    With ``drop_oldest`` (live streams, real-time playback) a full buffer discards its oldest
    frame, so a slow consumer always gets recent frames and latency never grows. Without it
    (processing footage) the producer waits, so no frame is lost.
    """

    def __init__(self, capacity: int, *, drop_oldest: bool) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._frames: deque[Frame] = deque()
        self._capacity = capacity
        self._drop_oldest = drop_oldest
        self._cond = threading.Condition()
        self._closed = False
        self.dropped = 0

    def put(self, frame: Frame) -> bool:
        """Add a frame; False when the buffer was closed (the frame is discarded)."""
        with self._cond:
            while not self._drop_oldest and len(self._frames) >= self._capacity:
                if self._closed:
                    return False
                self._cond.wait(0.1)
            if self._closed:
                return False
            if len(self._frames) >= self._capacity:
                self._frames.popleft()
                self.dropped += 1
            self._frames.append(frame)
            self._cond.notify_all()
            return True

    def get(self, timeout: float | None = None) -> Frame | None:
        """The oldest frame; None after ``timeout`` seconds, or at once when closed and empty."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._frames:
                if self._closed:
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            frame = self._frames.popleft()
            self._cond.notify_all()
            return frame

    def close(self) -> None:
        """Wake every waiter; later puts are refused, gets drain what is left."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        with self._cond:
            return len(self._frames)
