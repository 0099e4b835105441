"""One status engine for every public service office: a pure function of the schedule, the
working-day calendar, the moment and the evidence (camera door/queue, ASN check-ins).

buka / belum buka / tutup / tidak diketahui, minutes late, citizens waiting, longest wait.
Used by the puskesmas (``ambon_core.puskesmas`` is a thin use of it) and by every other
office type: kantor kelurahan and negeri, Dukcapil, MPP, Samsat, puskesmas pembantu.

Rules, in order:

- a day the calendar closes (holiday, cuti bersama where it applies) is ``tutup`` - an
  overnight shift belongs to the day it began, so one begun on a working day runs on into
  a holiday and none begins on one;
- outside the hours in force (the season's: Ramadan hours are shorter) is ``tutup``;
- within them the camera's door state is the evidence; without a camera the office's own
  staff checked in at the office: none in (all elsewhere, or nobody) is ``belum buka``;
- no evidence at all is honestly ``tidak diketahui``, and so is a would-be "belum buka" on
  a day of a year whose calendar the city has not confirmed (a warning, not an alarm).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ambon_core.calendar import DayFacts
from ambon_core.domain import OfficeStatus, ServiceOfficeState
from ambon_core.registry import WEEKDAYS, OpeningHours

LATE_GRACE_MIN = 0  # the city's rule: a public office opens on time


@dataclass(frozen=True)
class OfficeDay:
    """The schedule in force for one office on one date, with the calendar's verdict."""

    hours: Sequence[OpeningHours]
    facts: DayFacts = DayFacts(None, "regular", True)


@dataclass(frozen=True)
class Evidence:
    """What the sensors say now; None = not known (no camera, no attendance feed)."""

    door_open: bool | None = None
    waiting: int | None = None
    longest_wait_s: float | None = None
    staff_in: int | None = None
    staff_elsewhere: int | None = None
    staff_expected: int | None = None


def overnight(hours: OpeningHours) -> bool:
    """A closing time not after the opening time means the doors close the next day
    (20:00-02:00; 00:00-00:00 is open round the clock)."""
    return hours.closes <= hours.opens


def hours_on(hours: Sequence[OpeningHours], local_now: datetime) -> OpeningHours | None:
    """The first entry covering ``local_now``'s weekday, if any."""
    day = WEEKDAYS[local_now.weekday()]
    return next((h for h in hours if day in h.days_of_week), None)


def open_window(today: OfficeDay, yesterday: OfficeDay,
                local_now: datetime) -> tuple[OpeningHours, datetime] | None:
    """The entry whose hours cover ``local_now`` and the moment it opened: today's entries
    (unless today is closed), or yesterday's overnight entry still running after midnight
    (unless yesterday was closed: that shift never began)."""
    clock, start = local_now.time(), local_now.replace(second=0, microsecond=0)
    weekday, before = WEEKDAYS[local_now.weekday()], WEEKDAYS[(local_now.weekday() - 1) % 7]
    if today.facts.closed is None:
        for h in today.hours:
            if weekday in h.days_of_week and h.opens <= clock and (overnight(h) or clock < h.closes):
                return h, start.replace(hour=h.opens.hour, minute=h.opens.minute)
    if yesterday.facts.closed is None:
        for h in yesterday.hours:
            if before in h.days_of_week and overnight(h) and clock < h.closes:
                opened = start.replace(hour=h.opens.hour, minute=h.opens.minute)
                return h, opened - timedelta(days=1)
    return None


def opened_by_evidence(ev: Evidence) -> tuple[bool | None, str | None]:
    """(open?, reason code): the door camera first, then the office's own check-ins."""
    if ev.door_open is not None:
        return ev.door_open, None if ev.door_open else "door_closed"
    if ev.staff_in is None:
        return None, "no_evidence"
    if ev.staff_in > 0:
        return True, None
    return False, "staff_elsewhere" if ev.staff_elsewhere else "no_checkin"


def office_status(office_id: str, office_type: str, local_now: datetime, today: OfficeDay,
                  yesterday: OfficeDay, evidence: Evidence = Evidence()) -> ServiceOfficeState:
    """Status of one office at ``local_now`` (a city-time aware datetime)."""
    state = ServiceOfficeState(
        office_id=office_id, office_type=office_type, season=today.facts.season,
        door_open=evidence.door_open, waiting=evidence.waiting,
        longest_wait_s=evidence.longest_wait_s, staff_in=evidence.staff_in,
        staff_elsewhere=evidence.staff_elsewhere, staff_expected=evidence.staff_expected)
    window = open_window(today, yesterday, local_now)
    if window is None and today.facts.closed is not None:
        state.status, state.reason, state.closed_reason = (OfficeStatus.TUTUP, "holiday",
                                                           today.facts.closed)
        return state
    if not today.hours and window is None:
        state.reason = "no_schedule"  # nothing on file: unknown, never an alarm
        return state
    hours = window[0] if window else hours_on(today.hours, local_now)
    if hours is not None:
        state.scheduled_open, state.scheduled_close = hours.opening_time, hours.closing_time
    if window is None:
        state.status, state.reason = OfficeStatus.TUTUP, "outside_hours"
        return state
    opened, state.reason = opened_by_evidence(evidence)
    if opened:
        state.status = OfficeStatus.BUKA
    elif opened is False:
        late = int((local_now.replace(second=0, microsecond=0) - window[1]).total_seconds() // 60)
        began = today if window[1].date() == local_now.date() else yesterday
        if not began.facts.confirmed:
            state.reason = "calendar_unconfirmed"  # could be a holiday nobody told us about
        elif late >= LATE_GRACE_MIN:
            state.status, state.minutes_late = OfficeStatus.BELUM_BUKA, late
    return state


def needs_alert(state: ServiceOfficeState) -> bool:
    """'Belum buka' while citizens wait, or while nobody can see (no camera: the staff's
    absence is the alarm)."""
    return state.status == OfficeStatus.BELUM_BUKA and (state.waiting is None or state.waiting > 0)
