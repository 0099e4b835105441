"""The wall screen in Chromium: no personal data in any byte the browser receives, and
no page but the login form for someone not logged in."""

from __future__ import annotations

import pytest

from ambon_core.store import Store
from components.nav import PAGES
from tests.test_browser import CHROMIUM, browser, server  # noqa: F401 - fixtures
from tests.test_privacy import SECRETS, seed_personal

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(),
                                 reason="needs Debian's chromium")]
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"


def test_wall_screen_receives_nothing_personal(server: str, browser, store: Store) -> None:  # noqa: F811
    seed_personal(store)
    received: list[bytes] = []
    for name in PAGES:
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.on("websocket", lambda ws: ws.on(
            "framereceived", lambda f: received.append(f if isinstance(f, bytes) else f.encode())))
        page.goto(f"{server}/{'' if name == 'ringkasan' else name}?kiosk=1&pages={name}&every=600")
        page.wait_for_selector(READY, timeout=60_000)
        page.wait_for_timeout(1500)
        html = page.content()
        assert page.locator("input[type='password']").count() == 0
        for secret in SECRETS:
            assert secret not in html, (name, secret)
        page.close()
    blob = b"".join(received)
    assert len(blob) > 10_000  # the pages' data did come through the socket
    for secret in SECRETS:
        assert secret.encode() not in blob, secret


def test_nobody_gets_the_login_form_on_every_url(server: str, browser, store: Store) -> None:  # noqa: F811
    seed_personal(store)
    for name in [*PAGES, "admin"]:
        page = browser.new_page()
        page.goto(f"{server}/{name}")
        page.wait_for_selector(READY, timeout=60_000)
        page.wait_for_timeout(500)
        assert page.locator("input[type='password']").count() == 1, name
        assert page.locator("[data-testid='stMetric']").count() == 0, name
        assert "Budi" not in page.content()
        page.close()
