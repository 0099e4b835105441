"""Every public service office as one kind of site: the registry's puskesmas (type
"puskesmas", owned by Dinkes) and its ``offices`` list, with the schedule in force on a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ambon_core.calendar import WorkCalendar
from ambon_core.registry import OfficeType, OpeningHours, Puskesmas, Registry
from ambon_core.service_status import OfficeDay

PUSKESMAS_OPD = "dinkes"
PUSKESMAS_ATTENDANCE = "absensi-asn"


@dataclass(frozen=True)
class OfficeSite:
    """One office the city watches in working hours."""

    id: str
    name: str
    type: OfficeType
    kecamatan: str
    opd: str
    lat: float
    lon: float
    hours: tuple[OpeningHours, ...] = ()  # its own; empty: the type's (calendar.yaml)
    ramadan_hours: tuple[OpeningHours, ...] = ()
    attendance: str | None = None
    address: str | None = None


def puskesmas_site(p: Puskesmas) -> OfficeSite:
    """A puskesmas as a service office (its own hours, owned by Dinkes)."""
    return OfficeSite(p.id, p.name, "puskesmas", p.kecamatan, PUSKESMAS_OPD, p.lat, p.lon,
                      tuple(p.hours), attendance=PUSKESMAS_ATTENDANCE, address=p.address)


def service_offices(reg: Registry) -> list[OfficeSite]:
    """Puskesmas first (Dinkes' page keeps them), then the other offices, registry order."""
    sites = [puskesmas_site(p) for p in reg.puskesmas]
    sites += [OfficeSite(o.id, o.name, o.type, o.kecamatan, o.opd, o.lat, o.lon, tuple(o.hours),
                         tuple(o.ramadan_hours), o.attendance, o.address) for o in reg.offices]
    return sites


def office_day(site: OfficeSite, cal: WorkCalendar, day: date) -> OfficeDay:
    """The hours in force at ``site`` on ``day`` and the calendar's verdict: the office's own
    hours (its own Ramadan hours in Ramadan) win over its type's hours of the season."""
    facts = cal.day(day, site.type, site.id)
    if facts.season == "ramadan" and site.ramadan_hours:
        hours: tuple[OpeningHours, ...] = site.ramadan_hours
    elif site.hours:
        hours = site.hours
    else:
        hours = tuple(cal.type_hours(site.type, facts.season))
    return OfficeDay(hours, facts)


def hours_text(day: OfficeDay, weekday: str) -> str:
    """'07:30–16:00' for the entries of ``weekday`` ('-' when closed that day)."""
    spans = [f"{h.opening_time}–{h.closing_time}" for h in day.hours if weekday in h.days_of_week]
    return ", ".join(spans) or "-"
