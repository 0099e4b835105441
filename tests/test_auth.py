"""Accounts: argon2, lockout, sessions, the admin command, production secrets, OIDC
mapping; and the bad input of issue 7 through the real app (AppTest)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from ambon_core import auth
from ambon_core.access import Principal
from ambon_core.actions import ActionError, complete, instruct, instructions
from ambon_core.domain import Alert, AlertKind, utcnow
from ambon_core.models import AuditLog, AuthSession, LoginThrottle
from ambon_core.settings import ROOT, Settings
from ambon_core.store import Store
from tests.login import PASSWORD, city_opds, login, make_user, submit_login

APP = str(ROOT / "app.py")
SECRET = "test-secret-" + "x" * 40


def actions(session) -> list[str]:
    return [r.action for r in session.scalars(select(AuditLog).order_by(AuditLog.id))]


def test_password_is_argon2_and_policy_applies(session) -> None:
    make_user(session, "walikota", "walikota")
    user = auth.find_user(session, "WALIKOTA ")
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    with pytest.raises(auth.AuthError):
        auth.hash_password("pendek")
    with pytest.raises(auth.AuthError):
        auth.create_user(session, "x", PASSWORD, "opd", "bukan_opd", actor="t",
                         known_opds=city_opds())
    with pytest.raises(auth.AuthError):
        auth.create_user(session, "walikota", PASSWORD, "walikota", None, actor="t",
                         known_opds=city_opds())


def test_login_outcomes_are_audited_without_passwords(session) -> None:
    make_user(session, "walikota", "walikota")
    assert auth.authenticate(session, "walikota", PASSWORD).ok
    assert auth.authenticate(session, "walikota", "salah-salah-salah").reason == "bad_credentials"
    assert auth.authenticate(session, "siapa", PASSWORD).reason == "bad_credentials"
    assert actions(session)[-3:] == ["login", "login.failed", "login.failed"]
    details = [str(r.detail) for r in session.scalars(select(AuditLog))]
    assert not any(PASSWORD in d or "salah-salah" in d for d in details)


def test_lockout_doubles(session) -> None:
    make_user(session, "kadis.dinkes", "opd", "dinkes")
    now = utcnow()
    results = [auth.authenticate(session, "kadis.dinkes", "salah-salah-salah", now=now)
               for _ in range(5)]
    assert [r.reason for r in results] == ["bad_credentials"] * 4 + ["locked"]
    assert results[-1].retry_after_s == 30
    # locked: even the right password is refused, without being checked
    assert auth.authenticate(session, "kadis.dinkes", PASSWORD, now=now).reason == "locked"
    later = now + timedelta(seconds=31)
    sixth = auth.authenticate(session, "kadis.dinkes", "salah-lagi-salah", now=later)
    assert sixth.reason == "locked" and sixth.retry_after_s == 60
    assert [auth.lockout_s(n) for n in (4, 5, 6, 7, 30)] == [0, 30, 60, 120, 3600]
    assert auth.authenticate(session, "kadis.dinkes", PASSWORD,
                             now=later + timedelta(seconds=61)).ok
    assert session.scalars(select(LoginThrottle).where(  # this device starts again
        LoginThrottle.key == "pair:local|kadis.dinkes")).first() is None
    assert "lockout" in actions(session) and "login.locked" in actions(session)


def test_disabled_user_cannot_log_in_and_sessions_end(session) -> None:
    make_user(session, "walikota", "walikota")
    user = auth.authenticate(session, "walikota", PASSWORD).user
    token = auth.start_session(session, user, SECRET)
    auth.set_active(session, "walikota", False, actor="admin")
    assert auth.resolve_session(session, token, SECRET, timedelta(minutes=30)) is None
    assert auth.authenticate(session, "walikota", PASSWORD).reason == "disabled"
    auth.set_active(session, "walikota", True, actor="admin")
    assert auth.authenticate(session, "walikota", PASSWORD).ok


def test_session_idle_expiry_logout_and_tampering(session) -> None:
    make_user(session, "walikota", "walikota")
    user = auth.find_user(session, "walikota")
    t0 = utcnow()
    token = auth.start_session(session, user, SECRET, now=t0)
    idle = timedelta(minutes=30)
    assert auth.resolve_session(session, token, SECRET, idle, now=t0 + timedelta(minutes=29))
    assert auth.resolve_session(session, token + "x", SECRET, idle) is None
    assert auth.resolve_session(session, token, "another-secret", idle) is None
    stored = session.scalars(select(AuthSession)).one()
    assert token not in stored.token_digest  # only the HMAC digest is stored
    auth.touch_session(session, token, SECRET, now=t0 + timedelta(minutes=29))
    assert auth.resolve_session(session, token, SECRET, idle, now=t0 + timedelta(minutes=58))
    assert auth.resolve_session(session, token, SECRET, idle, now=t0 + timedelta(minutes=60)) is None
    assert "logout.idle" in actions(session)
    other = auth.start_session(session, user, SECRET)
    auth.end_session(session, other, SECRET)
    assert auth.resolve_session(session, other, SECRET, idle) is None
    assert actions(session)[-1] == "logout"


def test_production_refuses_default_secrets(settings: Settings) -> None:
    for secret in ("", "change-me", auth.DEV_SECRET, "short"):
        with pytest.raises(auth.InsecureSecret):
            auth.check_production_secrets(settings.model_copy(
                update={"production": True, "session_secret": secret}))
    auth.check_production_secrets(settings.model_copy(
        update={"production": True, "session_secret": SECRET}))
    assert auth.session_secret(settings.model_copy(update={"session_secret": ""})) == auth.DEV_SECRET


def test_workers_and_app_refuse_to_start_in_production(settings: Settings, store: Store) -> None:
    env = {**os.environ, "PRODUCTION": "true", "SESSION_SECRET": ""}
    run = subprocess.run([sys.executable, "-m", "workers", "status"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "SESSION_SECRET" in run.stderr
    os.environ["PRODUCTION"] = "true"
    try:
        import streamlit as st

        st.cache_resource.clear()
        from ambon_core.settings import get_settings

        get_settings.cache_clear()
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        assert any("SESSION_SECRET" in e.value for e in at.error)
        assert not at.text_input and not at.metric
    finally:
        del os.environ["PRODUCTION"]
        get_settings.cache_clear()


def test_admin_command(settings: Settings, session) -> None:
    def admin(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "workers", "admin", *args], cwd=ROOT,
                              input=stdin, capture_output=True, text=True, timeout=60)

    assert admin("create", "--username", "admin", "--role", "admin", "--password-stdin",
                 stdin=PASSWORD + "\n").returncode == 0
    bad = admin("create", "--username", "x", "--role", "opd", "--opd", "polri",
                "--password-stdin", stdin=PASSWORD + "\n")
    assert bad.returncode == 2 and "OPD" in bad.stderr
    assert admin("create", "--username", "y", "--role", "admin", "--password", "x").returncode == 2
    assert admin("set-role", "--username", "admin", "--role", "opd", "--opd", "dinkes").returncode == 0
    assert admin("disable", "--username", "admin").returncode == 0
    listed = admin("list", "--json")
    assert '"opd": "dinkes"' in listed.stdout and '"active": false' in listed.stdout
    assert admin("reset-password", "--username", "admin", "--password-stdin",
                 stdin="pendek\n").returncode == 2
    session.expire_all()
    assert {"user.create", "user.set_role", "user.disable"} <= set(actions(session))
    assert all(r.actor.startswith("cli") for r in session.scalars(
        select(AuditLog).where(AuditLog.action.startswith("user."))))


def test_oidc_claim_mapping() -> None:
    opds = city_opds()
    assert auth.role_from_claims({"ambon_role": "walikota"}, "ambon_role", opds) == ("walikota", None)
    assert auth.role_from_claims({"roles": ["x", "opd:dinkes"]}, "roles", opds) == ("opd", "dinkes")
    assert auth.role_from_claims({"ambon_role": "opd:polri"}, "ambon_role", opds) is None
    assert auth.role_from_claims({"ambon_role": "root"}, "ambon_role", opds) is None
    assert auth.role_from_claims({}, "ambon_role", opds) is None


def test_opd_cannot_complete_another_departments_instruction(session) -> None:
    alert = Alert(alert_id="tps_overflow:tps-a", kind=AlertKind.TPS_OVERFLOW, entity_id="tps-a",
                  opd="dlh")
    ident = instruct(session, alert, "dlh", "Angkut sampah", "walikota", city_opds())
    with pytest.raises(ActionError):
        complete(session, ident, "kadis.dinkes", "dinkes")
    assert [i.status for i in instructions(session)] == ["open"]


# --- through the app --------------------------------------------------------------------

@pytest.fixture
def app(store: Store, session) -> Iterator[AppTest]:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield AppTest.from_file(APP, default_timeout=60)


def test_wrong_password_unknown_and_lockout_in_the_form(app: AppTest, session) -> None:
    make_user(session, "walikota", "walikota")
    app.run()
    submit_login(app, "walikota", "salah-salah-salah")
    assert any("salah" in e.value for e in app.error) and not app.metric
    submit_login(app, "tidak.ada", PASSWORD)
    assert any("salah" in e.value for e in app.error) and not app.metric
    for _ in range(4):
        submit_login(app, "walikota", "salah-salah-salah")
    assert any("30 detik" in e.value for e in app.error)
    submit_login(app, "walikota", PASSWORD)  # right password, still locked
    assert any("detik" in e.value for e in app.error) and not app.metric


def _reload(token: str, **state) -> AppTest:
    """A browser reload: app.py from the top with the session token (the cookie).

    (AppTest reruns only the page script after its first run, as this repo has a pages/
    folder; the page's own require_page is what those runs exercise.)"""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["_auth_token"] = token
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _reload_until(token: str, done, timeout_s: float = 20.0, **state) -> AppTest:
    """Reload (as a browser does) until ``done(app)``: the user is re-read from SQL every
    SESSION_RECHECK_S, so a change made elsewhere shows within that period."""
    deadline = time.monotonic() + timeout_s
    while True:
        at = _reload(token, **state)
        if done(at) or time.monotonic() > deadline:
            return at
        time.sleep(0.2)  # between two polls, not in place of one


def _refused_puskesmas(at: AppTest) -> bool:
    at.switch_page("pages/puskesmas.py").run()
    return any("tidak punya akses" in w.value for w in at.warning)


def _login_form(at: AppTest) -> bool:
    return any(w.key == "login_username" for w in at.text_input)


def test_role_change_and_disable_take_effect(app: AppTest, session, store) -> None:
    app = login(app, session, "opd", "dinkes", username="kadis")
    token = app.session_state["_auth_token"]
    app.switch_page("pages/puskesmas.py").run()
    assert app.title[0].value == "Puskesmas"
    auth.set_role(session, "kadis", "opd", "dishub", actor="admin", known_opds=city_opds())
    again = _reload_until(token, _refused_puskesmas)
    assert any("tidak punya akses" in w.value for w in again.warning) and not again.dataframe
    auth.set_active(session, "kadis", False, actor="admin")
    gone = _reload_until(token, _login_form)
    assert _login_form(gone) and not gone.metric


def test_tampered_and_ended_sessions(app: AppTest, session, settings: Settings) -> None:
    app = login(app, session, "walikota")
    token = app.session_state["_auth_token"]
    auth.end_session(session, token, auth.session_secret(settings))
    assert "logout" in actions(session)
    ended = _reload_until(token, _login_form)  # ended elsewhere: seen within the re-check
    for forged in (ended, _reload("A" * 43), _reload("../../etc"),
                   _reload("", auth_user=Principal("x", "admin"))):
        assert _login_form(forged) and not forged.metric


def test_admin_page_manages_users_and_shows_audit(app: AppTest, session) -> None:
    login(app, session, "admin")
    app.switch_page("pages/admin.py").run()
    assert not app.exception, app.exception
    app.text_input(key="new_username").input("kadis.dlh")
    app.selectbox(key="new_role").set_value("opd")
    app.selectbox(key="new_opd").set_value("dlh")
    app.text_input(key="new_password").input("sandi-baru-kadis-dlh")
    app.button(key="new_submit").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert auth.find_user(session, "kadis.dlh").opd == "dlh"
    audit_df = next(d.value for d in app.dataframe if "Tindakan" in d.value.columns)
    assert "login" in set(audit_df["Tindakan"])
    session.expire_all()
    assert "user.create" in actions(session)


# --- lockout without account enumeration or lock-out abuse (issue 13, finding 6) ------------

def _attempts(session, name: str, client: str, n: int, password: str = "salah-salah-salah",
              now=None) -> list[tuple[str | None, int]]:
    return [(r.reason, r.retry_after_s) for r in (
        auth.authenticate(session, name, password, client=client, now=now) for _ in range(n))]


def test_known_and_unknown_names_are_throttled_alike(session) -> None:
    make_user(session, "walikota", "walikota")
    now = utcnow()
    known = _attempts(session, "walikota", "198.51.100.7", 7, now=now)
    unknown = _attempts(session, "bukan.siapa.siapa", "198.51.100.8", 7, now=now)
    # the fifth failure locks for 30 s; attempts while locked are told the time left
    assert known == unknown == [("bad_credentials", 0)] * 4 + [("locked", 30), ("locked", 31),
                                                               ("locked", 31)]


def test_a_stranger_cannot_lock_the_mayor_out(session) -> None:
    make_user(session, "walikota", "walikota")
    now = utcnow()
    assert _attempts(session, "walikota", "203.0.113.66", 5, now=now)[-1] == ("locked", 30)
    # the stranger's device stays locked, even with the right password …
    assert auth.authenticate(session, "walikota", PASSWORD, client="203.0.113.66",
                             now=now).reason == "locked"
    # … the mayor's tablet is not
    assert auth.authenticate(session, "walikota", PASSWORD, client="10.1.2.3", now=now).ok
    assert "lockout" in actions(session)


def test_one_device_guessing_many_names_is_slowed_down(session) -> None:
    make_user(session, "walikota", "walikota")
    now = utcnow()
    for i in range(auth.CLIENT_LOCK_AFTER):
        auth.authenticate(session, f"tebak{i}", "salah-salah-salah", client="192.0.2.5", now=now)
    spray = auth.authenticate(session, "walikota", PASSWORD, client="192.0.2.5", now=now)
    assert spray.reason == "locked" and 0 < spray.retry_after_s <= 31
    assert auth.authenticate(session, "walikota", PASSWORD, client="192.0.2.99", now=now).ok
    later = now + timedelta(seconds=31)
    assert auth.authenticate(session, "walikota", PASSWORD, client="192.0.2.5", now=later).ok


def test_the_form_answers_known_and_unknown_names_alike(app: AppTest, session) -> None:
    make_user(session, "walikota", "walikota")
    app.run()
    seen = {}
    for name in ("walikota", "tidak.ada"):
        seen[name] = []
        for _ in range(6):
            submit_login(app, name, "salah-salah-salah")
            seen[name].append([re.sub(r"\d+", "N", e.value) for e in app.error])
    assert seen["walikota"] == seen["tidak.ada"]  # same words (seconds left may differ by one)
    assert "Coba lagi dalam N detik" in seen["walikota"][-1][0] and not app.metric
