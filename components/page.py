"""What every page draws first: the header (title, WIT clock, language, user menu) and
the live state scoped to the viewer, or a banner when Redis is away."""

from __future__ import annotations

import streamlit as st

from ambon_core.domain import utcnow
from ambon_core.store import LiveState
from components import data, scope, session
from components.fmt import wit_time
from components.login import user_menu
from components.text import plain
from components.ui import language_switch, on_wall, t


def header(page_key: str) -> None:
    """Page title and the city clock; beside them the language switch and who is logged
    in (one row, so the tablet keeps its height for the live panel)."""
    if on_wall():
        st.title(t(page_key))
        st.caption(f"{t('now')}: {wit_time(utcnow(), with_date=True)}")
        return
    title_col, lang_col, user_col = st.columns([5, 1.3, 1.7], vertical_alignment="top")
    with title_col:
        st.title(t(page_key))
        st.caption(f"{t('now')}: {wit_time(utcnow(), with_date=True)}")
    with lang_col:
        language_switch()
    user = session.viewer()
    if user is not None and not user.is_public:
        with user_col:
            user_menu(user)


def live_or_banner() -> LiveState | None:
    """The live state as this viewer may see it; when Redis is unreachable, a banner."""
    state = data.live()
    if state is None:
        st.error(t("banner.redis"), icon=":material/cloud_off:")
        return None
    session.check_live()  # a live panel of a session that ended or lost its right re-gates
    state = scope.scoped_live(state)  # the wall screen gets privacy.public_view
    dead = sorted(name for name, hb in state.heartbeats.items() if hb is None)
    if dead:
        st.warning(t("banner.workers", names=plain(", ".join(dead))), icon=":material/warning:")
    return state
