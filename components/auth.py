"""Login, logout and the access checks of the dashboard (rules in ``ambon_core.access``).

``gate`` runs first on every run of ``app.py``: the wall screen (``?kiosk=1``) is the
public; anyone else logs in. The user is re-read from SQL on every run (cached
``RECHECK_S`` seconds per process), so a disabled account or a changed role takes effect
within seconds, live panels included (``check_live``). Every page starts with
``require_page``; every action asks ``authorize`` first.

The browser keeps the session token in a cookie (``ambon_session``, SameSite=Strict) so a
reload on the mayor's tablet does not ask for the password again; the server keeps only
an HMAC digest of it and ends it on logout, on idle (``SESSION_IDLE_MIN``) or when the
account is disabled.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pandas as pd
import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core import auth as core
from ambon_core.access import (
    PUBLIC,
    Principal,
    can_act,
    can_see_incident,
    can_view,
    principal,
)
from ambon_core.db import engine_for, session_factory
from ambon_core.history import audit
from ambon_core.models import AuditLog
from ambon_core.privacy import category_text, public_view
from ambon_core.store import LiveState
from components import data
from components.i18n import TEXT
from components.kiosk import KioskPlan
from components.ui import language_switch, t

TOKEN_KEY, USER_KEY = "_auth_token", "auth_user"  # USER_KEY: read by ui.current_actor
COOKIE = "ambon_session"
COOKIE_MAX_AGE_S = 12 * 3600
RECHECK_S = 3.0
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


def _db() -> Session:
    return session_factory(engine_for(data.settings().database_url))()


def _secret() -> str:
    return core.session_secret(data.settings())


def _to_principal(user) -> Principal:
    return principal(user.username, user.role, user.opd, data.registry().opds,
                     display_name=user.display_name, user_id=user.id)


@st.cache_data(ttl=RECHECK_S, show_spinner=False, max_entries=2000)
def _resolve(token: str) -> Principal | None:
    """The session's user as SQL says now (shared per process for a few seconds)."""
    with _db() as db:
        user = core.resolve_session(db, token, _secret(),
                                    timedelta(minutes=data.settings().session_idle_min))
        return _to_principal(user) if user is not None else None


def _oidc_user() -> Principal | None:
    """The OpenID Connect identity (st.user), its role from the configured claim."""
    if not data.settings().auth_oidc or not getattr(st.user, "is_logged_in", False):
        return None
    claims = st.user.to_dict()
    username = str(claims.get("email") or claims.get("sub") or "")[:80].lower()
    city_opds = {o.code for o in data.registry().opds if not o.partner}
    mapped = core.role_from_claims(claims, data.settings().auth_oidc_role_claim, city_opds)
    with _db() as db:
        local = core.find_user(db, username) if username else None
        if mapped is None or (local is not None and not local.active):
            st.session_state["_auth_notice"] = "login.sso_norole"
            return None
    return principal(username, mapped[0], mapped[1], data.registry().opds,
                     display_name=str(claims.get("name") or username))


def current_user() -> Principal | None:
    """The logged-in user, fresh from SQL (a few seconds' cache), or None."""
    oidc = _oidc_user()
    if oidc is not None:
        return oidc
    token = st.session_state.get(TOKEN_KEY) or st.context.cookies.get(COOKIE)
    if not token or not _TOKEN_CHARS.match(str(token)):
        return None
    user = _resolve(str(token))
    if user is None:
        if st.session_state.pop(TOKEN_KEY, None):
            st.session_state["_auth_notice"] = "login.expired"
        st.session_state["_auth_cookie_clear"] = True
        return None
    st.session_state[TOKEN_KEY] = token
    return user


def gate(*, kiosk: bool) -> Principal:
    """Who is looking: the public on the wall screen, else a logged-in user (or the login
    form and nothing else)."""
    try:
        core.check_production_secrets(data.settings())
    except core.InsecureSecret as exc:
        st.error(str(exc))
        st.stop()
    if kiosk:
        st.session_state[USER_KEY] = PUBLIC
        return PUBLIC
    user = current_user()
    if user is None:
        st.session_state.pop(USER_KEY, None)
        login_screen()
        st.stop()
    st.session_state[USER_KEY] = user
    token = st.session_state.get(TOKEN_KEY)
    if token:
        with _db() as db:
            core.touch_session(db, token, _secret())
        if st.session_state.pop("_auth_cookie", None) == token:
            _cookie_script(f"{COOKIE}={token}; path=/; max-age={COOKIE_MAX_AGE_S}; SameSite=Strict")
    return user


def _cookie_script(cookie: str) -> None:
    """Set or clear the session cookie; the value is our own token, checked to be [A-Za-z0-9_-]."""
    st.html(f"<script>document.cookie = '{cookie}' + (location.protocol === 'https:' ? "
            "'; Secure' : '');</script>", unsafe_allow_javascript=True)


def login_screen() -> None:
    """The login form; failures, lockout and expiry as polite sentences."""
    if st.session_state.pop("_auth_cookie_clear", None):
        _cookie_script(f"{COOKIE}=; path=/; max-age=0; SameSite=Strict")
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
        with _db() as db:
            return db.scalar(select(User.id).limit(1)) is not None
    except SQLAlchemyError:  # a broken DB is reported elsewhere; no hint then
        return True


