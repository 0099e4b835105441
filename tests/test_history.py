"""SQL is the record: status changes and alerts are kept, and Redis is rebuilt from it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.alerts import sync_alerts
from ambon_core.domain import (
    Alert,
    AlertKind,
    IncidentStatus,
    PuskesmasState,
    PuskesmasStatus,
    TpsState,
    utcnow,
)
from ambon_core.history import rebuild_live_state, record_puskesmas_change, record_tps_fill
from ambon_core.models import AlertRecord, IncidentRecord
from ambon_core.store import Store


def _incident(session: Session, incident_id: str, status: IncidentStatus) -> None:
    now = utcnow()
    session.add(IncidentRecord(incident_id=incident_id, source="open311", category="banjir",
                               title="Banjir", status=status.value, reported_at=now,
                               updated_at=now, agencies=["bpbd"]))


def test_rebuild_restores_open_state_only(session: Session, store: Store) -> None:
    _incident(session, "112-open", IncidentStatus.DISPATCHED)
    _incident(session, "112-done", IncidentStatus.RESOLVED)
    earlier = utcnow() - timedelta(minutes=5)
    record_puskesmas_change(session, PuskesmasState(
        puskesmas_id="pkm-a", status=PuskesmasStatus.BELUM_BUKA, minutes_late=5,
        updated_at=earlier))
    record_puskesmas_change(session, PuskesmasState(puskesmas_id="pkm-a",
                                                    status=PuskesmasStatus.BUKA))
    record_tps_fill(session, TpsState(tps_id="tps-a", fill=0.4, updated_at=earlier))
    record_tps_fill(session, TpsState(tps_id="tps-a", fill=0.9))
    from ambon_core.domain import ServiceOfficeState
    from ambon_core.spool import OPS

    for state in (ServiceOfficeState(office_id="dukcapil-1", office_type="dukcapil",
                                     status=PuskesmasStatus.BELUM_BUKA, reason="no_checkin",
                                     minutes_late=12, updated_at=earlier),
                  ServiceOfficeState(office_id="dukcapil-1", office_type="dukcapil",
                                     status=PuskesmasStatus.BUKA)):
        OPS["office_changes"](session, {"states": [state.model_dump(mode="json")]})
    session.commit()
    assert store.is_empty()
    counts = rebuild_live_state(session, store)
    live = store.read_live()
    assert counts == {"incidents": 1, "alerts": 0, "puskesmas": 1, "tps": 1, "offices": 1}
    assert live.offices["dukcapil-1"].status == PuskesmasStatus.BUKA  # the last change
    assert set(live.incidents) == {"112-open"}
    assert live.incidents["112-open"].agencies == ["bpbd"]
    assert live.puskesmas["pkm-a"].status == PuskesmasStatus.BUKA
    assert live.tps["tps-a"].fill == 0.9
    assert not store.is_empty()


def test_alert_lifecycle_keeps_its_duration(session: Session, store: Store) -> None:
    late = Alert(alert_id="puskesmas_late:pkm-a", kind=AlertKind.PUSKESMAS_LATE,
                 entity_id="pkm-a", params={"waiting": 4})
    raised, cleared = sync_alerts(store, session, [AlertKind.PUSKESMAS_LATE], [late])
    assert raised == ["puskesmas_late:pkm-a"] and cleared == []
    first_raise = store.read_live().alerts["puskesmas_late:pkm-a"].raised_at
    again = late.model_copy(update={"params": {"waiting": 7}, "raised_at": utcnow()})
    assert sync_alerts(store, session, [AlertKind.PUSKESMAS_LATE], [again]) == ([], [])
    kept = store.read_live().alerts["puskesmas_late:pkm-a"]
    assert kept.raised_at == first_raise and kept.params["waiting"] == 7
    # another worker's alerts are not touched by this one's sync
    store.put(Alert(alert_id="other", kind=AlertKind.TPS_OVERFLOW, entity_id="tps-a"))
    assert sync_alerts(store, session, [AlertKind.PUSKESMAS_LATE], []) == \
        ([], ["puskesmas_late:pkm-a"])
    assert set(store.read_live().alerts) == {"other"}
    row = session.scalars(select(AlertRecord)).one()
    assert row.cleared_at is not None and row.cleared_at >= row.raised_at
    # a Redis loss re-creates only the alert that is still open in SQL
    store.r.flushdb()
    rebuild_live_state(session, store)
    assert store.read_live().alerts == {}


def test_a_replayed_camera_minute_rewrites_its_row(session) -> None:
    """camera_minutes is one INSERT ... ON CONFLICT DO UPDATE (SQLite and PostgreSQL): the
    spool replaying a minute already written updates it, never doubles or fails."""
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from ambon_core.models import CameraMinute
    from workers.camera.worker import _camera_minutes

    minute = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    row = {"camera_id": "cam-01", "minute": minute.isoformat(), "kind": "traffic",
           "crossings": {"garis": {"in:car": 3}}, "objects_mean": {"car": 1.5},
           "congestion": "lancar", "queue_max": None, "fill": None, "frames": 120}
    _camera_minutes(session, {"rows": [row]})
    session.commit()
    _camera_minutes(session, {"rows": [{**row, "crossings": {"garis": {"in:car": 4}},
                                        "frames": 121}]})
    session.commit()
    assert session.scalar(select(func.count()).select_from(CameraMinute)) == 1
    stored = session.scalar(select(CameraMinute))
    assert stored.crossings == {"garis": {"in:car": 4}} and stored.frames == 121
