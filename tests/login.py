"""Logging in from tests the way people do: a real account in the test DB, the real form.

No bypass exists in the app; tests create a user (``make_user``) and fill the login form
in AppTest (``login``) or in Chromium (``browser_login``). The ``session`` fixture of
conftest empties the tables (accounts included) after each test.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from ambon_core.auth import create_user, find_user
from ambon_core.registry import load_registry

PASSWORD = "kata-sandi-uji-2026"


def city_opds() -> set[str]:
    return {o.code for o in load_registry().opds if not o.partner}


def make_user(session: Session, username: str, role: str, opd: str | None = None,
              password: str = PASSWORD) -> str:
    """An active account (created once per test); returns its username."""
    if find_user(session, username) is None:
        create_user(session, username, password, role, opd, actor="test",
                    known_opds=city_opds() | ({opd} if opd else set()))
    return username


def submit_login(at: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    """Fill and submit the login form of an app already showing it."""
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    return at.button(key="login_submit").click().run()


def login(at: AppTest, session: Session, role: str = "walikota", opd: str | None = None,
          username: str | None = None) -> AppTest:
    """Create an account with ``role``, log in through the form of ``at``, then return a
    fresh AppTest holding that session, as a browser reload with the session cookie does.

    (AppTest keeps the page model of its first run; a first run that stopped at the login
    form would make later runs skip ``app.py``. The server runs ``app.py`` every time.)
    """
    name = make_user(session, username or (f"kadis.{opd}" if opd else role), role, opd)
    at.run()
    submit_login(at, name)
    assert not at.exception, at.exception
    assert not [e.value for e in at.error], [e.value for e in at.error]
    token = at.session_state["_auth_token"]
    fresh = AppTest.from_file(at._script_path, default_timeout=at.default_timeout)
    for key, value in at.query_params.items():
        fresh.query_params[key] = value
    fresh.session_state["_auth_token"] = token
    fresh.run()
    assert not fresh.exception, fresh.exception
    return fresh


def browser_login(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the form unless this page is already logged in (Playwright page)."""
    # Wait for one or the other: on a loaded machine the app can report "not running"
    # before its first run has drawn anything, and an empty page has no form to fill.
    page.locator("input[type='password']").or_(
        page.get_by_role("button", name="Keluar")).first.wait_for(timeout=90_000)
    box = page.get_by_label("Nama pengguna")
    if box.count() == 0:
        return
    box.fill(username)
    page.get_by_label("Kata sandi", exact=True).fill(password)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)
    page.wait_for_function("() => !document.querySelector(\"input[type='password']\")",
                           timeout=60_000)
    # logged in for sure only when the user's own 'Keluar' button is there (a loaded
    # machine can show the old login heading long after the form went away)
    page.get_by_role("button", name="Keluar").wait_for(timeout=90_000)