def _try_login(username: str, password: str) -> None:
    with _db() as db:
        result = core.authenticate(db, username, password)
        if result.ok:
            token = core.start_session(db, result.user, _secret())  # type: ignore[arg-type]
    if result.ok:
        st.session_state[TOKEN_KEY] = token
        st.session_state["_auth_cookie"] = token
        st.session_state.pop("login_password", None)
        st.rerun()
    if result.reason == "locked":
        st.error(t("login.locked", s=result.retry_after_s), icon=":material/lock:")
    elif result.reason == "disabled":
        st.error(t("login.disabled"), icon=":material/block:")
    else:
        st.error(t("login.failed"), icon=":material/error:")


def logout() -> None:
    """End the session here and on the server; back to the login form."""
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        with _db() as db:
            core.end_session(db, token, _secret())
        _resolve.clear()
    st.session_state.pop(USER_KEY, None)
    st.session_state["_auth_cookie_clear"] = True
    if data.settings().auth_oidc and getattr(st.user, "is_logged_in", False):
        st.logout()
    st.rerun()


def role_text(user: Principal) -> str:
    return t(f"role.{user.role}", opd=(user.opd or "").upper())


def user_menu(user: Principal) -> None:
    """Who is logged in, and the logout button (top right on every page)."""
    st.caption(f":material/account_circle: {user.display_name or user.username} · {role_text(user)}")
    if st.button(t("logout"), key="auth_logout", icon=":material/logout:"):
        logout()


def viewer() -> Principal | None:
    """Who this run is for, as the gate decided (None: nobody; the page must refuse)."""
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, Principal) else None


def _audit(action: str, target: str, **detail: str | int | float | None) -> None:
    user = viewer()
    with _db() as db:
        audit(db, user.username if user else "anonim", action, target, **detail)
        db.commit()


def require_page(page: str) -> Principal:
    """First line of every page: refuse politely (and audit) unless the viewer may see it.

    Runs the gate again: Streamlit can run a page file without ``app.py`` (a deep link
    to a fresh server finds ``pages/`` before any ``st.navigation`` call), so a page
    never trusts that the gate already ran."""
    user = gate(kiosk=KioskPlan.from_query(st.query_params) is not None)
    if can_view(user, page):
        return user
    denied = st.session_state.setdefault("_auth_denied_logged", set())
    if page not in denied:  # one audit entry per session and page, not one per rerun
        denied.add(page)
        _audit("access.denied", f"page:{page}")
    st.warning(t("access.denied"), icon=":material/lock:")
    st.page_link("pages/ringkasan.py", label=t("access.back"), icon=":material/arrow_back:")
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises


def authorize(action: str, item_opd: str | None, target: str) -> bool:
    """Before every action: the viewer's current rights from SQL (no cache); a refusal is
    shown, audited and changes nothing."""
    user = viewer()
    if user is not None and not user.is_public and user.user_id is not None:
        _resolve.clear()
        token = st.session_state.get(TOKEN_KEY)
        user = _resolve(token) if token else None
    if user is not None and can_act(user, action, item_opd):
        return True
    _audit("access.denied", target, action=action, item_opd=item_opd)
    st.error(t("access.denied_action"), icon=":material/block:")
    return False


def may(action: str, item_opd: str | None) -> bool:
    """Whether to offer an action at all (buttons); ``authorize`` still decides on use."""
    return can_act(viewer(), action, item_opd)


def audit_export(what: str, item_opd: str | None = None, rows: int | None = None) -> bool:
    """Check and record a data export (download); False means: do not offer the file."""
    if not authorize("export", item_opd, f"export:{what}"):
        return False
    _audit("export", f"export:{what}", opd=item_opd, rows=rows)
    return True


def _category_label(category: str) -> str:
    key = f"category.{category}"
    return t(key) if key in TEXT else category_text(category)


def scoped_live(state: LiveState) -> LiveState:
    """What this viewer may see of the live state: the public view on the wall screen,
    a department's own incident categories for an OPD head, everything for the mayor."""
    user = viewer()
    if user is None or user.is_public:
        return public_view(state, _category_label)
    if user.role == "opd":
        incidents = {k: i for k, i in state.incidents.items() if can_see_incident(user, i.category)}
        return replace(state, incidents=incidents)
    return state


def check_live() -> None:
    """In live panels (fragments, which skip the page's first lines): a session that
    ended or a role that changed sends the whole app through the gate again."""
    user = viewer()
    if user is None or user.is_public:
        return
    token = st.session_state.get(TOKEN_KEY)
    fresh = _resolve(token) if token else _oidc_user()
    if fresh != user:
        st.rerun(scope="app")


def db_session() -> Session:
    """A SQL session for account changes (the admin page)."""
    return _db()


def users_table() -> pd.DataFrame:
    """Every account, for the admin page (no hashes)."""
    with _db() as db:
        return pd.DataFrame([{
            "username": u.username, "display_name": u.display_name, "role": u.role, "opd": u.opd,
            "active": u.active, "last_login": u.last_login_at, "locked_until": u.locked_until}
            for u in core.list_users(db)],
            columns=["username", "display_name", "role", "opd", "active", "last_login",
                     "locked_until"])


def audit_table(actor: str = "", action: str = "", limit: int = 500) -> pd.DataFrame:
    """The newest audit entries, optionally of one actor / actions starting with ``action``."""
    stmt = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    if actor.strip():
        stmt = stmt.where(AuditLog.actor == actor.strip().lower())
    if action.strip():
        stmt = stmt.where(AuditLog.action.startswith(action.strip()))
    with _db() as db:
        return pd.DataFrame([{"at": r.at, "actor": r.actor, "action": r.action, "target": r.target,
                              "detail": ", ".join(f"{k}={v}" for k, v in (r.detail or {}).items())}
                             for r in db.scalars(stmt)],
                            columns=["at", "actor", "action", "target", "detail"])
