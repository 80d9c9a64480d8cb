"""Writing frames to an MP4 with PyAV (H.264 from the wheel's libx264; MPEG-4 part 2 if a
build lacks it)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np


def _codec() -> tuple[str, dict[str, str]]:
    if "libx264" in av.codecs_available:
        # veryfast: several times quicker than the default at a similar size. CRF 20: a
        # little better than x264's default (23), which costs faces about a fifth of
        # their fine detail; artefacts remain, as from a real camera. One thread: x264's
        # frame threads made two renders of one seed differ on a loaded machine.
        return "libx264", {"crf": "20", "preset": "veryfast", "threads": "1"}
    return "mpeg4", {"qscale": "4"}


class Mp4Writer:
    """``with Mp4Writer(path, width, height, fps) as w: w.write(rgb_frame)``."""

    def __init__(self, path: Path, width: int, height: int, fps: int) -> None:
        self.path = Path(path)
        self._container = av.open(str(self.path), mode="w")
        name, options = _codec()
        self.codec = name
        self._stream = self._container.add_stream(name, rate=Fraction(fps))
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = options
        self.frames = 0

    def write(self, rgb: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
