"""Small UI pieces used by every page: language, header, banners, tiles, badges, ages."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from ambon_core.domain import utcnow
from ambon_core.store import LiveState
from components import data
from components.fmt import age_text, is_stale, wit_time
from components.i18n import LANGS, translate

STATUS_COLOURS = {"buka": "green", "belum_buka": "red", "tutup": "gray",
                  "tidak_diketahui": "orange", "lancar": "green", "padat": "orange",
                  "macet": "red", "ok": "green", "no_signal": "red", "starting": "orange"}


def lang() -> str:
    """The session's language: ``?lang=en`` or the sidebar choice; Indonesian by default."""
    chosen = st.session_state.get("lang") or st.query_params.get("lang", "id")
    return chosen if chosen in LANGS else "id"


def t(key: str, **params: object) -> str:
    """Translate in the session's language."""
    return translate(key, lang(), **params)


def header(page_key: str) -> None:
    """Page title with the WIT clock."""
    st.title(t(page_key))
    st.caption(f"{t('now')}: {wit_time(utcnow(), with_date=True)}")


def live_or_banner() -> LiveState | None:
    """The live state; when Redis is unreachable, a banner instead of a traceback."""
    state = data.live()
    if state is None:
        st.error(t("banner.redis"), icon="⚠️")
        return None
    dead = sorted(name for name, hb in state.heartbeats.items() if hb is None)
    if dead:
        st.warning(t("banner.workers", names=", ".join(dead)), icon="⚠️")
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
