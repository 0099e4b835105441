"""The dashboard's read-only data access: live state from Redis, history from SQL.

Connections are created once per server process (``st.cache_resource``, shared by all
sessions). The live read is cached for ``ui_shared_cache_s`` (about 1 s) across
sessions, so ten screens on the same page cost one Redis round trip per second,
not ten.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pandas as pd
import redis
import streamlit as st
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ambon_core.actions import InstructionView, instructions
from ambon_core.db import engine_for
from ambon_core.domain import utcnow
from ambon_core.models import (
    CameraMinute,
    IncidentRecord,
    IncidentStatusChange,
    PuskesmasStatusChange,
    TpsFill,
    WasteTrip,
)
from ambon_core.privacy import camera_pixels_allowed
from ambon_core.redis_server import connect
from ambon_core.registry import Registry, load_registry
from ambon_core.settings import Settings, get_settings
from ambon_core.store import LiveState, SharpPicture, Store

log = logging.getLogger(__name__)
SNAPSHOT_PERIOD_S = 2.0


@st.cache_resource
def settings() -> Settings:
    return get_settings()


@st.cache_resource
def registry() -> Registry:
    """The site registry, validated once per server process."""
    return load_registry(settings().registry_path)


@st.cache_resource
def store() -> Store:
    s = settings()
    return Store(connect(s, check=False), s.key_prefix, s.stream_maxlen)


# The period number is a hashed parameter on purpose: Streamlit does not hash
# parameters whose names start with "_", so "_bucket" would make every period share one
# cache entry until the TTL ran out. The TTL only bounds memory.
@st.cache_data(ttl=60, show_spinner=False, max_entries=4)
def _shared_live(period: int) -> LiveState | None:
    try:
        return store().read_live()
    except (redis.RedisError, OSError) as exc:
        log.warning("live read failed: %s", exc)
        return None


def live() -> LiveState | None:
    """The live state, shared across sessions for about a second; None when Redis is down."""
    period = max(0.2, settings().ui_shared_cache_s)
    return _shared_live(int(utcnow().timestamp() / period))


@st.cache_data(ttl=30, show_spinner=False, max_entries=500)
def snapshot(camera_id: str, period: int) -> bytes | None:
    try:
        return store().snapshot(camera_id)
    except (redis.RedisError, OSError):
        return None


def camera_snapshot(camera_id: str, live: LiveState) -> bytes | None:
    """The latest blurred snapshot of a camera (shared across sessions for 2 s, so a
    camera that lost its signal stops showing its last frame within 2 s); None for a
    screen showing the public view (``privacy.camera_pixels_allowed``: the wall shows none)."""
    if not camera_pixels_allowed(live):
        return None
    return snapshot(camera_id, int(utcnow().timestamp() / SNAPSHOT_PERIOD_S))


def sharp_picture(camera_id: str, live: LiveState) -> SharpPicture | None:
    """The blurred main-stream picture asked for on the Kamera page, read fresh (it is
    one viewer's own request); None on the public view or while Redis is down."""
    if not camera_pixels_allowed(live):
        return None
    try:
        return store().sharp(camera_id)
    except (redis.RedisError, OSError):
        return None


def request_sharp(camera_id: str) -> bool:
    """Ask the camera's worker for a sharp picture; False while Redis is down."""
    try:
        store().request_sharp(camera_id)
        return True
    except (redis.RedisError, OSError) as exc:
        log.warning("sharp picture request failed: %s", exc)
        return False


def _query(stmt, columns: list[str]) -> pd.DataFrame:
    try:
        with engine_for(settings().database_url).connect() as conn:
            rows = conn.execute(stmt).all()
    except SQLAlchemyError as exc:
        log.warning("history read failed: %s", exc)
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(rows, columns=columns)


def range_start(choice: str, now: datetime | None = None) -> datetime:
    """Start of a history range: 'today' (WIT midnight), '24h' or '7d'."""
    now = now or utcnow()
    if choice == "today":
        local = now.astimezone(settings().tz)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)
    return now - (timedelta(days=7) if choice == "7d" else timedelta(hours=24))


