"""Status worker: turns camera analysis and attendance into service-office and TPS status.

Every public service office (puskesmas, pustu, kantor kelurahan/negeri, Dukcapil, MPP,
Samsat): schedule + working-day calendar + attendance + entrance camera -> buka / belum
buka / tutup / tidak diketahui (``ambon_core.service_status``); "belum buka" with citizens
waiting (or unseen: no camera) raises an alert to the mayor and the owning OPD, cleared
by itself when the doors open (the SQL record keeps how long it lasted). The puskesmas
keep their Dinkes view (``PuskesmasState``), made from the same office state. A
puskesmas' schedule is the FHIR Location's ``hoursOfOperation`` when the feed gave them,
else the registry's hours (``hours_source`` says which); a site the FHIR feed says is
suspended or closed is ``tutup`` with that reason until a document reopens it — never
"belum buka".
TPS: the pile camera's fill fraction against the registry threshold -> overflow alert.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TypeVar

import ambon_core.office_history  # noqa: F401  (registers the "office_changes" operation)
from ambon_core.alerts import sync_alerts
from ambon_core.calendar import CalendarError, WorkCalendar, load_calendar
from ambon_core.domain import (
    Alert,
    AlertKind,
    Attendance,
    CameraState,
    CameraStatus,
    OfficeAttendance,
    PuskesmasState,
    ServiceOfficeState,
    SiteSchedule,
    TpsState,
    utcnow,
)
from ambon_core.puskesmas import as_puskesmas_state
from ambon_core.registry import OpeningHours, Puskesmas, Tps
from ambon_core.service_offices import OfficeSite, office_day, puskesmas_site, service_offices
from ambon_core.service_status import Evidence, OfficeDay, needs_alert, office_status
from ambon_core.store import LiveState
from workers.base import LoopWorker

log = logging.getLogger(__name__)
T = TypeVar("T", Attendance, OfficeAttendance)
FILL_RECORD_STEP = 0.02  # record TPS fill history when it moved this much


class SiteStatusWorker(LoopWorker):
    name = "status"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.interval_s = self.settings.status_interval_s
        self.last_fill: dict[str, float] = {}
        self.clock = utcnow  # tests set a fixed moment
        self.offices = service_offices(self.registry)
        self.calendar = self._calendar()

    def _calendar(self) -> WorkCalendar:
        """calendar.yaml, or - when it is refused - the library's holidays with no alarms
        and the reason shown on every office (the rest keeps working)."""
        try:
            cal = load_calendar(self.settings.calendar_path)
        except CalendarError as exc:
            log.error("calendar: %s", exc)
            return WorkCalendar.unusable(str(exc).splitlines()[0])
        for warning in cal.warnings:
            log.warning("calendar: %s", warning)
        return cal

    def _site_camera(self, live: LiveState, site_id: str, now: datetime) -> CameraState | None:
        """The fresh, working camera watching a site, if any."""
        for cam in self.registry.cameras_for_site(site_id):
            state = live.cameras.get(cam.id)
            if (state is not None and state.status == CameraStatus.OK
                    and state.age_s(now) < 3 * self.settings.heartbeat_ttl_s):
                return state
        return None

    def _day(self, site: OfficeSite, day: date, closures: dict[str, str],
             held: str | None = None) -> OfficeDay:
        """The calendar's day, closed too when the FHIR feed says so (puskesmas only): for
        that day, or (``held``: suspended) until a later document reopens the site."""
        od = office_day(site, self.calendar, day)
        reason = (held or closures.get(f"{day.isoformat()}:{site.id}")
                  or (closures.get(day.isoformat()) if site.type == "puskesmas" else None))
        if reason and od.facts.closed is None:
            od = OfficeDay(od.hours, replace(od.facts, closed=reason))
        return od

    def _today(self, attendance: T | None, now: datetime) -> T | None:
        """Yesterday's check-ins say nothing about today."""
        tz = self.settings.tz
        if attendance is None or attendance.updated_at.astimezone(tz).date() != now.astimezone(tz).date():
            return None
        return attendance

    def _evidence(self, site: OfficeSite, live: LiveState, now: datetime) -> Evidence:
        cam = self._site_camera(live, site.id, now)
        office_att = self._today(live.office_attendance.get(site.id), now)
        pkm_att = self._today(live.attendance.get(site.id), now)
        return Evidence(
            door_open=cam.door_open if cam else None, waiting=cam.queue_len if cam else None,
            longest_wait_s=cam.longest_wait_s if cam else None,
            staff_in=office_att.staff_in if office_att else (
                pkm_att.staff_checked_in if pkm_att else None),
            staff_elsewhere=office_att.staff_elsewhere if office_att else None,
            staff_expected=office_att.staff_expected if office_att else None)

    def office_state(self, site: OfficeSite, live: LiveState, now: datetime,
                     closures: dict[str, str] | None = None,
                     schedule: SiteSchedule | None = None) -> ServiceOfficeState:
        """One office's status now, from the one engine (``schedule``: what the FHIR feed
        says of a puskesmas — its hours, or a closure held until lifted)."""
        local_now = now.astimezone(self.settings.tz)
        today = local_now.date()
        fhir_hours = schedule is not None and schedule.hours is not None
        if fhir_hours:
            site = replace(site, hours=tuple(OpeningHours(**h) for h in schedule.hours))
        held = schedule.closed_reason if schedule is not None else None
        state = office_status(site.id, site.type, local_now,
                              self._day(site, today, closures or {}, held),
                              self._day(site, today - timedelta(days=1), closures or {}, held),
                              self._evidence(site, live, now))
        state.calendar_warning = self.calendar.warning(today)
        state.hours_source = "fhir" if fhir_hours else ("registry" if site.hours else None)
        return state

    def puskesmas_state(self, pkm: Puskesmas, live: LiveState, now: datetime,
                        holidays: dict[str, str] | None = None,
                        schedule: SiteSchedule | None = None) -> PuskesmasState:
        """The Dinkes view of one puskesmas now (the same engine as every office)."""
        return as_puskesmas_state(self.office_state(puskesmas_site(pkm), live, now, holidays,
                                                    schedule))

    def tps_state(self, tps: Tps, live: LiveState, now: datetime) -> TpsState | None:
        cam = self._site_camera(live, tps.id, now)
        if cam is None or cam.fill is None:
            return None
        previous = live.tps.get(tps.id)
        return TpsState(tps_id=tps.id, fill=cam.fill, threshold=tps.overflow_threshold,
                        overflow=cam.fill >= tps.overflow_threshold,
                        last_emptied_at=previous.last_emptied_at if previous else None)

    def turn(self) -> None:
        live, now, holidays = self.store.read_live(), self.clock(), self.store.holidays()
        schedules = self.store.site_schedules()
        office_states = [self.office_state(o, live, now, holidays, schedules.get(o.id))
                         for o in self.offices]
        pkm_states = [as_puskesmas_state(s) for s in office_states if s.office_type == "puskesmas"]
        tps_states = [s for t in self.registry.tps if (s := self.tps_state(t, live, now))]
        changed = [s for s in pkm_states if (before := live.puskesmas.get(s.puskesmas_id)) is None
                   or before.status != s.status]
        moved = [s for s in office_states if (was := live.offices.get(s.office_id)) is None
                 or was.status != s.status]
        fills = [s for s in tps_states
                 if abs(s.fill - self.last_fill.get(s.tps_id, -1.0)) >= FILL_RECORD_STEP]
        # the record first (or its spool, while SQL is away), then the live view
        if moved:
            self.history.write("office_changes",
                               {"states": [s.model_dump(mode="json") for s in moved]})
        if changed:
            self.history.write("puskesmas_changes",
                               {"states": [s.model_dump(mode="json") for s in changed]})
        if fills:
            self.history.write("tps_fills", {"states": [s.model_dump(mode="json") for s in fills]})
            self.last_fill.update({s.tps_id: s.fill for s in fills})
        self.store.put(*office_states, *pkm_states, *tps_states)
        sync_alerts(self.store, self.history,
                    [AlertKind.PUSKESMAS_LATE, AlertKind.OFFICE_LATE, AlertKind.TPS_OVERFLOW],
                    [*self.late_alerts(office_states), *self.overflow_alerts(tps_states)])
        self.detail = {"offices": len(office_states), "puskesmas": len(pkm_states),
                       "tps": len(tps_states)}

    def late_alerts(self, states: list[ServiceOfficeState]) -> list[Alert]:
        """'Belum buka' while citizens wait (or nobody can see) -> an alert to the mayor and
        the office's OPD; a puskesmas keeps its own kind (Dinkes' page)."""
        by_id = {o.id: o for o in self.offices}
        alerts = []
        for s in filter(needs_alert, states):
            site = by_id[s.office_id]
            kind = AlertKind.PUSKESMAS_LATE if site.type == "puskesmas" else AlertKind.OFFICE_LATE
            alerts.append(Alert(
                alert_id=f"{kind.value}:{site.id}", kind=kind, entity_id=site.id, opd=site.opd,
                severity=3 if (s.waiting or 0) >= 5 else 2, lat=site.lat, lon=site.lon,
                params={"name": site.name, "type": site.type, "minutes_late": s.minutes_late,
                        "waiting": s.waiting, "scheduled_open": s.scheduled_open,
                        "staff": f"{s.staff_in}/{s.staff_expected}" if s.staff_expected
                        else s.staff_in}))
        return alerts

    def overflow_alerts(self, states: list[TpsState]) -> list[Alert]:
        by_id = {t.id: t for t in self.registry.tps}
        return [Alert(alert_id=f"tps_overflow:{s.tps_id}", kind=AlertKind.TPS_OVERFLOW,
                      entity_id=s.tps_id, opd="dlh", lat=by_id[s.tps_id].lat,
                      lon=by_id[s.tps_id].lon,
                      params={"name": by_id[s.tps_id].name, "fill": round(s.fill or 0, 2)})
                for s in states if s.overflow]

