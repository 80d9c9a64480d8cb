"""Camera sources: where a deployment's camera is read from.

A source is a video file path, a ``file://``, ``rtsp://``, ``http(s)://`` (or other
stream) URL, or ``/dev/videoN``. URLs may carry credentials, so a source is secret: the
store seals it, and everything shown (API, CLI, logs, audit) is its redacted form.
"""

from __future__ import annotations

import re

from openlfr.domain.errors import DeploymentStateError

MAX_SOURCE_LENGTH = 2000
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*)://")
SCHEMES = frozenset(
    {"file", "rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt", "rtp"}
)


def display(source: str) -> str:
    """The source as it may be shown: user names, passwords and secret parameters masked."""
    from openlfr.live.redact import redact  # a pure function; imported late (live is heavy)

    return redact(source)


def check_source(source: str) -> str:
    """A usable source string, or a DeploymentStateError saying why not (never echoing
    credentials)."""
    text = (source or "").strip() if isinstance(source, str) else ""
    if not text:
        raise DeploymentStateError("a camera source is required (a file, URL or /dev/videoN)")
    if len(text) > MAX_SOURCE_LENGTH:
        raise DeploymentStateError(
            f"a camera source may have at most {MAX_SOURCE_LENGTH} characters"
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise DeploymentStateError("a camera source may not contain control characters")
    match = _SCHEME.match(text)
    if match and match.group(1).lower() not in SCHEMES:
        raise DeploymentStateError(
            f"unsupported camera URL scheme {match.group(1)!r} in {display(text)}; "
            f"use one of {', '.join(sorted(SCHEMES))}"
        )
    return text


def check_sources(cameras: tuple[str, ...], sources: dict[str, str]) -> dict[str, str]:
    """Sources keyed by camera name: every key must be one of the deployment's cameras."""
    unknown = sorted(set(sources) - set(cameras))
    if unknown:
        raise DeploymentStateError(f"source given for unknown camera {unknown[0]!r}")
    return {camera: check_source(url) for camera, url in sources.items()}
