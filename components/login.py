"""The login form, the gate every run passes, logout and the user menu.

``gate`` runs first on every run of ``app.py`` (and again in every page's
``require_page``): the wall screen (``?kiosk=1``) is the public; anyone else logs in.
Failed logins are throttled per client and name (``ambon_core.auth.authenticate``); the
form answers known and unknown names alike.
"""

from __future__ import annotations

import streamlit as st

from ambon_core import auth as core
from ambon_core.access import PUBLIC, Principal
from components import data, session
from components.text import plain
from components.ui import language_switch, t


def gate(*, kiosk: bool) -> Principal:
    """Who is looking: the public on the wall screen, else a logged-in user (or the login
    form and nothing else)."""
    try:
        core.check_production_secrets(data.settings())
    except core.InsecureSecret as exc:
        st.error(str(exc))  # our own sentence, no data in it
        st.stop()
    if kiosk:
        st.session_state[session.USER_KEY] = PUBLIC
        return PUBLIC
    user = session.current_user()
    if user is None:
        st.session_state.pop(session.USER_KEY, None)
        login_screen()
        st.stop()
    st.session_state[session.USER_KEY] = user
    held = st.session_state.get(session.TOKEN_KEY)
    if held:
        with session.db() as db:
            core.touch_session(db, held, session.secret())
        if st.session_state.pop("_auth_cookie", None) == held:
            session.remember_in_browser(held)
    return user


def client_id() -> str:
    """The address the login came from (the proxy's X-Forwarded-For when trusted)."""
    if data.settings().trust_proxy_headers:
        forwarded = st.context.headers.get("x-forwarded-for", "")
        if isinstance(forwarded, str) and forwarded.strip():
            return forwarded.split(",")[0].strip()[:64]
    address = st.context.ip_address
    return address[:64] if isinstance(address, str) and address else "local"


def login_screen() -> None:
    """The login form; failures, lockout and expiry as polite sentences."""
    if st.session_state.pop("_auth_cookie_clear", None):
        session.forget_in_browser()
    with st.columns([6, 1])[1]:
        language_switch()
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title(t("app.title"))
        notice = st.session_state.pop("_auth_notice", None)
        if notice:
            st.info(t(notice), icon=":material/lock_clock:")
        with st.form("login", border=True):
            st.subheader(t("login.title"))
            username = st.text_input(t("login.username"), key="login_username", max_chars=80)
            password = st.text_input(t("login.password"), type="password", key="login_password",
                                     max_chars=200)
            submitted = st.form_submit_button(t("login.submit"), key="login_submit",
                                              type="primary", width="stretch")
        if submitted:
            _try_login(username, password)
        if data.settings().auth_oidc and st.button(t("login.sso"), key="login_sso", width="stretch"):
            st.login()
        if not _any_account():
            # a new installation: say how to make the first account (on the server, not here)
            st.info(t("login.no_accounts"), icon=":material/person_add:")
            st.code("python -m workers admin create --username admin --role admin", language="bash")


@st.cache_data(ttl=10, show_spinner=False)
def _any_account() -> bool:
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from ambon_core.models import User

    try:
        with session.db() as db:
            return db.scalar(select(User.id).limit(1)) is not None
    except SQLAlchemyError:  # a broken DB is reported elsewhere; no hint then
        return True


def _try_login(username: str, password: str) -> None:
    with session.db() as db:
        result = core.authenticate(db, username, password, client=client_id())
        if result.ok:
            held = core.start_session(db, result.user, session.secret())  # type: ignore[arg-type]
    if result.ok:
        st.session_state[session.TOKEN_KEY] = held
        st.session_state["_auth_cookie"] = held
        st.session_state.pop("login_password", None)
        st.rerun()
    if result.reason == "locked":
        st.error(t("login.locked", s=result.retry_after_s), icon=":material/lock:")
    elif result.reason == "disabled":
        st.error(t("login.disabled"), icon=":material/block:")
    else:
        st.error(t("login.failed"), icon=":material/error:")


def logout() -> None:
    """End the session here and on the server; the cookie route deletes the cookie."""
    held = st.session_state.pop(session.TOKEN_KEY, None) or session.token()
    if held:
        with session.db() as db:
            core.end_session(db, held, session.secret())
        session.forget()
    st.session_state.pop(session.USER_KEY, None)
    st.session_state["_auth_cookie_clear"] = True
    if data.settings().auth_oidc and getattr(st.user, "is_logged_in", False):
        st.logout()
    st.rerun()


def role_text(user: Principal) -> str:
    return t(f"role.{user.role}", opd=(user.opd or "").upper())


def user_menu(user: Principal) -> None:
    """Who is logged in (a display name or SSO claim: shown as text), and logout."""
    st.caption(f":material/account_circle: {plain(user.display_name or user.username)} · "
               f"{role_text(user)}")
    if st.button(t("logout"), key="auth_logout", icon=":material/logout:"):
        logout()
