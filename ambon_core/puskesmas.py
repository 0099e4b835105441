"""Puskesmas opening status: the service-office engine (``ambon_core.service_status``)
applied to a puskesmas, in the puskesmas' own vocabulary (``PuskesmasState``)."""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, timedelta

from ambon_core.calendar import DayFacts
from ambon_core.domain import PuskesmasState, ServiceOfficeState
from ambon_core.registry import OpeningHours, Puskesmas
from ambon_core.service_status import Evidence, OfficeDay, hours_on, office_status, overnight
from ambon_core.service_status import open_window as office_window

__all__ = ["overnight", "open_window", "puskesmas_status", "todays_hours"]


def todays_hours(pkm: Puskesmas, local_now: datetime) -> OpeningHours | None:
    """The opening-hours entry covering today's weekday, if any."""
    return hours_on(pkm.hours, local_now)


def open_window(pkm: Puskesmas, local_now: datetime) -> tuple[OpeningHours, datetime] | None:
    """The schedule entry covering ``local_now`` and when it opened (no closures)."""
    day = OfficeDay(tuple(pkm.hours))
    return office_window(day, day, local_now)


def _day(pkm: Puskesmas, day: date, closed_on: Container[date],
         facts: DayFacts | None) -> OfficeDay:
    if facts is None:
        facts = DayFacts(None, "regular", True)
    if day in closed_on and facts.closed is None:
        facts = DayFacts("closed", facts.season, facts.confirmed)
    return OfficeDay(tuple(pkm.hours), facts)


def puskesmas_status(
    pkm: Puskesmas,
    local_now: datetime,
    *,
    door_open: bool | None = None,
    staff_checked_in: int | None = None,
    waiting: int | None = None,
    longest_wait_s: float | None = None,
    closed_on: Container[date] = frozenset(),
    calendar_days: tuple[DayFacts, DayFacts] | None = None,
) -> PuskesmasState:
    """Status of one puskesmas at ``local_now`` (a WIT-aware datetime).

    ``closed_on`` holds local dates the puskesmas is closed (FHIR closures);
    ``calendar_days`` the working-day calendar's facts for today and yesterday.
    """
    today, yesterday = local_now.date(), local_now.date() - timedelta(days=1)
    facts = calendar_days or (None, None)
    office = office_status(
        pkm.id, "puskesmas", local_now, _day(pkm, today, closed_on, facts[0]),
        _day(pkm, yesterday, closed_on, facts[1]),
        Evidence(door_open=door_open, waiting=waiting, longest_wait_s=longest_wait_s,
                 staff_in=staff_checked_in))
    return as_puskesmas_state(office)


def as_puskesmas_state(office: ServiceOfficeState) -> PuskesmasState:
    """The Dinkes view of a puskesmas' office state."""
    return PuskesmasState(
        puskesmas_id=office.office_id, status=office.status, minutes_late=office.minutes_late,
        waiting=office.waiting, longest_wait_s=office.longest_wait_s,
        staff_checked_in=office.staff_in, door_open=office.door_open,
        scheduled_open=office.scheduled_open, scheduled_close=office.scheduled_close,
        closed_reason=office.closed_reason, hours_source=office.hours_source,
        updated_at=office.updated_at)
