"""One alert as a sentence for people (pure: translation table, Indonesian figures)."""

from __future__ import annotations

from ambon_core.domain import Alert
from components.fmt import figure, percent
from components.i18n import translate


def alert_text(alert: Alert, language: str) -> str:
    """One sentence for people, from the translation table and the alert's params."""
    params = dict(alert.params)
    params.setdefault("name", alert.entity_id)
    if isinstance(params.get("fill"), int | float):
        params["fill_pct"] = percent(float(params["fill"]), language)
    for name, value in params.items():  # M5,2 and 12,3 km on an Indonesian screen
        if isinstance(value, float):
            params[name] = figure(value, language)
    return translate(f"alert.{alert.kind.value}", language, **params)
