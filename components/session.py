"""Who is logged in: the session token, its cookie, and the user it stands for.

The browser keeps the session token in an HttpOnly, SameSite=Strict cookie
(``ambon_session``; Secure in production) that page scripts cannot read. A Streamlit
script cannot set such a cookie (it talks over a websocket), so after a login the page
sends the browser once to ``/api/session/start?code=…`` with a one-time code; that
route of our server (``server.py``, ``components/session_routes.py``) sets the cookie
and sends the browser back. The server keeps only an HMAC digest of the token and ends
it on logout, on idle (``SESSION_IDLE_MIN``) or when the account is disabled.

The user is re-read from SQL every ``SESSION_RECHECK_S`` seconds per process (and
without any cache before every action), so a disabled account or a changed role takes
effect within seconds, live panels included (``check_live``).
"""

from __future__ import annotations

import re
from datetime import timedelta

import streamlit as st
from sqlalchemy.orm import Session

from ambon_core import auth as core
from ambon_core.access import Principal, principal
from ambon_core.db import engine_for, session_factory
from ambon_core.domain import utcnow
from components import data, session_routes

TOKEN_KEY, USER_KEY = "_auth_token", "auth_user"
COOKIE = session_routes.COOKIE
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


def db() -> Session:
    """A SQL session on the accounts database."""
    return session_factory(engine_for(data.settings().database_url))()


def secret() -> str:
    return core.session_secret(data.settings())


def _to_principal(user) -> Principal:
    return principal(user.username, user.role, user.opd, data.registry().opds,
                     display_name=user.display_name, user_id=user.id)


def resolve_now(token: str) -> Principal | None:
    """The session's user as SQL says at this moment (no cache: before every action)."""
    with db() as s:
        user = core.resolve_session(s, token, secret(),
                                    timedelta(minutes=data.settings().session_idle_min))
        return _to_principal(user) if user is not None else None


@st.cache_data(ttl=3600, show_spinner=False, max_entries=4000)
def _resolve_in(token: str, period: int) -> Principal | None:
    """``resolve_now``, shared by the sessions of a process within one re-check period
    (``period`` is hashed: a new period reads SQL again)."""
    return resolve_now(token)


def resolve(token: str) -> Principal | None:
    """The session's user, re-read from SQL at most every ``SESSION_RECHECK_S``."""
    every = max(0.5, data.settings().session_recheck_s)
    return _resolve_in(token, int(utcnow().timestamp() / every))


def oidc_user() -> Principal | None:
    """The OpenID Connect identity (st.user), its role from the configured claim."""
    if not data.settings().auth_oidc or not getattr(st.user, "is_logged_in", False):
        return None
    claims = st.user.to_dict()
    username = str(claims.get("email") or claims.get("sub") or "")[:80].lower()
    city_opds = {o.code for o in data.registry().opds if not o.partner}
    mapped = core.role_from_claims(claims, data.settings().auth_oidc_role_claim, city_opds)
    with db() as s:
        local = core.find_user(s, username) if username else None
        if mapped is None or (local is not None and not local.active):
            st.session_state["_auth_notice"] = "login.sso_norole"
            return None
    return principal(username, mapped[0], mapped[1], data.registry().opds,
                     display_name=str(claims.get("name") or username))


def token() -> str | None:
    """This session's token: from this tab's state or the browser's cookie."""
    value = st.session_state.get(TOKEN_KEY) or st.context.cookies.get(COOKIE)
    return str(value) if value and _TOKEN_CHARS.match(str(value)) else None


def current_user() -> Principal | None:
    """The logged-in user, fresh from SQL (a few seconds' cache), or None."""
    oidc = oidc_user()
    if oidc is not None:
        return oidc
    held = token()
    if held is None:
        return None
    user = resolve(held)
    if user is None:
        if st.session_state.pop(TOKEN_KEY, None):
            st.session_state["_auth_notice"] = "login.expired"
        if st.context.cookies.get(COOKIE):
            st.session_state["_auth_cookie_clear"] = True  # a dead cookie: delete it
        return None
    st.session_state[TOKEN_KEY] = held
    return user


def fresh_user() -> Principal | None:
    """The viewer as SQL says now (no cache): what every action is checked against."""
    user = viewer()
    if user is None or user.is_public or user.user_id is None:
        return user  # the wall, or an OIDC identity (re-read from st.user every run)
    held = st.session_state.get(TOKEN_KEY)
    return resolve_now(held) if held else None


def viewer() -> Principal | None:
    """Who this run is for, as the gate decided (None: nobody; the page must refuse)."""
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, Principal) else None


def actor() -> str:
    """Who is acting, for the record (the logged-in user's name)."""
    user = viewer()
    return user.username if user is not None else "anonim"


def check_live() -> None:
    """In live panels (fragments, which skip the page's first lines): a session that
    ended or a role that changed sends the whole app through the gate again."""
    user = viewer()
    if user is None or user.is_public:
        return
    held = st.session_state.get(TOKEN_KEY)
    fresh = resolve(held) if held else oidc_user()
    if fresh != user:
        st.rerun(scope="app")


def remember_in_browser(held: str) -> None:
    """Send the browser once through our cookie route, which stores ``held`` in an
    HttpOnly cookie and comes back here (the code in the URL is single-use, 60 s)."""
    code = session_routes.offer(held)
    _navigate(f"{session_routes.START}?code={code}&next={session_routes.back_to(st.context.url)}")


def forget() -> None:
    """Drop what this process remembers of sessions (after a logout)."""
    _resolve_in.clear()


def forget_in_browser() -> None:
    """Have our cookie route delete the cookie (the session itself is already ended)."""
    _navigate(session_routes.END)


def _navigate(path: str) -> None:
    # path: our own route, a code of [A-Za-z0-9_-] and a checked local path
    assert re.fullmatch(r"[a-z/]+(\?code=[A-Za-z0-9_-]+&next=[A-Za-z0-9_/-]+)?", path), path
    st.html(f"<script>window.location.replace('{path}');</script>", unsafe_allow_javascript=True)
