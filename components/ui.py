"""Small UI pieces used by every page: language, header, banners, tiles, badges, ages."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from ambon_core.domain import utcnow
from ambon_core.store import LiveState
from components import data
from components.fmt import age_text, is_stale, wit_time
from components.i18n import LANGS, TEXT, translate

STATUS_COLOURS = {"buka": "green", "belum_buka": "red", "tutup": "gray",
                  "tidak_diketahui": "orange", "lancar": "green", "padat": "orange",
                  "macet": "red", "ok": "green", "no_signal": "red", "starting": "orange",
                  "overloaded": "orange"}


def lang() -> str:
    """The session's language: the header's choice or ``?lang=en``; Indonesian by default."""
    chosen = st.session_state.get("lang") or st.query_params.get("lang", "id")
    return chosen if chosen in LANGS else "id"


def t(key: str, **params: object) -> str:
    """Translate in the session's language."""
    return translate(key, lang(), **params)


def t_or(key: str, fallback: str) -> str:
    """Translate ``key`` if the table has it, else ``fallback`` (a model's own class name)."""
    return t(key) if key in TEXT else fallback


_BASE_CSS = """
<style>
.block-container {padding-top: 3.2rem; padding-bottom: 1rem;}
h1 {padding-top: 0 !important; padding-bottom: 0.2rem !important; font-size: 1.9rem !important;}
[data-testid="stMetricValue"] {font-size: 2.1rem;}
[data-testid="stPageLink"] a {min-height: 2.75rem;}
/* a tablet held upright (820 px): KPI tiles wrap three to a row instead of truncating */
@media (max-width: 900px) {
  [data-testid="stHorizontalBlock"] {flex-wrap: wrap;}
  [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {min-width: calc(33% - 1rem);}
}
</style>
"""
_KIOSK_CSS = """
<style>
.block-container {padding-top: 1rem; max-width: 100%;}
html, body, [data-testid="stAppViewContainer"] {font-size: 22px;}
h1 {font-size: 3rem !important;}
[data-testid="stMetricValue"] {font-size: 3.4rem;}
[data-testid="stMetricLabel"] p {font-size: 1.3rem;}
[data-testid="stHeader"], [data-testid="stSidebarCollapsedControl"] {display: none;}
</style>
"""


def apply_style(*, kiosk: bool = False) -> None:
    """Our own static CSS (no data in it): compact for tablets, large type on the wall."""
    st.html(_KIOSK_CSS if kiosk else _BASE_CSS)


def language_switch() -> None:
    """ID / EN, rendered by app.py on every page so the choice survives page changes."""
    st.segmented_control("Bahasa / Language", LANGS, key="lang", default=lang(),
                         format_func=str.upper, label_visibility="collapsed")


def header(page_key: str) -> None:
    """Page title and the WIT clock; beside them the language switch and who is logged in
    (one row, so the tablet keeps its height for the live panel)."""
    if on_wall():
        st.title(t(page_key))
        st.caption(f"{t('now')}: {wit_time(utcnow(), with_date=True)}")
        return
    from components.auth import user_menu, viewer  # auth builds on this module

    title_col, lang_col, user_col = st.columns([5, 1.3, 1.7], vertical_alignment="top")
    with title_col:
        st.title(t(page_key))
        st.caption(f"{t('now')}: {wit_time(utcnow(), with_date=True)}")
    with lang_col:
        language_switch()
    user = viewer()
    if user is not None and not user.is_public:
        with user_col:
            user_menu(user)


def live_or_banner() -> LiveState | None:
    """The live state; when Redis is unreachable, a banner instead of a traceback."""
    state = data.live()
    if state is None:
        st.error(t("banner.redis"), icon=":material/cloud_off:")
        return None
    from components import auth  # here: auth imports this module

    auth.check_live()  # a live panel of a session that ended or lost its right re-gates
    state = auth.scoped_live(state)  # the wall screen gets privacy.public_view
    dead = sorted(name for name, hb in state.heartbeats.items() if hb is None)
    if dead:
        st.warning(t("banner.workers", names=", ".join(dead)), icon=":material/warning:")
    return state


def age_caption(updated_at: datetime | None, period_s: float) -> None:
    """'diperbarui 12 dtk lalu', marked 'data terlambat' past three periods."""
    if updated_at is None:
        st.caption(t("no_data"))
        return
    age = (utcnow() - updated_at).total_seconds()
    text = t("age", age=age_text(age, lang()))
    if is_stale(age, period_s):
        st.caption(f":red[**{t('stale')}** · {text}]")
    else:
        st.caption(text)


def status_text(code: str | None, prefix: str = "status") -> str:
    """A coloured status word for tables and tiles, e.g. :red[Belum buka]."""
    if not code:
        return t("no_data")
    return f":{STATUS_COLOURS.get(code, 'gray')}[{t(f'{prefix}.{code}')}]"


def kpi(label: str, value: object, caption: str | None = None) -> None:
    """A big-number tile that works by touch (no hover-only information)."""
    with st.container(border=True):
        st.metric(label, value)
        if caption:
            st.caption(caption)


def newest(values: list[datetime]) -> datetime | None:
    return max(values) if values else None


def on_wall() -> bool:
    """True on the city-hall wall screen (``?kiosk=1``): public, no keyboard, no links."""
    from components.kiosk import KioskPlan

    return KioskPlan.from_query(st.query_params) is not None


def current_actor() -> str:
    """Who is acting, for the record (the logged-in user's name)."""
    user = st.session_state.get("auth_user")
    return getattr(user, "username", None) or "anonim"


def focus(valid: set[str]) -> str | None:
    """The item named by ``?focus=`` (an alert tapped elsewhere), if it exists here.

    Anything else in the URL is ignored with a polite note, never an error page.
    """
    wanted = st.query_params.get("focus")
    if not wanted:
        return None
    if wanted in valid:
        return wanted
    st.info(t("focus.unknown", item=str(wanted)[:60]), icon=":material/search_off:")
    return None
