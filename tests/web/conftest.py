"""What the console's browser tests share: Debian's Chromium driven by Playwright, the app
under uvicorn on 127.0.0.1, logging in, and screenshots in test-artifacts/console/."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a long enough password"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "console"


class Server:
    """The app under a real uvicorn on a free port, in a thread: `with Server(app) as url`."""

    def __init__(self, app) -> None:
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def chromium():
    """A headless Debian Chromium (fails in CI, skips elsewhere, when it is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    # Page updates go through the real server and database; on a loaded 2-core CI box a
    # decision's round trip can pass Playwright's 5 s default. Latency targets are
    # asserted separately, with their own clocks.
    sync_api.expect.set_options(timeout=15_000)
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} missing: run scripts/system/chromium.sh"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def login(browser, url: str, user: str, then: str = "/console"):
    """A fresh browser context logged in as `user` (password PASSWORD), on page `then`."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(url + then)
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#logout")
    return context, page


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
