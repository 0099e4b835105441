"""What a public screen may show: the one function every kiosk/wall view goes through.

Public means aggregates and places of the city, never people: no incident caller names,
phone numbers, exact addresses or free text (feed titles and descriptions may carry all
of them, so an incident is shown by its category only), no worker host names, no error
texts (they may hold camera or feed URLs with network addresses).

The wall shows **no camera pixels at all**: camera snapshots are blurred by the workers
before they reach Redis, but a blur can miss (a face in a window the background model
learnt), and a wall in a public hall is photographed. ``public_view`` returns a
:class:`PublicLiveState`, for which :func:`camera_pixels_allowed` is False; the UI's only
way to a snapshot asks it first (``components.data.camera_snapshot``). Everything else
passes through allow-lists: a field added later to ``LiveState`` or to a camera or feed
state stays off the wall until it is named here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from ambon_core.alert_kinds import public_params
from ambon_core.domain import Alert, AlertKind, CameraState, FeedStatus, Incident, ServiceOfficeState
from ambon_core.store import LiveState

# Alert parameters that name places, counts or public warnings, nothing personal.
PUBLIC_ALERT_PARAMS = public_params()  # each kind's own list: ambon_core.alert_kinds
COORD_DECIMALS = 2  # about 1 km: the neighbourhood, not the house
# What of a camera's state the wall shows: its analysis and whether it is up (not which
# host reads it, nor anything added to CameraState later).
PUBLIC_CAMERA_FIELDS = ("camera_id", "kind", "status", "objects", "line_counts", "congestion",
                        "occupancy", "mean_speed_px_s", "parking_occupied", "parking_total",
                        "queue_len", "longest_wait_s", "door_open", "fill", "capture_fps",
                        "infer_fps", "infer_ms", "skipped_frames", "reconnects", "last_frame_at",
                        "analysis_withheld", "updated_at")
# whether an office is open and how long its queue is are public; its staff's check-ins are not
PUBLIC_OFFICE_FIELDS = ("office_id", "office_type", "status", "reason", "closed_reason", "hours_source",
                        "season", "minutes_late", "waiting", "longest_wait_s", "door_open",
                        "scheduled_open", "scheduled_close", "calendar_warning", "updated_at")
PUBLIC_FEED_FIELDS = ("feed", "ok", "last_ok_at", "records", "consecutive_failures", "updated_at")


@dataclass(frozen=True)
class PublicLiveState(LiveState):
    """The live state as a public screen gets it (built only by :func:`public_view`)."""


def camera_pixels_allowed(live: LiveState) -> bool:
    """Whether a screen showing ``live`` may show camera pictures: never the public wall."""
    return not isinstance(live, PublicLiveState)


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


M = TypeVar("M", bound=BaseModel)


def _only(model: M, fields: tuple[str, ...]) -> M:
    """A new model of the same class holding only ``fields`` (the rest at their defaults)."""
    return type(model).model_validate({k: getattr(model, k) for k in fields})


def public_camera(state: CameraState) -> CameraState:
    """Camera analysis and up/down, without the worker (host) that reads it."""
    return _only(state, PUBLIC_CAMERA_FIELDS)


def public_office(state: ServiceOfficeState) -> ServiceOfficeState:
    """An office's status and queue, without its staff figures (ASN attendance)."""
    return _only(state, PUBLIC_OFFICE_FIELDS)


def public_feed(status: FeedStatus) -> FeedStatus:
    """Feed health without its error text (which may hold a URL)."""
    return _only(status, PUBLIC_FEED_FIELDS)


def public_view(live: LiveState, category_label: Callable[[str], str] = category_text) -> PublicLiveState:
    """The live state as a public screen may show it (a new object; ``live`` is untouched):
    only the fields named here, and no camera pixels (:func:`camera_pixels_allowed`)."""
    incidents = {f"publik-{n}": public_incident(i, category_label, n)
                 for n, i in enumerate(sorted(live.incidents.values(),
                                              key=lambda i: i.reported_at), start=1)}
    alerts = {a.alert_id: a for a in (public_alert(alert, category_label, live.incidents, n)
                                      for n, alert in enumerate(live.alerts.values(), start=1))}
    return PublicLiveState(  # heartbeats stay empty: worker hosts and pids are not public
        incidents=incidents, alerts=alerts,
        cameras={k: public_camera(c) for k, c in live.cameras.items()},
        feeds={k: public_feed(f) for k, f in live.feeds.items()},
        offices={k: public_office(o) for k, o in live.offices.items()},
        puskesmas=dict(live.puskesmas), tps=dict(live.tps), attendance=dict(live.attendance),
        calls=live.calls.counts_only() if live.calls is not None else None,  # no numbers at all
        read_at=live.read_at)
