"""The console with the real live pipeline: an operator starts a deployment whose camera is a
video file (the root conftest's `stage_clip`), the app's LiveSupervisor runs detection and
search on it, the alert reaches the operator's queue over SSE without a reload, the operator
decides it, the counters follow, and the downloaded deployment record carries the figures."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import httpx
import pytest

from openlfr.api import ApiSettings, create_app
from openlfr.auth import Role, passwords
from openlfr.live.pipeline import PipelineConfig
from openlfr.service.supervisor import LiveSupervisor
from openlfr.store import Store
from openlfr.store.crypto import KeyRing, new_key

from .conftest import PASSWORD, Server, login, shot  # noqa: TID252 - the web tests' helpers

sync_api = pytest.importorskip("playwright.sync_api")
PERFORMERS = ("lin-manuel-miranda", "alex-lacamoire")


def _plan(http: httpx.Client, refs: Path, clip: Path, wm: dict, op: dict, ao: dict) -> str:
    """A watchlist of two performers (enrolled through the API) and an authorised deployment
    on the clip; returns the deployment id."""
    wl = http.post("/api/watchlists", json={"name": "hamilton"}, headers=wm).json()["id"]
    for person in PERFORMERS:
        sid = http.post("/api/subjects", headers=wm, json={
            "display_name": person, "category": "wanted_by_courts",
            "expires_at": "2099-01-01T00:00:00Z"}).json()["id"]  # fmt: skip
        r = http.post(
            f"/api/subjects/{sid}/images", headers=wm,
            files={"file": (f"{person}.png", (refs / f"{person}.png").read_bytes())},
            data={"image_source": "press photo", "legal_basis": "test"},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        http.post(f"/api/watchlists/{wl}/members", json={"subject_id": sid}, headers=wm)
    r = http.post("/api/deployments", headers=op, json={
        "name": "stage-door", "location": "Richard Rodgers Theatre", "borough": "Manhattan",
        "use_case": "wanted by the courts", "watchlist_id": wl,
        "start": "2000-01-01T00:00:00Z", "end": "2099-01-01T00:00:00Z",
        "cameras": [{"name": "stage", "source": str(clip)}]})  # fmt: skip
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    assert (
        http.post(f"/api/deployments/{did}/authorise", headers=ao).json()["state"] == "authorised"
    )
    return did


def test_operator_sees_a_live_video_alert_decides_it_and_downloads_the_record(
    chromium, shared_data, stage_clip, tmp_path
):
    from openlfr.vision.engine import FaceEngine

    passwords.set_cost(1, 1024)
    store = Store(f"sqlite:///{tmp_path / 'openlfr.db'}", KeyRing(new_key()))
    store.users.create("olive", PASSWORD, [Role.OPERATOR], actor="test")
    tokens = {}
    for role in (Role.WATCHLIST_MANAGER, Role.OPERATOR, Role.AUTHORISING_OFFICER):
        _, secret = store.users.create_token(f"t-{role.value}", [role], actor="test")
        tokens[role] = {"Authorization": f"Bearer {secret}"}
    engine = FaceEngine.from_backend("dlib")
    # realtime=False: the 4 s clip is read as fast as detection allows (no waiting on frames).
    supervisor = LiveSupervisor(
        PipelineConfig(workers=0, backend="dlib"), realtime=False,
        engine_factory=lambda: engine, poll_seconds=0,
    )  # fmt: skip
    app = create_app(
        store, ApiSettings(cookie_secure=False, purge_interval_minutes=0),
        supervisor=supervisor, engine=engine,
    )  # fmt: skip
    try:
        with Server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            did = _plan(
                http, shared_data / "video" / "hamilton-references", stage_clip,
                *(tokens[r] for r in (Role.WATCHLIST_MANAGER, Role.OPERATOR,
                                      Role.AUTHORISING_OFFICER)),
            )  # fmt: skip
            _run_in_browser(chromium, url, did, supervisor)
    finally:
        store.close()
        passwords.set_cost(3, 65536)


def _run_in_browser(browser, url: str, did: str, supervisor: LiveSupervisor) -> None:
    expect = sync_api.expect
    # The operator keeps the alert queue open in one tab and the deployment in another.
    context, queue = login(browser, url, "olive", "/console/alerts")
    expect(queue.locator("#stream-state")).to_have_text("Live: new alerts appear here.")
    expect(queue.locator("article.alert-card")).to_have_count(0)
    panel = context.new_page()
    panel.goto(url + f"/console/deployments/{did}")
    expect(panel.locator("#count-alerts")).to_have_text("0")
    panel.get_by_role("button", name="Start deployment").click()
    expect(panel.locator("#dep-state")).to_have_text("Live")
    shot(panel, "10-video-deployment-live")

    # The pipeline finds Lin-Manuel Miranda in the clip; the card appears without a reload.
    first = queue.locator("article.alert-card").first
    first.wait_for(state="visible", timeout=45_000)
    expect(queue.locator("article.alert-card")).to_have_count(1)
    card = queue.locator(f"#{first.get_attribute('id')}")  # the same card after each swap
    expect(card).to_contain_text("lin-manuel-miranda")
    expect(card).to_contain_text("stage")
    expect(card).to_contain_text("Expected false alert rate")
    queue.wait_for_function(
        "() => [...document.querySelectorAll('article.alert-card img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    shot(queue, "11-video-alert-live")
    card.get_by_role("button", name="Match m", exact=True).click()
    expect(card.locator(".verdict")).to_contain_text("True alert")
    card.get_by_role("button", name=re.compile(r"^Engaged, no further action")).click()
    expect(card.locator(".outcome")).to_contain_text("Engaged, no further action")
    shot(queue, "12-video-alert-decided")

    # The clip plays out; the panel's counters follow by themselves (no reload).
    assert supervisor.wait(did, timeout=60, cameras=["stage"]), "the clip did not play out"
    expect(panel.locator("#count-alerts")).to_have_text("1", timeout=8_000)
    expect(panel.locator("#count-true")).to_have_text("1", timeout=8_000)
    expect(panel.locator("#count-false")).to_have_text("0")
    expect(panel.locator("#count-pending")).to_have_text("0")
    expect(panel.locator("#count-faces")).not_to_have_text("0")
    panel.on("dialog", lambda dialog: dialog.accept())  # "Close this deployment?"
    panel.get_by_role("button", name="Close deployment").click()
    expect(panel.locator("#dep-state")).to_have_text("Closed")
    faces_seen = int(panel.locator("#count-faces").inner_text().replace(",", ""))
    shot(panel, "13-video-deployment-closed")

    with panel.expect_download() as download:
        panel.locator("#record-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == 1
    rec = rows[0]
    assert (rec["alerts"], rec["true_alerts"], rec["false_alerts"]) == ("1", "1", "0")
    assert (rec["engagements"], rec["arrests"], rec["watchlist_size"]) == ("1", "0", "2")
    assert int(rec["faces_seen"]) == faces_seen >= 1
    assert float(rec["false_alert_rate"]) == 0.0 and float(rec["threshold"]) == 0.93
    assert rec["location"] == "Richard Rodgers Theatre" and rec["borough"] == "Manhattan"
    assert did not in supervisor.runs  # closing stopped the pipeline
    context.close()
