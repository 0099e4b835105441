"""The record of every service office's status changes (the puskesmas keep their own table
too, for Dinkes' punctuality): written by the status worker, read by Layanan Publik."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ambon_core.domain import OfficeStatus, ServiceOfficeState
from ambon_core.models import OfficeStatusChange
from ambon_core.spool import history_op


@history_op("office_changes")
def _office_changes(session: Session, payload: dict) -> None:
    """Idempotent: a spool replay writes nothing twice."""
    for raw in payload["states"]:
        state = ServiceOfficeState.model_validate(raw)
        if session.scalar(select(OfficeStatusChange.id).where(
                OfficeStatusChange.office_id == state.office_id,
                OfficeStatusChange.at == state.updated_at,
                OfficeStatusChange.status == state.status.value).limit(1)) is None:
            session.add(OfficeStatusChange(
                office_id=state.office_id, office_type=state.office_type,
                status=state.status.value, reason=state.reason,
                minutes_late=state.minutes_late, waiting=state.waiting, at=state.updated_at))


def last_office_states(session: Session) -> list[ServiceOfficeState]:
    """Each office's last recorded status (for a Redis that lost its live state); its
    ``updated_at`` is the change's time, so a page marks it as old until the status
    worker's next turn writes the current one."""
    latest = select(OfficeStatusChange.office_id, func.max(OfficeStatusChange.id).label("last")
                    ).group_by(OfficeStatusChange.office_id).subquery()
    rows = session.scalars(select(OfficeStatusChange).join(
        latest, OfficeStatusChange.id == latest.c.last))
    return [ServiceOfficeState(office_id=r.office_id, office_type=r.office_type,
                               status=OfficeStatus(r.status), reason=r.reason,
                               minutes_late=r.minutes_late, waiting=r.waiting, updated_at=r.at)
            for r in rows]
