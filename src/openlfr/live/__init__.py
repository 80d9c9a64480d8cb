"""The live pipeline: video sources (this part), then tracker and per-camera runner."""

from openlfr.live.frames import Frame, FrameBuffer
from openlfr.live.redact import RedactingFilter, redact
from openlfr.live.source import (
    SourceAuthError,
    SourceEndedError,
    SourceError,
    SourceFormatError,
    SourceNotFoundError,
    SourceStalledError,
    SourceState,
    SourceStats,
    SourceUnreachableError,
    VideoSource,
)

__all__ = [
    "Frame",
    "FrameBuffer",
    "RedactingFilter",
    "SourceAuthError",
    "SourceEndedError",
    "SourceError",
    "SourceFormatError",
    "SourceNotFoundError",
    "SourceStalledError",
    "SourceState",
    "SourceStats",
    "SourceUnreachableError",
    "VideoSource",
    "redact",
]
