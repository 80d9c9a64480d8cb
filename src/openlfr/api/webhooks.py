"""Outgoing alert webhooks for control-room systems.

Each alert is POSTed as JSON to every configured target, signed with HMAC-SHA256:

    X-OpenLFR-Timestamp: <unix seconds>
    X-OpenLFR-Signature: sha256=<hex of HMAC(secret, "<timestamp>." + body)>
    X-OpenLFR-Delivery: <uuid, the same on every retry>

A receiver recomputes the HMAC (see `verify_signature`) and refuses old timestamps.
Network errors, 5xx, 408 and 429 are retried with exponential back-off (backoff_seconds,
doubling each time) up to max_attempts; other answers end the delivery. The face image is
included (base64, fetched through an audited view) only for targets with include_images.
Each target has its own worker thread, so one slow receiver does not delay the others.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from openlfr.api.settings import WebhookTarget

log = logging.getLogger("openlfr.api.webhooks")

MAX_BACKOFF = 300.0
QUEUE_SIZE = 1000
_RETRY_STATUSES = {408, 425, 429}

ImageProvider = Callable[[str, str], bytes | None]  # (alert id, actor) -> image or None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, max_age: float = 300.0
) -> bool:
    """What a receiver does: recompute the HMAC and refuse stale timestamps."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(time.time() - ts) > max_age:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature or "")


@dataclass(frozen=True)
class DeliveryResult:
    delivery_id: str
    url: str
    ok: bool
    attempts: int
    status: int | None
    error: str | None = None


class _Worker:
    def __init__(self, target: WebhookTarget, dispatcher: WebhookDispatcher) -> None:
        self.target = target
        self.dispatcher = dispatcher
        self.queue: queue.Queue[dict | None] = queue.Queue(QUEUE_SIZE)
        host = urlsplit(target.url).hostname or "webhook"
        self.actor = f"webhook:{host}"[:100]
        self.thread = threading.Thread(target=self._run, name=f"webhook-{host}", daemon=True)

    def submit(self, message: dict) -> None:
        try:
            self.queue.put_nowait(message)
        except queue.Full:
            log.error("webhook queue for %s is full; an alert was not sent", self.target.url)
            self.dispatcher._count("dropped")

    def _run(self) -> None:
        with httpx.Client(timeout=self.target.timeout_seconds) as client:
            while True:
                message = self.queue.get()
                if message is None:
                    return
                result = self.deliver(client, message)
                self.dispatcher._finished(result)

    def _payload(self, message: dict) -> dict:
        payload = {"event": "alert", "alert": dict(message)}
        provider = self.dispatcher.image_provider
        if self.target.include_images and provider is not None and message.get("id"):
            try:
                image = provider(str(message["id"]), self.actor)
            except Exception as exc:  # the alert is still worth sending without its image
                log.warning("webhook: no image for alert %s: %s", message.get("id"), exc)
                image = None
            if image is not None:
                payload["alert"]["live_image_b64"] = base64.b64encode(image).decode()
        return payload

    def deliver(self, client: httpx.Client, message: dict) -> DeliveryResult:
        body = json.dumps(self._payload(message), separators=(",", ":")).encode()
        delivery = str(uuid.uuid4())
        delay = self.target.backoff_seconds
        status: int | None = None
        error: str | None = None
        for attempt in range(1, self.target.max_attempts + 1):
            ts = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "OpenLFR-webhook/1",
                "X-OpenLFR-Event": "alert",
                "X-OpenLFR-Delivery": delivery,
                "X-OpenLFR-Timestamp": str(ts),
                "X-OpenLFR-Signature": sign(self.target.secret, ts, body),
            }
            try:
                response = client.post(self.target.url, content=body, headers=headers)
                status, error = response.status_code, None
                if 200 <= status < 300:
                    self.dispatcher._count("ok")
                    return DeliveryResult(delivery, self.target.url, True, attempt, status)
                retry = status >= 500 or status in _RETRY_STATUSES
                error = f"HTTP {status}"
            except httpx.HTTPError as exc:
                retry, error = True, f"{type(exc).__name__}: {exc}"
            self.dispatcher._count("retry" if retry else "refused")
            if not retry or attempt == self.target.max_attempts:
                break
            if self.dispatcher._stopping.wait(min(delay, MAX_BACKOFF)):
                break  # shutting down: stop retrying
            delay *= 2
        log.warning("webhook to %s failed after %d attempt(s): %s", self.target.url, attempt, error)
        self.dispatcher._count("failed")
        return DeliveryResult(delivery, self.target.url, False, attempt, status, error)


class WebhookDispatcher:
    """Fans each alert message out to the targets. `submit` never blocks."""

    def __init__(
        self,
        targets: list[WebhookTarget],
        image_provider: ImageProvider | None = None,
        on_result: Callable[[DeliveryResult], None] | None = None,
        count: Callable[[str], None] | None = None,
    ) -> None:
        self.image_provider = image_provider
        self.on_result = on_result
        self._counter = count
        self._stopping = threading.Event()
        self._workers = [_Worker(t, self) for t in targets]
        self._started = False

    def start(self) -> None:
        if not self._started:
            for w in self._workers:
                w.thread.start()
            self._started = True

    def submit(self, message: dict) -> None:
        for w in self._workers:
            w.submit(message)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        for w in self._workers:
            with contextlib.suppress(queue.Full):
                w.queue.put_nowait(None)
        if self._started:
            for w in self._workers:
                w.thread.join(timeout)

    def _count(self, result: str) -> None:
        if self._counter is not None:
            self._counter(result)

    def _finished(self, result: DeliveryResult) -> None:
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:
                log.exception("webhook result callback failed")
