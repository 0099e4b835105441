"""Simulated public service offices: schedules, the year's decree, staff arrivals, citizens
at the door - and the ground truth of every office's status at every minute.

Pure and seeded: ``OfficeWorld(registry, seed)`` gives the same story for the same seed.
The truth of a closure does NOT come from ``ambon_core.calendar``: it is the published
decree (SKB 3 Menteri on libur nasional and cuti bersama, typed in below for 2026 and 2027)
and the SE MenPANRB on Ramadan hours, so the bench checks the library + calendar.yaml
against the decree instead of against itself. Opening hours by type come from the city's
published schedule (calendar.yaml ``hours`` and the registry).

Each working day an office is on time (mostly), late by 5-90 minutes, or not opened at
all (its staff checked in elsewhere - an outside duty - or nobody came). Without a camera
the doors open when the first of its own staff arrives; with one, the camera sees the door.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ambon_core.asn_attendance import CheckIn, Roster
from ambon_core.calendar import WorkCalendar
from ambon_core.domain import OfficeStatus
from ambon_core.registry import WEEKDAYS, OpeningHours, Registry
from ambon_core.service_offices import OfficeSite, service_offices

WIT = ZoneInfo("Asia/Jayapura")
# SKB 3 Menteri 2026 / 2027 as published (setkab.go.id, setneg.go.id): date -> cuti bersama?
DECREE: dict[date, bool] = {date.fromisoformat(d): c for d, c in {
    "2026-01-01": False, "2026-01-16": False, "2026-02-16": True, "2026-02-17": False,
    "2026-03-18": True, "2026-03-19": False, "2026-03-20": True, "2026-03-21": False,
    "2026-03-22": False, "2026-03-23": True, "2026-03-24": True, "2026-04-03": False,
    "2026-04-05": False, "2026-05-01": False, "2026-05-14": False, "2026-05-15": True,
    "2026-05-27": False, "2026-05-28": True, "2026-05-31": False, "2026-06-01": False,
    "2026-06-16": False, "2026-08-17": False, "2026-08-25": False, "2026-12-24": True,
    "2026-12-25": False}.items()}
RAMADAN = {2026: (date(2026, 2, 19), date(2026, 3, 20))}  # Kemenag sidang isbat 1447 H
SERVES_ON_CUTI_BERSAMA = frozenset({"puskesmas"})  # public service goes on (Keppres)


@dataclass(frozen=True)
class DayPlan:
    """One office on one day."""

    windows: tuple[tuple[datetime, datetime], ...]  # scheduled service, empty: closed
    kind: str  # closed | on_time | late | elsewhere | absent
    opens_at: datetime | None  # the doors actually open (None: never)
    checkins: tuple[CheckIn, ...]
    citizens: tuple[datetime, ...]  # arrivals at the door


def _rng(seed: int, *parts: str) -> random.Random:
    digest = hashlib.sha256(":".join([str(seed), *parts]).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class OfficeWorld:
    """The simulated offices of the registry over any span of days."""

    def __init__(self, registry: Registry, calendar: WorkCalendar, roster: Roster, seed: int = 7):
        self.sites = service_offices(registry)
        self.cameras = {o.id for o in self.sites if registry.cameras_for_site(o.id)}
        self.hours_by_type = calendar.file.hours
        self.roster, self.seed = roster, seed
        self._plans: dict[tuple[str, date], DayPlan] = {}

    def staff(self, office_id: str) -> list[str]:
        staff = sorted(n for n, o in self.roster.office_of.items() if o == office_id)
        return staff or [f"pkm-staff-{office_id}-{i}" for i in range(4)]  # puskesmas: own tally

    def scheduled(self, site: OfficeSite, day: date) -> tuple[str | None, list[OpeningHours]]:
        """(why closed, hours) by the decree and the season - not by ambon_core.calendar."""
        cuti = DECREE.get(day)
        if cuti is not None and not (cuti and site.type in SERVES_ON_CUTI_BERSAMA):
            return "decree", []
        span = RAMADAN.get(day.year)
        ramadan = bool(span and span[0] <= day <= span[1])
        rules = self.hours_by_type[site.type]
        if ramadan and site.ramadan_hours:
            hours = list(site.ramadan_hours)
        elif site.hours:
            hours = list(site.hours)
        else:
            hours = rules.ramadan if ramadan and rules.ramadan else rules.regular
        return None, [h for h in hours if WEEKDAYS[day.weekday()] in h.days_of_week]

    def plan(self, site: OfficeSite, day: date) -> DayPlan:
        key = (site.id, day)
        if key not in self._plans:
            self._plans[key] = self._make_plan(site, day)
        return self._plans[key]

    def _make_plan(self, site: OfficeSite, day: date) -> DayPlan:
        _, hours = self.scheduled(site, day)
        windows = tuple(_window(day, h) for h in hours)
        if not windows:
            return DayPlan((), "closed", None, (), ())
        r = _rng(self.seed, site.id, day.isoformat())
        u, start = r.random(), windows[0][0]
        kind = "on_time" if u < 0.78 else "late" if u < 0.95 else "elsewhere" if u < 0.98 else "absent"
        opens = {"on_time": start - timedelta(minutes=r.randint(0, 15)),
                 "late": start + timedelta(minutes=r.randint(5, 90))}.get(kind)
        checkins = self._checkins(site, r, kind, opens, start)
        if site.id not in self.cameras and kind in ("on_time", "late"):
            opens = min(c.at for c in checkins if c.office_id == site.id)  # staff unlock the door
        citizens = tuple(sorted(start + timedelta(minutes=r.uniform(-30, 240))
                                for _ in range(r.randint(3, 25))))
        return DayPlan(windows, kind, opens, checkins, citizens)

    def _checkins(self, site: OfficeSite, r: random.Random, kind: str, opens: datetime | None,
                  start: datetime) -> tuple[CheckIn, ...]:
        staff = self.staff(site.id)
        if kind == "absent":
            return ()
        if kind == "elsewhere":  # an outside duty: everyone checks in at another office
            other = next(o.id for o in self.sites if o.id != site.id and o.opd == site.opd) \
                if any(o.id != site.id and o.opd == site.opd for o in self.sites) else self.sites[0].id
            return tuple(CheckIn(n, other, start + timedelta(minutes=r.randint(-20, 20)))
                         for n in staff)
        assert opens is not None
        return tuple(CheckIn(n, site.id, opens + timedelta(minutes=0 if i == 0 else r.randint(0, 40)))
                     for i, n in enumerate(staff))

    # ---- what is true, and what the sensors see, at a moment ----------------------------
    def truth(self, site: OfficeSite, at: datetime) -> OfficeStatus:
        """buka / belum buka / tutup: what an inspector at the door would write down."""
        plan = self.plan(site, at.astimezone(WIT).date())
        if not any(a <= at < b for a, b in plan.windows):
            return OfficeStatus.TUTUP
        return OfficeStatus.BUKA if plan.opens_at and plan.opens_at <= at else OfficeStatus.BELUM_BUKA

    def door_open(self, site: OfficeSite, at: datetime) -> bool:
        plan = self.plan(site, at.astimezone(WIT).date())
        return bool(plan.opens_at and plan.opens_at <= at < plan.windows[-1][1])

    def waiting(self, site: OfficeSite, at: datetime) -> tuple[int, float | None]:
        """Citizens at the door and the longest wait (s): all who came while it is shut,
        the last quarter hour's arrivals once it is open."""
        plan = self.plan(site, at.astimezone(WIT).date())
        if not plan.windows or at >= plan.windows[-1][1]:
            return 0, None
        since = at - timedelta(minutes=15) if self.door_open(site, at) else plan.windows[0][0] - \
            timedelta(minutes=30)
        came = [c for c in plan.citizens if since <= c <= at]
        return len(came), (at - came[0]).total_seconds() if came else None

    def kehadiran(self, at: datetime) -> dict[str, object]:
        """The ASN app's export at ``at``: today's check-ins of rostered staff (the
        puskesmas have their own export, ``/asn/attendance.json``)."""
        rows = [{"nip": c.nip, "lokasi": c.office_id,
                 "jam_masuk": c.at.astimezone(WIT).isoformat(timespec="seconds")}
                for c in self.checkins(at) if c.nip in self.roster.office_of]
        return {"tanggal": at.astimezone(WIT).date().isoformat(), "kehadiran": rows}

    def checkins(self, at: datetime) -> list[CheckIn]:
        """Every check-in made so far on ``at``'s day (what the ASN app exports now)."""
        day = at.astimezone(WIT).date()
        return [c for s in self.sites for c in self.plan(s, day).checkins if c.at <= at]


def office_world(registry: Registry, seed: int) -> OfficeWorld:
    """The world with the calendar and roster files named by the settings."""
    from ambon_core.asn_attendance import load_roster
    from ambon_core.calendar import load_calendar
    from ambon_core.settings import get_settings

    settings = get_settings()
    roster = load_roster(settings.asn_roster_path, {o.id for o in registry.offices})
    return OfficeWorld(registry, load_calendar(settings.calendar_path), roster, seed)


def _window(day: date, h: OpeningHours) -> tuple[datetime, datetime]:
    opens = datetime.combine(day, time.fromisoformat(h.opening_time), WIT)
    closes = datetime.combine(day, time.fromisoformat(h.closing_time), WIT)
    return opens, closes if closes > opens else closes + timedelta(days=1)
