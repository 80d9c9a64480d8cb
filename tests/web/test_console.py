"""The operator console, tested as a person would: Debian's Chromium driven by Playwright
against the real app under uvicorn on 127.0.0.1 (tests/web/conftest.py). Screenshots go to
test-artifacts/console/.

The live alert is raised through the same path the live pipeline uses (the app's
`ctx.sink.alert`), so it travels store -> broker -> SSE -> browser exactly as in service.
"""

from __future__ import annotations

import base64
import csv
import io
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openlfr.api import ApiSettings, create_app
from openlfr.auth import Role, passwords
from openlfr.domain import AlertEvent, Category, Deployment, ReferenceImageInfo, Subject
from openlfr.domain.clock import utcnow
from openlfr.store import Store
from openlfr.store.crypto import KeyRing, new_key

from .conftest import PASSWORD, Server, login, shot  # noqa: TID252 - the web tests' helpers

USERS = {
    "olive": [Role.OPERATOR],
    "audrey": [Role.AUDITOR],
    "wendy": [Role.WATCHLIST_MANAGER],
    "oscar": [Role.AUTHORISING_OFFICER],
}

sync_api = pytest.importorskip("playwright.sync_api")


def _jpeg(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _faces() -> tuple[bytes, bytes]:
    """A watchlist photo and a tighter 'live' crop of the same face (skimage's astronaut)."""
    from skimage import data

    img = data.astronaut()
    return _jpeg(img[0:260, 110:330]), _jpeg(img[30:230, 150:300])


@pytest.fixture(scope="module")
def env(tmp_path_factory, chromium):
    passwords.set_cost(1, 1024)
    base = tmp_path_factory.mktemp("console")
    store = Store(f"sqlite:///{base / 'openlfr.db'}", KeyRing(new_key()))
    for name, roles in USERS.items():
        store.users.create(name, PASSWORD, roles, actor="test")
    reference, live = _faces()
    now = utcnow()
    sid = store.subjects.add(
        Subject(
            "Alex Example", Category.WANTED_FOR_OFFENCE, "wendy", now + timedelta(days=60),
            offence="robbery",
        ),
        "wendy",
    )  # fmt: skip
    template = np.random.default_rng(1).standard_normal(128).astype(np.float32)
    image_id = store.subjects.add_image(
        sid, reference, ReferenceImageInfo("custody image", "PACE s64A", "wendy"), "wendy",
        template / np.linalg.norm(template), "dlib-resnet-v1",
    )  # fmt: skip
    wl = store.watchlists.create("Central wanted", "wendy")
    store.watchlists.add_subject(wl, sid, "wendy")
    dep = store.deployments.create(
        Deployment(
            "Oxford Circus", "Westminster", "wanted offenders", now - timedelta(minutes=30),
            now + timedelta(hours=4), ("cam-north", "cam-south"), 0.64, "olive", watchlist_id=wl,
        ),
        "olive",
    )  # fmt: skip
    store.deployments.authorise(dep, "oscar")
    from openlfr.vision.engine import FaceEngine

    app = create_app(
        store,
        ApiSettings(cookie_secure=False, purge_interval_minutes=0),
        engine=FaceEngine.from_backend("dlib"),
    )
    with Server(app) as url:
        yield {
            "url": url, "app": app, "store": store, "browser": chromium, "live": live,
            "subject_id": sid, "image_id": image_id, "deployment_id": dep, "watchlist_id": wl,
        }  # fmt: skip
    store.close()
    passwords.set_cost(3, 65536)


def _login(env, user: str, then: str = "/console"):
    return login(env["browser"], env["url"], user, then)


_shot = shot


def test_login_page_refuses_a_wrong_password(env):
    context = env["browser"].new_context()
    page = context.new_page()
    page.goto(env["url"] + "/console/alerts")  # not logged in: the login form, status 401
    page.get_by_label("User name").fill("olive")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Log in").click()
    sync_api.expect(page.locator("#login-message")).to_contain_text("wrong user name or password")
    _shot(page, "01-login-refused")
    context.close()


def test_operator_adjudicates_a_live_alert_and_the_auditor_sees_it(env):
    did, store = env["deployment_id"], env["store"]
    context, page = _login(env, "olive", f"/console/deployments/{did}")
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Alert queue").is_visible()
    assert nav.get_by_role("link", name="Watchlists").count() == 0

    # Start the deployment with the button; the panel shows it live.
    page.get_by_role("button", name="Start deployment").click()
    sync_api.expect(page.locator("#dep-state")).to_have_text("Live")
    sync_api.expect(page.get_by_role("button", name="Close deployment")).to_be_visible()
    _shot(page, "02-deployment-live")

    # The alert queue, connected to the stream; then the pipeline's sink raises an alert.
    page.goto(env["url"] + "/console/alerts")
    sync_api.expect(page.locator("#stream-state")).to_have_text("Live: new alerts appear here.")
    ctx = env["app"].state.ctx
    ctx.sink.faces_seen(did, "cam-north", 1200)
    event = AlertEvent(did, "cam-north", env["subject_id"], 0.71, utcnow(), "track-7",
                       env["image_id"], env["live"])  # fmt: skip
    raised = time.monotonic()
    alert_id = ctx.sink.alert(event)
    card = page.locator(f"#alert-{alert_id}")
    card.wait_for(state="visible", timeout=5_000)
    latency = time.monotonic() - raised
    assert latency < 1.0, f"the alert took {latency:.2f} s to appear"
    sync_api.expect(card).to_contain_text("Alex Example")
    sync_api.expect(card).to_contain_text("0.710")
    sync_api.expect(card).to_contain_text("cam-north")
    sync_api.expect(card).to_contain_text("Wanted for: robbery")
    sync_api.expect(card).to_contain_text("Expected false alert rate")
    # both faces are shown side by side (and loaded: naturalWidth > 0)
    images = card.locator("img")
    assert images.count() == 2
    page.wait_for_function(
        "id => [...document.querySelectorAll(`#alert-${id} img`)].every(i => i.naturalWidth > 0)",
        arg=alert_id,
    )
    _shot(page, "03-alert-live")

    # Keyboard: m = match, then 3 = engaged, arrested.
    card.focus()
    page.keyboard.press("m")
    sync_api.expect(card.locator(".verdict")).to_contain_text("True alert")
    sync_api.expect(card).to_be_focused()  # the new card keeps the focus (and is wired up)
    # A person reads the decision before the next key: let htmx finish swapping the card in.
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )
    page.keyboard.press("3")
    sync_api.expect(card.locator(".outcome")).to_contain_text("Engaged, arrested")
    _shot(page, "04-alert-adjudicated")
    stored = store.alerts.get(alert_id)
    assert stored.verdict.value == "true_alert" and stored.adjudication.by == "olive"
    assert stored.outcome.value == "engaged_arrested"

    # A second alert, decided with the mouse as a false alert.
    second = ctx.sink.alert(
        AlertEvent(did, "cam-south", env["subject_id"], 0.66, utcnow(), "track-9", None, None)
    )
    card2 = page.locator(f"#alert-{second}")
    card2.get_by_role("button", name="No match").click()
    card2.get_by_role("button", name="Not engaged").click()
    sync_api.expect(card2.locator(".outcome")).to_contain_text("Not engaged")

    # The deployment's counters follow.
    page.goto(env["url"] + f"/console/deployments/{did}")
    sync_api.expect(page.locator("#count-faces")).to_have_text("1,200")
    sync_api.expect(page.locator("#count-alerts")).to_have_text("2")
    sync_api.expect(page.locator("#count-true")).to_have_text("1")
    sync_api.expect(page.locator("#count-false")).to_have_text("1")
    ctx.sink.faces_seen(did, "cam-south", 300)  # the panel refreshes by itself
    sync_api.expect(page.locator("#count-faces")).to_have_text("1,500", timeout=8_000)
    _shot(page, "05-deployment-counters")

    # The deployment record, downloaded from the page: figures computed from the store.
    with page.expect_download() as download:
        page.locator("#record-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == 1
    rec = rows[0]
    assert (rec["faces_seen"], rec["alerts"], rec["true_alerts"], rec["false_alerts"]) == (
        "1500", "2", "1", "1",
    )  # fmt: skip
    assert (rec["engagements"], rec["arrests"], rec["watchlist_size"]) == ("1", "1", "1")
    assert float(rec["false_alert_rate"]) == pytest.approx(1 / 1500)
    assert rec["location"] == "Oxford Circus" and float(rec["threshold"]) == 0.64
    context.close()

    # The auditor finds the adjudication in the audit view, and the chain intact.
    context, page = _login(env, "audrey", "/console/audit")
    sync_api.expect(page.locator("#chain")).to_contain_text("intact")
    page.get_by_label("Action").fill("adjudicate")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.audit tbody tr")
    sync_api.expect(rows).to_have_count(2)
    sync_api.expect(rows.first).to_contain_text("olive")
    sync_api.expect(rows.first).to_contain_text("true_alert")
    sync_api.expect(rows.nth(1)).to_contain_text("false_alert")
    _shot(page, "06-audit")
    # ... and the register of deployments, with the same figures
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    sync_api.expect(page.locator("table.grid tbody tr")).to_have_count(1)
    sync_api.expect(page.locator("table.grid tbody tr").first).to_contain_text("1,500")
    _shot(page, "06b-reports")
    pdf = page.request.get(env["url"] + f"/console/reports/record/{did}?format=pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF-")
    # auditors read records but do not see the live queue
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Alert queue").count() == 0
    assert page.goto(env["url"] + "/console/alerts").status == 403
    context.close()


def test_operator_cannot_reach_the_watchlist_pages(env):
    context, page = _login(env, "olive")
    for path in ("/console/watchlists", f"/console/watchlists/{env['watchlist_id']}"):
        response = page.goto(env["url"] + path)
        assert response.status == 403
        sync_api.expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        sync_api.expect(page.locator("body")).not_to_contain_text("Alex Example")
    _shot(page, "07-operator-refused-watchlists")
    context.close()


def _drop(page, selector: str, files: dict[str, bytes]) -> None:
    """Drop files onto an element as a person dragging them from the desktop would."""
    encoded = {name: base64.b64encode(data).decode() for name, data in files.items()}
    transfer = page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const [name, b64] of Object.entries(files)) {
                const bin = atob(b64);
                const bytes = new Uint8Array(bin.length);
                for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
                dt.items.add(new File([bytes], name, { type: "image/jpeg" }));
            }
            return dt;
        }""",
        encoded,
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_watchlist_manager_enrols_by_drag_and_drop(env):
    from skimage import data

    face = _jpeg(data.astronaut())
    blank = _jpeg(np.linspace(0, 255, 240 * 320 * 3).reshape(240, 320, 3).astype(np.uint8))
    context, page = _login(env, "wendy", f"/console/watchlists/{env['watchlist_id']}")

    def enrol(name: str, files: dict[str, bytes]) -> None:
        page.get_by_label("Display name").fill(name)
        page.get_by_label("Category").select_option("missing_or_vulnerable")
        page.get_by_label("Expiry date").fill("2031-01-31")
        page.get_by_label("Image source").fill("family photograph")
        page.get_by_label("Legal basis").fill("consent of next of kin")
        _drop(page, "#dropzone", files)
        sync_api.expect(page.locator("#chosen li")).to_have_count(len(files))
        page.get_by_role("button", name="Enrol").click()

    enrol("Sam Missing", {"sam.jpg": face, "blank.jpg": blank})
    results = page.locator("#enrol-results")
    sync_api.expect(results).to_contain_text("added to the watchlist", timeout=30_000)
    sync_api.expect(results).to_contain_text("sam.jpg: enrolled (quality")
    sync_api.expect(results).to_contain_text("blank.jpg: image rejected")
    sync_api.expect(page.locator("#members")).to_contain_text("Sam Missing")
    sync_api.expect(page.locator("#members")).to_contain_text("2 subjects")
    _shot(page, "08-enrolled")

    # The same face again, as someone else: enrolled, with a duplicate warning.
    enrol("Sam Again", {"again.jpg": face})
    sync_api.expect(results).to_contain_text("added to the watchlist", timeout=30_000)
    sync_api.expect(results).to_contain_text("Possible duplicate: this face matches Sam Missing")
    _shot(page, "09-duplicate-warning")
    context.close()
