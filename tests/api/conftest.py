"""API tests run on both databases, reusing the storage tests' fixtures (tests/store/conftest.py):
a SQLite file and a real PostgreSQL server (its own fresh database per test)."""

from __future__ import annotations

import importlib.util
import io
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from openlfr.api import ApiSettings, create_app
from openlfr.auth import Role, passwords
from openlfr.store import Store

_spec = importlib.util.spec_from_file_location(
    "_store_conftest", Path(__file__).parents[1] / "store" / "conftest.py"
)
_store_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_store_conftest)
pg_admin_url = _store_conftest.pg_admin_url
db_url = _store_conftest.db_url
keyring = _store_conftest.keyring
unit_template = _store_conftest.unit_template
JPEG = _store_conftest.JPEG

PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def _cheap_hashes():
    # argon2's production cost takes ~0.5 s a hash on a loaded CI core; the API is the same.
    passwords.set_cost(1, 1024)
    yield
    passwords.set_cost(3, 65536)


@pytest.fixture
def store(db_url, keyring):
    opened = Store(db_url, keyring)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def face_engine():
    from openlfr.vision.engine import FaceEngine

    return FaceEngine.from_backend("dlib")


def settings(**overrides) -> ApiSettings:
    base = {"cookie_secure": False, "purge_interval_minutes": 0}
    return ApiSettings(**{**base, **overrides})


@pytest.fixture
def app(store):
    return create_app(store, settings())


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def tokens(store) -> dict[Role, dict[str, str]]:
    """Bearer headers for one machine token per role."""
    out = {}
    for role in Role:
        _, secret = store.users.create_token(f"t-{role.value}", [role], actor="test")
        out[role] = {"Authorization": f"Bearer {secret}"}
    return out


def jpeg_bytes(array: np.ndarray, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="session")
def face_jpeg() -> bytes:
    from skimage import data

    return jpeg_bytes(data.astronaut())


@pytest.fixture(scope="session")
def faceless_jpeg() -> bytes:
    ramp = np.linspace(0, 255, 480 * 640 * 3).reshape(480, 640, 3).astype(np.uint8)
    return jpeg_bytes(ramp)


@pytest.fixture
def world(store):
    """A subject with an image and template on a watchlist, a live deployment with one
    alert (with an image), and a planned deployment."""
    from openlfr.domain import AlertEvent, Category, Deployment, ReferenceImageInfo, Subject
    from openlfr.domain.clock import utcnow

    now = utcnow()
    sid = store.subjects.add(
        Subject("Subject A", Category.WANTED_BY_COURTS, "wm", now + timedelta(days=90)), "wm"
    )
    info = ReferenceImageInfo("custody image", "PACE s64A", "wm")
    image_id = store.subjects.add_image(sid, JPEG, info, "wm", unit_template(1), "dlib-resnet-v1")
    wl = store.watchlists.create("central", "wm")
    store.watchlists.add_subject(wl, sid, "wm")

    def deployment(start, end):
        return Deployment(
            "Oxford Circus", "Westminster", "wanted offenders", start, end,
            ("cam-1",), 0.64, "op", watchlist_id=wl,
        )  # fmt: skip

    live = store.deployments.create(
        deployment(now - timedelta(hours=1), now + timedelta(hours=5)), "op"
    )
    store.deployments.authorise(live, "ao")
    store.watchlists.build_snapshot(live, "op")
    store.deployments.go_live(live, "op")
    planned = store.deployments.create(
        deployment(now + timedelta(days=2), now + timedelta(days=2, hours=4)), "op"
    )
    alert = store.alerts.create_from_event(
        AlertEvent(live, "cam-1", sid, 0.8, now, "t1", image_id, JPEG)
    )
    user = store.users.create("someone", PASSWORD, [Role.OPERATOR], actor="test")
    token, _ = store.users.create_token("spare", [Role.AUDITOR], actor="test")
    return {
        "subject_id": sid,
        "image_id": image_id,
        "watchlist_id": wl,
        "deployment_id": live,
        "planned_id": planned,
        "alert_id": alert,
        "user_id": user.id,
        "token_id": token.id,
    }


class LiveServer:
    """The app under a real uvicorn server on 127.0.0.1 (an ephemeral port)."""

    def __init__(self, app) -> None:
        import uvicorn

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live_server(app):
    with LiveServer(app) as url:
        yield url
