"""Authorisation and audit in the dashboard (the rules are ``ambon_core.access``).

Every page starts with ``require_page``; every action asks ``authorize`` first, which
re-reads the viewer's rights from SQL (no cache): a refusal is explained on screen,
written to the audit log, and changes nothing. ``may`` and ``alert_offer`` decide what
to offer at all, so the UI offers only what will be allowed.
"""

from __future__ import annotations

import streamlit as st

from ambon_core import access
from ambon_core.history import audit
from components import data, session
from components.kiosk import KioskPlan
from components.login import gate
from components.ui import t


def record(action: str, target: str, *, actor: str | None = None,
           **detail: str | int | float | None) -> None:
    """One audit entry by the viewer (or ``actor``)."""
    with session.db() as db:
        audit(db, actor or session.actor(), action, target, **detail)
        db.commit()


def require_page(page: str) -> access.Principal:
    """First line of every page: refuse politely (and audit) unless the viewer may see it.

    Runs the gate again: Streamlit can run a page file without ``app.py`` (a deep link
    to a fresh server finds ``pages/`` before any ``st.navigation`` call), so a page
    never trusts that the gate already ran."""
    user = gate(kiosk=KioskPlan.from_query(st.query_params) is not None)
    if access.can_view(user, page):
        return user
    denied = st.session_state.setdefault("_auth_denied_logged", set())
    if page not in denied:  # one audit entry per session and page, not one per rerun
        denied.add(page)
        record("access.denied", f"page:{page}")
    st.warning(t("access.denied"), icon=":material/lock:")
    st.page_link("pages/ringkasan.py", label=t("access.back"), icon=":material/arrow_back:")
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises


def refuse(action: str, target: str, item_opd: str | None) -> None:
    """Explain and audit a refused action (nothing else happens)."""
    record("access.denied", target, attempted=action, item_opd=item_opd)
    st.error(t("access.denied_action"), icon=":material/block:")


def authorize(action: str, item_opd: str | None, target: str, *,
              alert_opd: str | None = None, on_alert: bool = False) -> bool:
    """Before every action: the viewer's current rights from SQL (no cache). On an alert
    (``on_alert``) the right on the alert's department ``alert_opd`` is needed too."""
    user = session.fresh_user()
    allowed = (access.can_act_on_alert(user, action, alert_opd, item_opd) if on_alert
               else access.can_act(user, action, item_opd))
    if not allowed:
        refuse(action, target, item_opd)
    return allowed


def may(action: str, item_opd: str | None) -> bool:
    """Whether to offer an action at all (buttons); ``authorize`` still decides on use."""
    return access.can_act(session.viewer(), action, item_opd)


def alert_offer(page: str, alert_opd: str | None) -> access.AlertOffer:
    """What to offer on an alert shown on ``page``."""
    codes = [o.code for o in data.registry().opds]
    return access.alert_offer(session.viewer(), page, alert_opd, codes)
