"""The dashboard in a real browser: Debian's Chromium driven by Playwright.

Streamlit runs as a real server on a free port against the test Redis; the test seeds
Redis like the workers do, then looks at every page at tablet size and the kiosk at
wall size. Screenshots go to ``$SCREENSHOT_DIR`` when set.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ambon_core.domain import Incident
from ambon_core.settings import ROOT, Settings
from ambon_core.store import Store
from components.nav import PAGES
from tests.login import browser_login, make_user
from tests.test_pages import seed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
METRICS_TOKEN = "metrics-token-for-the-test-0123456789"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dashboard_server(port: int | None = None, **env: str) -> Iterator[str]:
    """The dashboard as ``make run`` serves it (``server.py``: the session-cookie routes,
    the metrics guard) on a free loopback port; yields its base URL once healthy."""
    port = port or _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "server.py"), "--server.port",
         str(port), "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, env={**os.environ, "UI_REFRESH_S": "1", "METRICS_TOKEN": METRICS_TOKEN, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the dashboard server exited"
        try:
            if httpx.get(f"{base}/_stcore/health", timeout=1).text == "ok":
                break
        except httpx.HTTPError:
            time.sleep(0.3)  # poll interval while Streamlit starts
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def server(settings: Settings, store: Store, session) -> Iterator[str]:
    make_user(session, "walikota", "walikota")  # _open logs in with it when asked
    with dashboard_server() as base:
        yield base


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _open(browser, url: str, size: tuple[int, int]):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)
    if "kiosk=1" not in url:  # the wall screen is public: no login
        browser_login(page, "walikota")
    _settled(page)
    return page


def _settled(page) -> None:
    """The page's script has finished its run (after a login, a rerun draws the page)."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)


def _shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def _no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    assert "Traceback" not in page.inner_text("body")


def test_every_page_at_tablet_size(server: str, browser, store: Store) -> None:
    seed(store)
    page = _open(browser, server, (1180, 820))  # one login: the session cookie carries it
    for name in PAGES:
        page.goto(f"{server}/{'' if name == 'ringkasan' else name}")
        browser_login(page, "walikota")  # returns at once: still logged in
        _settled(page)
        _no_exception(page)
        assert page.locator("h1").first.inner_text()
        _shot(page, f"{name}_1180x820")


def test_live_refresh_changes_a_value_without_reload(server: str, browser, store: Store) -> None:
    seed(store)
    page = _open(browser, server, (1180, 820))
    from playwright.sync_api import expect

    tile = page.locator("[data-testid='stMetric']").filter(has_text="Insiden terbuka")
    # generous timeouts: CI machines are shared and a loaded one renders slowly
    expect(tile.locator("[data-testid='stMetricValue']")).to_have_text("1", timeout=60_000)
    page.evaluate("window.__marker = 42")  # survives only if the page is not reloaded
    store.put(Incident(incident_id="112-99", category="kebakaran", title="Kebakaran pasar"))
    expect(tile.locator("[data-testid='stMetricValue']")).to_have_text("2", timeout=60_000)
    assert page.evaluate("window.__marker") == 42
    _no_exception(page)


def test_kiosk_on_the_wall(server: str, browser, store: Store) -> None:
    seed(store)
    page = _open(browser, f"{server}/?kiosk=1&pages=ringkasan,sampah&every=10", (1920, 1080))
    _no_exception(page)
    assert page.locator("[data-testid='stNavigation'], [data-testid='stTopNavLink']").count() == 0
    _shot(page, "kiosk_1920x1080")
    page.wait_for_url("**/sampah**", timeout=40_000)  # the playlist rotates by itself
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    assert "Sampah" in page.locator("h1").first.inner_text()
    _no_exception(page)


def test_a_wall_opened_outside_its_playlist_starts_it_at_once(server: str, browser, store: Store) -> None:
    """The wall's address is the root URL; with ``pages=sampah`` it showed Ringkasan for a
    whole ``every`` (here 10 minutes) before its first page."""
    seed(store)
    page = _open(browser, f"{server}/?kiosk=1&pages=sampah&every=600", (1920, 1080))
    page.wait_for_url("**/sampah?**", timeout=60_000)
    _settled(page)
    page.locator("h1").filter(has_text="Sampah").wait_for(timeout=60_000)
    _no_exception(page)


