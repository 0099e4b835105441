"""The alert list: newest and most severe first; each alert links to its page and item."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from ambon_core.domain import Alert
from components.fmt import age_text, percent, wit_time
from components.nav import ALERT_PAGE, PAGES
from components.ui import lang, t

SEVERITY_ICON = {3: ":material/error:", 2: ":material/warning:", 1: ":material/info:"}


def alert_text(alert: Alert, language: str) -> str:
    """One sentence for people, from the translation table and the alert's params."""
    from components.i18n import translate

    params = dict(alert.params)
    params.setdefault("name", alert.entity_id)
    if isinstance(params.get("fill"), int | float):
        params["fill_pct"] = percent(float(params["fill"]), language)
    return translate(f"alert.{alert.kind.value}", language, **params)


def sorted_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda a: (-a.severity, a.raised_at))


def render_alert_list(alerts: Iterable[Alert], *, key: str, limit: int = 12) -> None:
    """Alerts as touch-sized rows; text is rendered as text, never as HTML."""
    items = sorted_alerts(alerts)
    if not items:
        st.success(t("alerts.none"), icon=":material/check_circle:")
        return
    language = lang()
    for alert in items[:limit]:
        page = PAGES[ALERT_PAGE.get(alert.kind.value, "ringkasan")][0]
        since = age_text((alert.updated_at - alert.raised_at).total_seconds(), language)
        label = f"{wit_time(alert.raised_at)} · {alert_text(alert, language)} ({since})"
        st.page_link(page, label=_plain(label), icon=SEVERITY_ICON.get(alert.severity),
                     query_params={"focus": alert.entity_id}, width="stretch")
    if len(items) > limit:
        st.caption(f"+{len(items) - limit}")


def _plain(text: str) -> str:
    """Escape Markdown so feed text cannot format itself or inject links."""
    for ch in "\\`*_{}[]<>()#+-!|~:$":
        text = text.replace(ch, "\\" + ch)
    return text
