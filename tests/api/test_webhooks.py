"""Outgoing webhooks against a real HTTP server on 127.0.0.1: signed, retried with
back-off, no image unless configured."""

from __future__ import annotations

import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from openlfr.api import WebhookTarget, create_app
from openlfr.api.webhooks import WebhookDispatcher, sign, verify_signature
from openlfr.domain import AlertEvent
from openlfr.domain.clock import utcnow

from .conftest import JPEG, settings

SECRET = "s3cret-shared-with-the-control-room"


class Receiver:
    """Answers each POST with the next status in `statuses` (then 200), recording it."""

    def __init__(self, statuses=()) -> None:
        self.statuses = list(statuses)
        self.requests: queue.Queue = queue.Queue()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.put((time.monotonic(), dict(self.headers), body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def get(self, timeout=10):
        return self.requests.get(timeout=timeout)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_signature_round_trip():
    body = b'{"a":1}'
    ts = int(time.time())
    sig = sign(SECRET, ts, body)
    assert verify_signature(SECRET, str(ts), body, sig)
    assert not verify_signature(SECRET, str(ts), body + b" ", sig)
    assert not verify_signature("another secret value!", str(ts), body, sig)
    assert not verify_signature(SECRET, str(ts - 3600), body, sign(SECRET, ts - 3600, body))


def test_alerts_are_posted_signed_and_without_images(store, world, receiver):
    target = WebhookTarget(url=receiver.url, secret=SECRET)
    app = create_app(store, settings(webhooks=[target]))
    with TestClient(app):
        app.state.ctx.sink.alert(
            AlertEvent(world["deployment_id"], "cam-1", world["subject_id"], 0.9, utcnow(),
                       live_image=JPEG)
        )  # fmt: skip
        _, headers, body = receiver.get()
    assert headers["X-OpenLFR-Event"] == "alert"
    assert verify_signature(
        SECRET, headers["X-OpenLFR-Timestamp"], body, headers["X-OpenLFR-Signature"]
    )
    payload = json.loads(body)
    assert payload["alert"]["camera"] == "cam-1" and payload["alert"]["score"] == 0.9
    assert "live_image_b64" not in payload["alert"]


def test_images_only_when_configured_and_the_view_is_audited(store, world, receiver):
    target = WebhookTarget(url=receiver.url, secret=SECRET, include_images=True)
    app = create_app(store, settings(webhooks=[target]))
    with TestClient(app):
        alert_id = app.state.ctx.sink.alert(
            AlertEvent(world["deployment_id"], "cam-1", world["subject_id"], 0.9, utcnow(),
                       live_image=JPEG)
        )  # fmt: skip
        _, _, body = receiver.get()
    import base64

    assert base64.b64decode(json.loads(body)["alert"]["live_image_b64"]) == JPEG
    views = [e for e in store.audit_events() if e.action == "view_biometric"]
    assert views[-1].object_id == alert_id and views[-1].actor == "webhook:127.0.0.1"


def test_failures_are_retried_with_exponential_back_off():
    receiver = Receiver(statuses=[503, 500, 200])
    results = []
    target = WebhookTarget(url=receiver.url, secret=SECRET, backoff_seconds=0.2, max_attempts=5)
    dispatcher = WebhookDispatcher([target], on_result=results.append)
    dispatcher.start()
    try:
        dispatcher.submit({"id": "a1", "camera": "cam-1"})
        times = [receiver.get()[0] for _ in range(3)]
        for _ in range(50):
            if results:
                break
            time.sleep(0.05)
    finally:
        dispatcher.stop()
        receiver.close()
    (result,) = results
    assert result.ok and result.attempts == 3 and result.status == 200
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert 0.18 <= gaps[0] < 0.6 and 0.38 <= gaps[1] < 1.0, gaps  # 0.2 s, then 0.4 s


def test_a_refusing_receiver_is_not_retried_and_a_dead_one_gives_up():
    receiver = Receiver(statuses=[400])
    results = []
    dead = WebhookTarget(url="http://127.0.0.1:9/none", secret=SECRET, backoff_seconds=0.05,
                         max_attempts=3, timeout_seconds=1)  # fmt: skip
    refusing = WebhookTarget(url=receiver.url, secret=SECRET, backoff_seconds=0.05)
    dispatcher = WebhookDispatcher([refusing, dead], on_result=results.append)
    dispatcher.start()
    try:
        dispatcher.submit({"id": "a2"})
        for _ in range(100):
            if len(results) == 2:
                break
            time.sleep(0.05)
    finally:
        dispatcher.stop()
        receiver.close()
    by_url = {r.url: r for r in results}
    assert by_url[refusing.url].attempts == 1 and by_url[refusing.url].status == 400
    assert by_url[dead.url].attempts == 3 and not by_url[dead.url].ok
    assert "ConnectError" in by_url[dead.url].error


def test_settings_refuse_bad_targets():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        WebhookTarget(url="ftp://x", secret=SECRET)
    with pytest.raises(ValidationError):
        WebhookTarget(url="http://x", secret="short")
    with pytest.raises(ValidationError):
        WebhookTarget(url="http://x", secret=SECRET, colour="red")
