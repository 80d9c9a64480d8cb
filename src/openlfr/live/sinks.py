"""Where the pipeline's two outputs go: alerts and status counters.

The pipeline knows nothing of HTTP or SQL: it calls a `Sink`. Here: `ConsoleSink` (rich,
one line per alert), `JsonlSink` (alerts appended to a JSON Lines file, flushed per line),
`MemorySink` (collects everything; for tests, the simulator and Python callers) and
`MultiSink` (fan-out). The service adds its own sink that stores alerts.

JSONL images: off by default. The probe crop and the evidence frame of an alert are
biometric data of a listed person; a plain text file is not where they belong (the
service stores them encrypted). ``JsonlSink(include_images=True)`` adds them as base64.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, runtime_checkable

from openlfr.errors import ConfigError
from openlfr.live.alerts import AlertEvent
from openlfr.live.counters import CameraStats


@runtime_checkable
class Sink(Protocol):
    def on_alert(self, event: AlertEvent) -> None: ...

    def on_status(self, stats: CameraStats) -> None: ...

    def close(self) -> None: ...


class MemorySink:
    """Keeps every alert and the latest status per camera."""

    def __init__(self) -> None:
        self.alerts: list[AlertEvent] = []
        self.status: dict[str, CameraStats] = {}
        self.closed = False

    def on_alert(self, event: AlertEvent) -> None:
        self.alerts.append(event)

    def on_status(self, stats: CameraStats) -> None:
        self.status[stats.camera] = stats

    def close(self) -> None:
        self.closed = True


class JsonlSink:
    """Appends one JSON line per alert to ``path`` (created with its folder if needed)."""

    def __init__(self, path: str | Path, include_images: bool = False) -> None:
        self.path = Path(path)
        self.include_images = include_images
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write alerts to {self.path}: {exc.strerror}") from None
        self._lock = threading.Lock()

    def on_alert(self, event: AlertEvent) -> None:
        line = json.dumps(event.to_json(self.include_images), ensure_ascii=False)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def on_status(self, stats: CameraStats) -> None:
        pass

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


class ConsoleSink:
    """Prints each alert as a line on a rich console (the CLI's live status line is its
    own; see `openlfr.cli.run`)."""

    def __init__(self, console=None) -> None:
        from rich.console import Console

        self.console = console or Console()

    def on_alert(self, event: AlertEvent) -> None:
        fpir = "unknown" if event.expected_fpir is None else f"{event.expected_fpir:.1e}"
        self.console.print(
            f"[bold red]ALERT[/] {event.alerted_at:%H:%M:%S} camera [bold]{event.camera}[/] "
            f"track {event.track}: [bold]{event.subject}[/] similarity {event.similarity:.3f} "
            f"(threshold {event.threshold:.3f}, expected FPIR {fpir}) "
            f"at {event.alerted_s:.1f} s of video, {event.latency_s:.1f} s after first seen"
        )

    def on_status(self, stats: CameraStats) -> None:
        pass

    def close(self) -> None:
        pass


class MultiSink:
    """Sends everything to each sink; one failing sink does not silence the others."""

    def __init__(self, sinks: Iterable[Sink]) -> None:
        self.sinks = list(sinks)

    def _each(self, method: str, *args) -> None:
        first: Exception | None = None
        for sink in self.sinks:
            try:
                getattr(sink, method)(*args)
            except Exception as exc:
                first = first or exc
        if first is not None:
            raise first

    def on_alert(self, event: AlertEvent) -> None:
        self._each("on_alert", event)

    def on_status(self, stats: CameraStats) -> None:
        self._each("on_status", stats)

    def close(self) -> None:
        self._each("close")
