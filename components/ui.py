"""Small UI pieces used by every page: language, tiles, badges, ages, ``?focus=``.

The base of the components: it imports no other component that draws (the page
header and the live-state banner, which need the logged-in user, are in ``page``).
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from ambon_core.domain import utcnow
from components.fmt import age_text, is_stale
from components.i18n import LANGS, TEXT, translate
from components.text import plain

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


# both screens: a tile's label wraps instead of being cut to "Kantor layana..." when narrow
_LABELS_WRAP = """
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;}
"""
_BASE_CSS = "<style>" + _LABELS_WRAP + """
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
_KIOSK_CSS = "<style>" + _LABELS_WRAP + """
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


def focus(valid: set[str]) -> str | None:
    """The item named by ``?focus=`` (an alert tapped elsewhere), if it exists here.

    Anything else in the URL is ignored with a polite note, never an error page.
    """
    wanted = st.query_params.get("focus")
    if not wanted:
        return None
    if wanted in valid:
        return wanted
    st.info(t("focus.unknown", item=plain(str(wanted)[:60])), icon=":material/search_off:")
    return None
