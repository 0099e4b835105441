"""What a public screen may show: the one function every kiosk/wall view goes through.

Public means aggregates and places of the city, never people: no incident caller names,
phone numbers, exact addresses or free text (feed titles and descriptions may carry all
of them, so an incident is shown by its category only), no worker host names, no error
texts (they may hold camera or feed URLs with network addresses). Camera snapshots are
blurred by the workers before they reach Redis; nothing here shows any other picture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ambon_core.domain import Alert, AlertKind, CameraState, FeedStatus, Incident
from ambon_core.store import LiveState

# Alert parameters that name places, counts or public warnings, nothing personal.
PUBLIC_ALERT_PARAMS = frozenset({
    "name", "camera", "minutes_late", "waiting", "scheduled_open", "fill", "threshold",
    "magnitude", "depth_km", "distance_km", "wilayah", "event", "area", "queue",
    "congestion", "failures", "category", "polygon", "headline",
    "longest_s", "limit_s", "minutes", "limit_min", "share_pct", "abandoned", "calls", "limit_pct",
})
COORD_DECIMALS = 2  # about 1 km: the neighbourhood, not the house


def category_text(category: str) -> str:
    """'tanah_longsor' -> 'Tanah longsor' (the UI may pass its own translation instead)."""
    return category.replace("_", " ").strip().capitalize() or "-"


def _coarse(value: float | None) -> float | None:
    return None if value is None else round(value, COORD_DECIMALS)


def public_incident(incident: Incident, label: Callable[[str], str], n: int) -> Incident:
    """An incident as the public may see it: category as title, no text, no address."""
    return incident.model_copy(update={
        "incident_id": f"publik-{n}", "source": "-", "title": label(incident.category),
        "description": "", "address": None, "lat": _coarse(incident.lat),
        "lon": _coarse(incident.lon)})


def public_alert(alert: Alert, label: Callable[[str], str], incidents: dict[str, Incident],
                 n: int = 0) -> Alert:
    """Alert parameters reduced to the public ones; an incident alert names its category
    and gets an opaque id (incident ids from feeds may hold anything)."""
    params = {k: v for k, v in alert.params.items() if k in PUBLIC_ALERT_PARAMS}
    update: dict[str, object] = {"params": params}
    if alert.kind == AlertKind.INCIDENT:
        incident = incidents.get(alert.entity_id)
        category = str(alert.params.get("category") or (incident.category if incident else ""))
        update = {"params": {"name": label(category) if category else "-"},
                  "entity_id": f"publik-{n}", "alert_id": f"incident:publik-{n}"}
    return alert.model_copy(update=update)


def public_camera(state: CameraState) -> CameraState:
    """Camera analysis and up/down, without the worker (host) that reads it."""
    return state.model_copy(update={"worker": None})


def public_feed(status: FeedStatus) -> FeedStatus:
    """Feed health without its error text (which may hold a URL)."""
    return status.model_copy(update={"last_error": None})


def public_view(live: LiveState, category_label: Callable[[str], str] = category_text) -> LiveState:
    """The live state as a public screen may show it (a new object; ``live`` is untouched)."""
    incidents = {f"publik-{n}": public_incident(i, category_label, n)
                 for n, i in enumerate(sorted(live.incidents.values(),
                                              key=lambda i: i.reported_at), start=1)}
    alerts = {a.alert_id: a for a in (public_alert(alert, category_label, live.incidents, n)
                                      for n, alert in enumerate(live.alerts.values(), start=1))}
    return replace(
        live, incidents=incidents, alerts=alerts,
        cameras={k: public_camera(c) for k, c in live.cameras.items()},
        feeds={k: public_feed(f) for k, f in live.feeds.items()},
        heartbeats={},  # worker names, hosts and pids are not the public's business
        calls=live.calls.counts_only() if live.calls is not None else None,  # no numbers at all
    )
