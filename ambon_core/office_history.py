"""The record of every service office's status changes (the puskesmas keep their own table
too, for Dinkes' punctuality): written by the status worker, read by Layanan Publik."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.domain import ServiceOfficeState
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
