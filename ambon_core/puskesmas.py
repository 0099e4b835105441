"""Puskesmas opening status: a pure function of schedule, time and evidence."""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, timedelta

from ambon_core.domain import PuskesmasState, PuskesmasStatus
from ambon_core.registry import WEEKDAYS, OpeningHours, Puskesmas

LATE_GRACE_MIN = 0  # the city's rule: a public office opens on time


def todays_hours(pkm: Puskesmas, local_now: datetime) -> OpeningHours | None:
    """The opening-hours entry covering today's weekday, if any."""
    day = WEEKDAYS[local_now.weekday()]
    return next((h for h in pkm.hours if day in h.days_of_week), None)


def overnight(hours: OpeningHours) -> bool:
    """A closing time not after the opening time means the doors close the next day
    (20:00-02:00; 00:00-00:00 is open round the clock)."""
    return hours.closes <= hours.opens


def open_window(pkm: Puskesmas, local_now: datetime) -> tuple[OpeningHours, datetime] | None:
    """The schedule entry whose opening hours cover ``local_now`` and the moment it opened:
    today's entries, or yesterday's overnight entry still running after midnight."""
    clock, today = local_now.time(), local_now.replace(second=0, microsecond=0)
    yesterday = WEEKDAYS[(local_now.weekday() - 1) % 7]
    for h in pkm.hours:
        opened = today.replace(hour=h.opens.hour, minute=h.opens.minute)
        if WEEKDAYS[local_now.weekday()] in h.days_of_week and h.opens <= clock and (
                overnight(h) or clock < h.closes):
            return h, opened
        if yesterday in h.days_of_week and overnight(h) and clock < h.closes:
            return h, opened - timedelta(days=1)
    return None


def puskesmas_status(
    pkm: Puskesmas,
    local_now: datetime,
    *,
    door_open: bool | None = None,
    staff_checked_in: int | None = None,
    waiting: int | None = None,
    longest_wait_s: float | None = None,
    closed_on: Container[date] = frozenset(),
) -> PuskesmasState:
    """Status of one puskesmas at ``local_now`` (a WIT-aware datetime).

    Evidence of being open is the entrance camera's door state; without a camera,
    staff check-ins count. Within opening hours and without any evidence the status
    is honestly ``tidak_diketahui``. ``closed_on`` holds the local dates the puskesmas
    is closed (holidays, cuti bersama); an overnight shift belongs to the day it opened,
    so a shift begun on a working day runs on into a holiday, and none begins on one.
    """
    holiday = local_now.date() in closed_on
    window = open_window(pkm, local_now)
    if window is not None and window[1].date() in closed_on:
        window = None
    hours = window[0] if window else (None if holiday else todays_hours(pkm, local_now))
    state = PuskesmasState(puskesmas_id=pkm.id, waiting=waiting, longest_wait_s=longest_wait_s,
                           staff_checked_in=staff_checked_in, door_open=door_open)
    if not pkm.hours and not holiday:
        return state  # no schedule on file: unknown
    if hours is None:
        state.status = PuskesmasStatus.TUTUP
        return state
    state.scheduled_open, state.scheduled_close = hours.opening_time, hours.closing_time
    if window is None:
        state.status = PuskesmasStatus.TUTUP
        return state
    opened = door_open if door_open is not None else (
        None if staff_checked_in is None else staff_checked_in > 0)
    if opened is None:
        return state
    if opened:
        state.status = PuskesmasStatus.BUKA
        return state
    late = int((local_now.replace(second=0, microsecond=0) - window[1]).total_seconds() // 60)
    if late >= LATE_GRACE_MIN:
        state.status = PuskesmasStatus.BELUM_BUKA
        state.minutes_late = late
    return state
