"""The dashboard behind the production reverse proxy: Debian's caddy running
deploy/caddy/Caddyfile on loopback (``tls internal``) in front of a real Streamlit.

Checks what a user's browser gets: every page works through TLS and the WebSocket, the
security headers are on every response, Chromium reports no Content-Security-Policy
violation, the session cookie is Secure, and /_stcore/metrics is not served.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ambon_core.settings import ROOT
from ambon_core.store import Store
from components.nav import PAGES
from tests.login import browser_login
from tests.test_browser import ARGS, CHROMIUM, METRICS_TOKEN, _free_port, _no_exception, browser, server  # noqa: F401
from tests.test_pages import seed

CADDY = shutil.which("caddy")
CADDYFILE = ROOT / "deploy" / "caddy" / "Caddyfile"
SHOTS = os.environ.get("SCREENSHOT_DIR")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CADDY is None, reason="needs Debian's caddy (`make caddy`)"),
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")]
HEADERS = {"strict-transport-security": "max-age=31536000",
           "content-security-policy": "frame-ancestors 'none'",
           "x-frame-options": "DENY", "referrer-policy": "no-referrer",
           "x-content-type-options": "nosniff"}


@pytest.fixture
def proxy(server: str, tmp_path: Path) -> Iterator[str]:
    """caddy run with the production Caddyfile; ports, upstream and CA storage from the env."""
    port = _free_port()
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "AMBON_SITE": "localhost",
           "AMBON_HTTPS_PORT": str(port), "AMBON_HTTP_PORT": str(_free_port()),
           "AMBON_CADDY_ADMIN": f"localhost:{_free_port()}",
           "AMBON_UPSTREAM": server.removeprefix("http://"),
           "AMBON_CADDY_LOG": str(tmp_path / "access.log")}
    log = (tmp_path / "caddy.log").open("w")
    proc = subprocess.Popen([CADDY, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"https://localhost:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "caddy.log").read_text()
        try:
            if httpx.get(f"{base}/_stcore/health", verify=False, timeout=2).text == "ok":
                break
        except httpx.HTTPError:
            time.sleep(0.3)  # poll interval while caddy issues its certificate
    yield base
    proc.terminate()
    proc.wait(10)
    log.close()


def test_headers_tls_and_private_metrics(proxy: str, server: str) -> None:
    page = httpx.get(f"{proxy}/", verify=False, timeout=10)
    assert page.status_code == 200 and page.http_version in ("HTTP/1.1", "HTTP/2")
    for response in (page, httpx.get(f"{proxy}/_stcore/health", verify=False, timeout=10)):
        for name, expected in HEADERS.items():
            assert expected in response.headers.get(name, ""), (name, response.headers)
        assert "server" not in response.headers
    token = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    # The app answers its metrics to the token holder on loopback ...
    assert httpx.get(f"{server}/_stcore/metrics", headers=token, timeout=10).status_code == 200
    # ... and the proxy never forwards them, not even with the token.
    for headers in ({}, token):
        hidden = httpx.get(f"{proxy}/_stcore/metrics", headers=headers, verify=False, timeout=10)
        assert hidden.status_code == 404 and "stcore" not in hidden.text
    plain = httpx.get(proxy.replace("https", "http"), timeout=10)
    assert plain.status_code >= 400  # no plain HTTP on the TLS port


def _watch_csp(page) -> list[str]:
    """Console lines in which Chromium refused something because of the CSP."""
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text else None)
    return refused


def test_every_page_through_caddy_in_chromium(proxy: str, browser, store: Store,
                                              session) -> None:
    """Log in over TLS (the WebSocket carries the form), walk every page: no exception,
    no CSP violation; the session cookie is Secure, HttpOnly-or-not as the app sets it."""
    from playwright.sync_api import expect

    seed(store)
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1180, "height": 820})
    page = context.new_page()
    refused = _watch_csp(page)
    first = page.goto(proxy)
    assert "frame-ancestors 'none'" in first.headers["content-security-policy"]
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)
    browser_login(page, "walikota")
    cookie = next(c for c in context.cookies() if c["name"] == "ambon_session")
    assert cookie["secure"] and cookie["sameSite"] == "Strict"
    for name in PAGES:
        page.goto(f"{proxy}/{'' if name == 'ringkasan' else name}")
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                               timeout=60_000)
        expect(page.locator("h1").first).not_to_have_text("", timeout=60_000)
        assert page.locator("input[type='password']").count() == 0  # the cookie kept us in
        _no_exception(page)
        if SHOTS:
            page.screenshot(path=str(Path(SHOTS) / f"caddy_{name}_1180x820.png"))
    map_canvas = page.locator("[data-testid='stDeckGlJsonChart'] canvas")
    page.goto(proxy)
    expect(map_canvas.first).to_be_visible(timeout=60_000)
    assert refused == [], refused
    context.close()