def _between(column, since: datetime, until: datetime | None):
    return column >= since if until is None else column.between(since, until)


@st.cache_data(ttl=30, show_spinner=False)
def puskesmas_changes(since: datetime, until: datetime | None = None) -> pd.DataFrame:
    t = PuskesmasStatusChange
    return _query(select(t.puskesmas_id, t.status, t.minutes_late, t.waiting, t.at)
                  .where(_between(t.at, since, until)).order_by(t.at),
                  ["puskesmas_id", "status", "minutes_late", "waiting", "at"])


@st.cache_data(ttl=30, show_spinner=False)
def tps_fill_history(since: datetime, until: datetime | None = None) -> pd.DataFrame:
    return _query(select(TpsFill.tps_id, TpsFill.at, TpsFill.fill)
                  .where(_between(TpsFill.at, since, until))
                  .order_by(TpsFill.at), ["tps_id", "at", "fill"])


@st.cache_data(ttl=30, show_spinner=False)
def camera_minutes(since: datetime, until: datetime | None = None) -> pd.DataFrame:
    t = CameraMinute
    return _query(select(t.camera_id, t.minute, t.kind, t.crossings, t.congestion, t.queue_max,
                         t.fill).where(_between(t.minute, since, until)).order_by(t.minute),
                  ["camera_id", "minute", "kind", "crossings", "congestion", "queue_max", "fill"])


@st.cache_data(ttl=30, show_spinner=False)
def incidents(since: datetime, until: datetime | None = None) -> pd.DataFrame:
    """Incidents reported since ``since`` with their lifecycle times (no caller identity)."""
    t = IncidentRecord
    cols = ["incident_id", "category", "severity", "status", "agencies", "kecamatan",
            "reported_at", "dispatched_at", "on_scene_at", "resolved_at", "closed_at"]
    return _query(select(*(getattr(t, c) for c in cols))
                  .where(_between(t.reported_at, since, until)), cols)


@st.cache_data(ttl=10, show_spinner=False)
def incident_timeline(incident_id: str) -> pd.DataFrame:
    """Every status change of one incident, in order."""
    c = IncidentStatusChange
    return _query(select(c.at, c.status, c.agency).join(IncidentRecord)
                  .where(IncidentRecord.incident_id == incident_id).order_by(c.at),
                  ["at", "status", "agency"])


@st.cache_data(ttl=30, show_spinner=False)
def waste_trips(since: datetime, until: datetime | None = None) -> pd.DataFrame:
    w = WasteTrip
    return _query(select(w.tps_id, w.truck_id, w.emptied_at, w.tonnage_kg)
                  .where(_between(w.emptied_at, since, until)).order_by(w.emptied_at),
                  ["tps_id", "truck_id", "emptied_at", "tonnage_kg"])


def open_instructions(opd: str | None = None) -> list[InstructionView]:
    """Open instructions (all, or one department's); read fresh, they change by our hand."""
    try:
        with session() as s:
            return instructions(s, opd=opd)
    except SQLAlchemyError as exc:
        log.warning("instructions read failed: %s", exc)
        return []


def session():
    """A SQL session for the UI's own writes (actions); pages never write elsewhere."""
    from ambon_core.db import session_factory

    return session_factory(engine_for(settings().database_url))()


@st.cache_data(ttl=30, show_spinner=False)
def office_changes(since: datetime, until: datetime | None = None) -> pd.DataFrame:
    """Status changes of every service office (Layanan Publik's punctuality)."""
    from ambon_core.models import OfficeStatusChange as t

    return _query(select(t.office_id, t.status, t.minutes_late, t.waiting, t.at)
                  .where(_between(t.at, since, until)).order_by(t.at),
                  ["office_id", "status", "minutes_late", "waiting", "at"])