def test_login_survives_reload_and_logout_ends_it(server: str, browser, store: Store) -> None:
    """The session cookie keeps the mayor logged in across a reload; 'Keluar' ends it for good."""
    from playwright.sync_api import expect

    seed(store)
    page = _open(browser, server, (1180, 820))
    expect(page.locator("h1").first).to_have_text("Ringkasan", timeout=60_000)
    page.reload()
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)
    expect(page.locator("h1").first).to_have_text("Ringkasan", timeout=60_000)
    assert page.locator("input[type='password']").count() == 0
    page.get_by_role("button", name="Keluar").click()
    expect(page.locator("input[type='password']")).to_have_count(1, timeout=60_000)
    page.reload()  # the old cookie must not bring the session back
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)
    expect(page.locator("input[type='password']")).to_have_count(1, timeout=60_000)
    assert "Insiden terbuka" not in page.inner_text("body")


def test_open_data_download_in_the_browser(server: str, browser, store: Store, session) -> None:
    """The mayor downloads today's waste figures as CSV: a real file, FIWARE names, audited."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from ambon_core.models import AuditLog, TpsFill

    seed(store)
    now = datetime.now(UTC)
    session.add_all([TpsFill(tps_id="tps-batu-merah", at=now - timedelta(minutes=m), fill=f)
                     for m, f in ((30, 0.5), (10, 0.9))])
    session.commit()
    page = _open(browser, f"{server}/sampah", (1180, 820))
    page.get_by_text("Unduh data terbuka").click()
    page.get_by_role("button", name="Unduh CSV").wait_for(timeout=60_000)
    # nothing is built or served before the click: no /media/ file behind the button
    assert page.locator("a[href*='/media/'], [href*='.csv']").count() == 0
    assert session.scalars(select(AuditLog).where(AuditLog.action == "export")).all() == []
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Unduh CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("ambon-satudata-waste-")
    text = Path(download.path()).read_text(encoding="utf-8")
    header, *rows = text.splitlines()
    assert header.startswith("id,type,refWasteContainerIsle") and "fillingLevel" in header
    assert len(rows) == 1 and ",WasteContainer,tps-batu-merah," in rows[0] and ",0.7," in rows[0]

    def exported() -> list[str]:
        session.expire_all()
        return list(session.scalars(select(AuditLog.actor).where(AuditLog.action == "export")))

    deadline = time.monotonic() + 30
    while not exported() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert exported() == ["walikota"]
    _no_exception(page)


def test_session_cookie_is_httponly_and_strict(server: str, browser, store: Store) -> None:
    """After the login the token travels in a cookie page scripts cannot read."""
    seed(store)
    page = _open(browser, server, (1180, 820))
    page.wait_for_function("() => !location.pathname.startsWith('/api/')", timeout=60_000)
    page.get_by_role("button", name="Keluar").wait_for(timeout=60_000)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert "ambon_session" in cookies, cookies.keys()
    cookie = cookies["ambon_session"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http on loopback; production adds Secure
    assert "ambon_session" not in page.evaluate("document.cookie")
    page.reload()  # the cookie alone brings the session back
    page.get_by_role("button", name="Keluar").wait_for(timeout=60_000)
    page.get_by_role("button", name="Keluar").click()
    page.locator("input[type='password']").wait_for(timeout=60_000)
    page.wait_for_function("() => !location.pathname.startsWith('/api/')", timeout=60_000)
    deadline = time.monotonic() + 30
    while "ambon_session" in {c["name"] for c in page.context.cookies()} and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert "ambon_session" not in {c["name"] for c in page.context.cookies()}


def test_cookie_route_refuses_unknown_codes(server: str) -> None:
    reply = httpx.get(f"{server}/api/session/start", params={"code": "x" * 32},
                      follow_redirects=False, timeout=10)
    assert reply.status_code == 303 and "set-cookie" not in reply.headers


def test_metrics_need_the_token(server: str) -> None:
    assert httpx.get(f"{server}/_stcore/metrics", timeout=10).status_code == 404
    wrong = {"Authorization": "Bearer nope"}
    assert httpx.get(f"{server}/_stcore/metrics", headers=wrong, timeout=10).status_code == 404
    right = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    reply = httpx.get(f"{server}/_stcore/metrics", headers=right, timeout=10)
    assert reply.status_code == 200 and "session" in reply.text
    assert httpx.get(f"{server}/_stcore/health", timeout=10).text == "ok"


def test_cookie_route_sends_back_only_to_local_pages() -> None:
    from components.session_routes import back_to

    assert back_to("http://127.0.0.1:8501/sampah") == "/sampah"
    # only the path is kept, and only a plain one: the redirect never leaves our host
    cases = {"https://evil.example/x": "/x", "//evil.example": "/", "/\\evil.example": "/",
             None: "/", "http://h/a?next=//evil": "/a", "javascript:alert(1)": "/",
             "/a/../../etc": "/"}
    assert {url: back_to(url) for url in cases} == cases
