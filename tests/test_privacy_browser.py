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


def _drawn(page) -> None:
    """The page's first run has drawn its heading and finished (everything it sends in
    that run is in the browser then)."""
    page.locator("h1").first.wait_for(timeout=60_000)
    page.wait_for_selector(READY, timeout=60_000)


def test_wall_screen_receives_nothing_personal(server: str, browser, store: Store) -> None:
    seed_personal(store)
    received: list[bytes] = []
    for name in PAGES:
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.on("websocket", lambda ws: ws.on(
            "framereceived", lambda f: received.append(f if isinstance(f, bytes) else f.encode())))
        page.goto(f"{server}/{'' if name == 'ringkasan' else name}?kiosk=1&pages={name}&every=600")
        _drawn(page)
        html = page.content()
        assert page.locator("input[type='password']").count() == 0
        for secret in SECRETS:
            assert secret not in html, (name, secret)
        page.close()
    blob = b"".join(received)
    assert len(blob) > 10_000  # the pages' data did come through the socket
    for secret in SECRETS:
        assert secret.encode() not in blob, secret


def test_nobody_gets_the_login_form_on_every_url(server: str, browser, store: Store) -> None:
    seed_personal(store)
    for name in [*PAGES, "admin"]:
        page = browser.new_page()
        page.goto(f"{server}/{name}")
        page.locator("input[type='password']").wait_for(timeout=60_000)
        page.wait_for_selector(READY, timeout=60_000)
        assert page.locator("input[type='password']").count() == 1, name
        assert page.locator("[data-testid='stMetric']").count() == 0, name
        assert "Budi" not in page.content()
        page.close()


def _received_bytes(page) -> list[bytes]:
    """Every websocket frame and every HTTP response body the page gets from now on."""
    got: list[bytes] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda f: got.append(f if isinstance(f, bytes) else f.encode())))

    def body(response) -> None:
        try:
            got.append(response.body())
        except Exception:  # a redirect or an aborted request has no body
            pass

    page.on("response", body)
    return got


def test_wall_receives_no_camera_pixels(server: str, browser, store: Store) -> None:
    """The Kamera page and a camera's detail card on the wall: the snapshot's bytes never
    reach Chromium (not in the socket, not as a /media file). Control: the mayor's browser
    does receive them, so the check would see a leak."""
    from tests.login import browser_login
    from tests.test_privacy import MARKER, seed_snapshots

    seed_snapshots(store)
    for url in (f"{server}/kamera?kiosk=1&pages=kamera&every=600",
                f"{server}/lalu_lintas?kiosk=1&pages=lalu_lintas&every=600&focus=cam-lalin-01"):
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        got = _received_bytes(page)
        page.goto(url)
        _drawn(page)
        assert page.locator("[data-testid='stImage'] img").count() == 0, url
        assert sum(len(b) for b in got) > 10_000 and not any(MARKER in b for b in got), url
        page.close()
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    got = _received_bytes(page)
    page.goto(f"{server}/kamera")
    page.wait_for_selector(READY, timeout=60_000)
    browser_login(page, "walikota")
    page.goto(f"{server}/kamera")
    page.wait_for_selector("[data-testid='stImage'] img", timeout=60_000)
    page.wait_for_function("() => [...document.querySelectorAll(\"[data-testid='stImage'] img\")]"
                           ".some(i => i.complete && i.naturalWidth > 0)", timeout=60_000)
    assert any(MARKER in b for b in got)
    page.close()
