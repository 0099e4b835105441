"""The alert list: most severe and oldest first; each alert opens its page and item."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from ambon_core.access import can_view
from ambon_core.domain import Alert
from components import wall
from components.actions_ui import render_alert_actions
from components.alert_text import alert_text
from components.fmt import age_text, wit_time
from components.nav import ALERT_PAGE, PAGES
from components.session import viewer
from components.text import plain
from components.ui import lang, on_wall, t

SEVERITY_ICON = {3: ":material/error:", 2: ":material/warning:", 1: ":material/info:"}
SEVERITY_COLOUR = {3: "red", 2: "orange", 1: "blue"}


def sorted_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda a: (-a.severity, a.raised_at))


def render_alert_list(alerts: Iterable[Alert], *, key: str, page: str, limit: int = 8,
                      links: bool = True, actions: bool = True) -> None:
    """Alerts as touch-sized rows on ``page``; feed text is shown as text, never as
    Markdown or HTML. Actions appear only where the viewer may take them."""
    items = sorted_alerts(alerts)
    links = links and not on_wall()  # the wall has no one to tap, and its pages need a login
    actions = actions and not on_wall()
    if not items:
        st.success(t("alerts.none"), icon=":material/check_circle:")
        return
    language = lang()
    shown, note = wall.wall_slice(items, limit, language) if on_wall() else (items[:limit], None)
    for alert in shown:
        since = age_text((alert.updated_at - alert.raised_at).total_seconds(), language)
        colour = SEVERITY_COLOUR.get(alert.severity, "gray")
        with st.container(border=True):
            st.markdown(f":{colour}[{SEVERITY_ICON.get(alert.severity, '')}] "
                        f"**{wit_time(alert.raised_at)}** · {plain(alert_text(alert, language))}"
                        f" · :gray[{since}]")
            page_of = ALERT_PAGE.get(alert.kind.value, "ringkasan")
            link = links and can_view(viewer(), page_of)  # no link to a page that refuses
            if link or actions:
                left, right = st.columns(2)
            if link:
                target = PAGES[page_of][0]
                with left:
                    st.page_link(target, label=t("alerts.open"), icon=":material/arrow_forward:",
                                 query_params={"focus": alert.entity_id})
            if actions:
                with right:
                    render_alert_actions(alert, key=f"{key}_{alert.alert_id}", page=page)
    if note:
        st.caption(note)  # the wall pages through every alert by itself
    elif len(items) > limit:
        st.caption(t("alerts.more", n=len(items) - limit))

