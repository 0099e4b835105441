"""Carrying out one UI action: the SQL session, the refusal shown as text, the redraw.

Shared by the alert actions (``actions_ui``) and the follow-up buttons (``followup_ui``),
which import it from here so neither imports the other."""

from __future__ import annotations

import streamlit as st

from ambon_core.actions import ActionError
from components import data
from components.text import plain
from components.ui import t

DONE_TOAST = "_action_done_toast"


def _run(action, success: str) -> None:
    try:
        with data.session() as session:
            action(session)
    except ActionError as exc:
        st.error(t("act.refused", reason=plain(exc)))
        return
    # the lists above were drawn before the change: draw again, and say so on that run
    st.session_state[DONE_TOAST] = success
    st.rerun()


def show_done_toast() -> None:
    """The confirmation of the action that caused this rerun (see ``_run``)."""
    message = st.session_state.pop(DONE_TOAST, None)
    if message:
        st.toast(message, icon=":material/check:")
