"""An in-process alert broker: the live pipeline's sink publishes, SSE clients and webhooks
receive. `publish` may be called from any thread."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from openlfr.domain.alerts import Alert

log = logging.getLogger("openlfr.api.broker")

QUEUE_SIZE = 256  # per client; a client that falls this far behind loses the oldest alerts


def alert_message(alert: Alert | Mapping[str, object]) -> dict:
    """What clients receive about a new alert: facts, never an image or template."""
    if isinstance(alert, Mapping):
        return dict(alert)
    return {
        "id": alert.id,
        "deployment_id": alert.deployment_id,
        "camera": alert.camera,
        "subject_id": alert.subject_id,
        "score": round(float(alert.score), 4),
        "at": alert.at.isoformat(),
        "track_id": alert.track_id,
    }


@dataclass(eq=False)  # hashed by identity: a set of clients
class _Client:
    queue: asyncio.Queue
    loop: asyncio.AbstractEventLoop
    dropped: int = 0


@dataclass
class AlertBroker:
    _clients: set[_Client] = field(default_factory=set)
    _listeners: list[Callable[[dict], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    published: int = 0

    @property
    def clients(self) -> int:
        return len(self._clients)

    def add_listener(self, listener: Callable[[dict], None]) -> None:
        """Called with each message (e.g. the webhook dispatcher's submit); must not block."""
        self._listeners.append(listener)

    def publish(self, alert: Alert | Mapping[str, object]) -> dict:
        message = alert_message(alert)
        with self._lock:
            clients = list(self._clients)
            self.published += 1
        for client in clients:
            try:
                client.loop.call_soon_threadsafe(self._offer, client, message)
            except RuntimeError:  # that client's loop has closed
                self._discard(client)
        for listener in self._listeners:
            try:
                listener(message)
            except Exception:
                log.exception("alert listener failed")
        return message

    @staticmethod
    def _offer(client: _Client, message: dict) -> None:
        if client.queue.full():  # drop the oldest: a slow client never holds up the others
            client.queue.get_nowait()
            client.dropped += 1
        client.queue.put_nowait(message)

    def _discard(self, client: _Client) -> None:
        with self._lock:
            self._clients.discard(client)

    def subscribe(self, heartbeat: float = 15.0) -> Subscription:
        """A subscription, registered at once (so nothing published after this call is
        missed); iterate it in the event loop it was made in, and close it when done."""
        client = _Client(asyncio.Queue(QUEUE_SIZE), asyncio.get_running_loop())
        with self._lock:
            self._clients.add(client)
        return Subscription(self, client, heartbeat)


class Subscription:
    """Yields each published message, and None after `heartbeat` seconds of silence."""

    def __init__(self, broker: AlertBroker, client: _Client, heartbeat: float) -> None:
        self._broker, self._client, self._heartbeat = broker, client, heartbeat

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict | None:
        try:
            return await asyncio.wait_for(self._client.queue.get(), self._heartbeat)
        except TimeoutError:
            return None

    @property
    def dropped(self) -> int:
        return self._client.dropped

    def close(self) -> None:
        self._broker._discard(self._client)
