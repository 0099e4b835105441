"""Writing the record to SQL, and rebuilding Redis live state from it.

Converters ``*_from_*`` turn between SQL rows and live domain objects, so the
rebuild after a Redis loss and the normal write path share one mapping.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ambon_core.domain import (
    Alert,
    Incident,
    IncidentStatus,
    PuskesmasState,
    PuskesmasStatus,
    TpsState,
    utcnow,
)
from ambon_core.models import (
    AlertRecord,
    AuditLog,
    IncidentRecord,
    PuskesmasStatusChange,
    TpsFill,
)
from ambon_core.office_history import last_office_states
from ambon_core.spool import history_op
from ambon_core.store import Store

log = logging.getLogger(__name__)


def record_puskesmas_change(session: Session, state: PuskesmasState) -> None:
    """Append a status change row (callers pass only real changes)."""
    session.add(PuskesmasStatusChange(
        puskesmas_id=state.puskesmas_id, status=state.status.value,
        minutes_late=state.minutes_late, waiting=state.waiting, at=state.updated_at))


def record_alert_raised(session: Session, alert: Alert) -> None:
    session.add(AlertRecord(
        alert_id=alert.alert_id, kind=alert.kind.value, entity_id=alert.entity_id,
        severity=alert.severity, opd=alert.opd, params=dict(alert.params),
        raised_at=alert.raised_at))


def record_alert_cleared(session: Session, alert_id: str, at: datetime | None = None,
                         raised_at: datetime | None = None) -> None:
    """Close the open record of an alert, keeping how long it lasted; with ``raised_at``
    only a record raised by then (a replayed clear never closes a later raise)."""
    query = select(AlertRecord).where(AlertRecord.alert_id == alert_id,
                                      AlertRecord.cleared_at.is_(None))
    if raised_at is not None:
        query = query.where(AlertRecord.raised_at <= raised_at)
    row = session.scalars(query.order_by(AlertRecord.raised_at.desc())).first()
    if row is not None:
        row.cleared_at = at or utcnow()


def record_tps_fill(session: Session, state: TpsState) -> None:
    if state.fill is not None:
        session.add(TpsFill(tps_id=state.tps_id, at=state.updated_at, fill=state.fill,
                            source=state.source))


# ---- history operations (idempotent: a spool replay writes nothing twice) ------------------
@history_op("puskesmas_changes")
def _puskesmas_changes(session: Session, payload: dict) -> None:
    for raw in payload["states"]:
        state = PuskesmasState.model_validate(raw)
        if session.scalar(select(PuskesmasStatusChange.id).where(
                PuskesmasStatusChange.puskesmas_id == state.puskesmas_id,
                PuskesmasStatusChange.at == state.updated_at,
                PuskesmasStatusChange.status == state.status.value).limit(1)) is None:
            record_puskesmas_change(session, state)


@history_op("tps_fills")
def _tps_fills(session: Session, payload: dict) -> None:
    for raw in payload["states"]:
        state = TpsState.model_validate(raw)
        if session.scalar(select(TpsFill.id).where(
                TpsFill.tps_id == state.tps_id, TpsFill.at == state.updated_at).limit(1)) is None:
            record_tps_fill(session, state)


@history_op("alerts")
def _alerts(session: Session, payload: dict) -> None:
    """Alerts raised (kept once per id and raise time) and cleared (with their raise time)."""
    for raw in payload["raised"]:
        alert = Alert.model_validate(raw)
        if session.scalar(select(AlertRecord.id).where(
                AlertRecord.alert_id == alert.alert_id,
                AlertRecord.raised_at == alert.raised_at).limit(1)) is None:
            record_alert_raised(session, alert)
    at = datetime.fromisoformat(payload["at"])
    for cleared in payload["cleared"]:
        record_alert_cleared(session, cleared["alert_id"], at,
                             datetime.fromisoformat(cleared["raised_at"]))


def audit(session: Session, actor: str, action: str, target: str | None = None,
          **detail: str | int | float | None) -> None:
    """Append to the audit log (never with passwords, caller names or phone numbers)."""
    session.add(AuditLog(at=utcnow(), actor=actor, action=action, target=target, detail=detail))


def incident_from_record(row: IncidentRecord) -> Incident:
    return Incident(
        incident_id=row.incident_id, source=row.source, category=row.category, title=row.title,
        description=row.description, status=IncidentStatus(row.status), severity=row.severity,
        agencies=list(row.agencies or []), lat=row.lat, lon=row.lon, kecamatan=row.kecamatan,
        address=row.address, reported_at=row.reported_at, updated_at=row.updated_at)


def rebuild_live_state(session: Session, store: Store) -> dict[str, int]:
    """Refill an empty Redis from the record: open incidents, active alerts, the last
    puskesmas status, the last TPS fill and every service office's last status.
    Returns how many of each were restored."""
    open_statuses = [s.value for s in IncidentStatus if s.is_open]
    incidents = [incident_from_record(r) for r in session.scalars(
        select(IncidentRecord).where(IncidentRecord.status.in_(open_statuses)))]
    alerts = [Alert(alert_id=a.alert_id, kind=a.kind, entity_id=a.entity_id, severity=a.severity,
                    opd=a.opd, params=a.params, raised_at=a.raised_at, updated_at=a.raised_at)
              for a in session.scalars(select(AlertRecord).where(AlertRecord.cleared_at.is_(None)))]
    latest_pkm = select(PuskesmasStatusChange.puskesmas_id,
                        func.max(PuskesmasStatusChange.id).label("last")).group_by(
        PuskesmasStatusChange.puskesmas_id).subquery()
    puskesmas = [PuskesmasState(puskesmas_id=r.puskesmas_id, status=PuskesmasStatus(r.status),
                                minutes_late=r.minutes_late, waiting=r.waiting, updated_at=r.at)
                 for r in session.scalars(select(PuskesmasStatusChange).join(
                     latest_pkm, PuskesmasStatusChange.id == latest_pkm.c.last))]
    latest_tps = select(TpsFill.tps_id, func.max(TpsFill.id).label("last")).group_by(
        TpsFill.tps_id).subquery()
    tps = [TpsState(tps_id=r.tps_id, fill=r.fill, source=r.source, updated_at=r.at)
           for r in session.scalars(select(TpsFill).join(latest_tps, TpsFill.id == latest_tps.c.last))]
    offices = last_office_states(session)
    states = [*incidents, *alerts, *puskesmas, *tps, *offices]
    if states:
        store.put(*states)
    store.mark_rebuilt()
    counts = {"incidents": len(incidents), "alerts": len(alerts),
              "puskesmas": len(puskesmas), "tps": len(tps), "offices": len(offices)}
    log.info("live state rebuilt from SQL: %s", counts)
    return counts
