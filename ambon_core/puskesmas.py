"""Puskesmas opening status: a pure function of schedule, time and evidence."""

from __future__ import annotations

from datetime import datetime

from ambon_core.domain import PuskesmasState, PuskesmasStatus
from ambon_core.registry import WEEKDAYS, OpeningHours, Puskesmas

LATE_GRACE_MIN = 0  # the city's rule: a public office opens on time


def todays_hours(pkm: Puskesmas, local_now: datetime) -> OpeningHours | None:
    """The opening-hours entry covering today's weekday, if any."""
    day = WEEKDAYS[local_now.weekday()]
    return next((h for h in pkm.hours if day in h.days_of_week), None)


def puskesmas_status(
    pkm: Puskesmas,
    local_now: datetime,
    *,
    door_open: bool | None = None,
    staff_checked_in: int | None = None,
    waiting: int | None = None,
    longest_wait_s: float | None = None,
    holiday: bool = False,
) -> PuskesmasState:
    """Status of one puskesmas at ``local_now`` (a WIT-aware datetime).

    Evidence of being open is the entrance camera's door state; without a camera,
    staff check-ins count. Within opening hours and without any evidence the status
    is honestly ``tidak_diketahui``.
    """
    hours = None if holiday else todays_hours(pkm, local_now)
    state = PuskesmasState(puskesmas_id=pkm.id, waiting=waiting, longest_wait_s=longest_wait_s,
                           staff_checked_in=staff_checked_in, door_open=door_open)
    if not pkm.hours and not holiday:
        return state  # no schedule on file: unknown
    if hours is None:
        state.status = PuskesmasStatus.TUTUP
        return state
    state.scheduled_open, state.scheduled_close = hours.opening_time, hours.closing_time
    clock = local_now.time()
    if not (hours.opens <= clock < hours.closes):
        state.status = PuskesmasStatus.TUTUP
        return state
    opened = door_open if door_open is not None else (
        None if staff_checked_in is None else staff_checked_in > 0)
    if opened is None:
        return state
    if opened:
        state.status = PuskesmasStatus.BUKA
        return state
    late = int((clock.hour * 60 + clock.minute) - (hours.opens.hour * 60 + hours.opens.minute))
    if late >= LATE_GRACE_MIN:
        state.status = PuskesmasStatus.BELUM_BUKA
        state.minutes_late = late
    return state
