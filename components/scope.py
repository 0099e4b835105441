"""Scoping data to the viewer: what the wall, a department head or the mayor may see.

Every figure a page shows is computed from what these functions return, so a count, a
median or a map point never includes an item the viewer may not see in the list.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ambon_core.access import can_see_incident
from ambon_core.domain import AlertKind
from ambon_core.privacy import category_text, public_view
from ambon_core.store import LiveState
from components.i18n import TEXT
from components.session import viewer
from components.ui import t


def _category_label(category: str) -> str:
    key = f"category.{category}"
    return t(key) if key in TEXT else category_text(category)


def scoped_live(state: LiveState) -> LiveState:
    """The public view on the wall screen; a department's own incident categories (and
    incident alerts) for an OPD head; everything for the mayor and admins."""
    user = viewer()
    if user is None or user.is_public:
        return public_view(state, _category_label)
    if user.role == "opd":
        incidents = {k: i for k, i in state.incidents.items() if can_see_incident(user, i.category)}
        alerts = {k: a for k, a in state.alerts.items() if a.kind != AlertKind.INCIDENT
                  or can_see_incident(user, str(a.params.get("category") or ""))}
        return replace(state, incidents=incidents, alerts=alerts)
    return state


def scoped_incidents(history: pd.DataFrame) -> pd.DataFrame:
    """Incident history rows (a ``category`` column) the viewer may see."""
    user = viewer()
    if user is None:
        return history.iloc[0:0]
    if user.role != "opd" or history.empty:
        return history
    return history[history["category"].map(lambda c: can_see_incident(user, str(c)))]
