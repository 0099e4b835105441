"""Status worker: turns camera analysis and attendance into puskesmas and TPS status.

Puskesmas: schedule + attendance + entrance camera -> buka / belum buka / tutup /
tidak diketahui; "belum buka" with citizens waiting raises an alert to the mayor,
cleared by itself when the doors open (the SQL record keeps how long it lasted).
The schedule is the FHIR Location's ``hoursOfOperation`` when the feed gave them, else
the registry's hours (``hours_source`` says which); a site the FHIR feed says is
suspended or closed is ``tutup`` with that reason until a document reopens it, and a
closure day (holiday) is ``tutup`` with its reason — never "belum buka".
TPS: the pile camera's fill fraction against the registry threshold -> overflow alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ambon_core.alerts import sync_alerts
from ambon_core.domain import (
    Alert,
    AlertKind,
    CameraState,
    CameraStatus,
    PuskesmasState,
    PuskesmasStatus,
    SiteSchedule,
    TpsState,
    utcnow,
)
from ambon_core.puskesmas import puskesmas_status
from ambon_core.registry import OpeningHours, Puskesmas, Tps
from ambon_core.store import LiveState
from workers.base import LoopWorker

FILL_RECORD_STEP = 0.02  # record TPS fill history when it moved this much


class SiteStatusWorker(LoopWorker):
    name = "status"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.interval_s = self.settings.status_interval_s
        self.last_fill: dict[str, float] = {}
        self.clock = utcnow  # tests set a fixed moment

    def _site_camera(self, live: LiveState, site_id: str, now: datetime) -> CameraState | None:
        """The fresh, working camera watching a site, if any."""
        for cam in self.registry.cameras_for_site(site_id):
            state = live.cameras.get(cam.id)
            if (state is not None and state.status == CameraStatus.OK
                    and state.age_s(now) < 3 * self.settings.heartbeat_ttl_s):
                return state
        return None

    def puskesmas_state(self, pkm: Puskesmas, live: LiveState, now: datetime,
                        holidays: dict[str, str] | None = None,
                        schedule: SiteSchedule | None = None) -> PuskesmasState:
        cam = self._site_camera(live, pkm.id, now)
        att = live.attendance.get(pkm.id)
        local_now = now.astimezone(self.settings.tz)
        # today and yesterday: yesterday's overnight shift never began if it was a holiday
        days = (local_now.date(), local_now.date() - timedelta(days=1))
        reasons = {d: (holidays or {}).get(d.isoformat()) or (holidays or {}).get(f"{d.isoformat()}:{pkm.id}")
                   for d in days}
        closed_on = {d for d, why in reasons.items() if why}
        if schedule is not None and schedule.closed_reason:
            closed_on |= set(days)  # suspended: closed until a FHIR document reopens it
        if att is not None and att.updated_at.astimezone(self.settings.tz).date() != local_now.date():
            att = None  # yesterday's check-ins say nothing about today
        fhir_hours = schedule is not None and schedule.hours is not None
        if fhir_hours:
            pkm = pkm.model_copy(update={"hours": [OpeningHours(**h) for h in schedule.hours]})
        state = puskesmas_status(
            pkm, local_now,
            door_open=cam.door_open if cam else None,
            waiting=cam.queue_len if cam else None,
            longest_wait_s=cam.longest_wait_s if cam else None,
            staff_checked_in=att.staff_checked_in if att else None,
            closed_on=closed_on)
        state.hours_source = "fhir" if fhir_hours else ("registry" if pkm.hours else None)
        if state.status == PuskesmasStatus.TUTUP:
            state.closed_reason = (schedule.closed_reason if schedule and schedule.closed_reason
                                   else reasons[local_now.date()])
        return state

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
        pkm_states = [self.puskesmas_state(p, live, now, holidays, schedules.get(p.id))
                      for p in self.registry.puskesmas]
        tps_states = [s for t in self.registry.tps if (s := self.tps_state(t, live, now))]
        changed = [s for s in pkm_states if (before := live.puskesmas.get(s.puskesmas_id)) is None
                   or before.status != s.status]
        fills = [s for s in tps_states
                 if abs(s.fill - self.last_fill.get(s.tps_id, -1.0)) >= FILL_RECORD_STEP]
        # the record first (or its spool, while SQL is away), then the live view
        if changed:
            self.history.write("puskesmas_changes",
                               {"states": [s.model_dump(mode="json") for s in changed]})
        if fills:
            self.history.write("tps_fills", {"states": [s.model_dump(mode="json") for s in fills]})
            self.last_fill.update({s.tps_id: s.fill for s in fills})
        self.store.put(*pkm_states, *tps_states)
        sync_alerts(self.store, self.history, [AlertKind.PUSKESMAS_LATE, AlertKind.TPS_OVERFLOW],
                    [*self.late_alerts(pkm_states), *self.overflow_alerts(tps_states)])
        self.detail = {"puskesmas": len(pkm_states), "tps": len(tps_states)}

    def late_alerts(self, states: list[PuskesmasState]) -> list[Alert]:
        """'Belum buka' while citizens wait -> an alert to the mayor and Dinkes."""
        by_id = {p.id: p for p in self.registry.puskesmas}
        return [Alert(alert_id=f"puskesmas_late:{s.puskesmas_id}", kind=AlertKind.PUSKESMAS_LATE,
                      entity_id=s.puskesmas_id, opd="dinkes",
                      severity=3 if (s.waiting or 0) >= 5 else 2,
                      lat=by_id[s.puskesmas_id].lat, lon=by_id[s.puskesmas_id].lon,
                      params={"name": by_id[s.puskesmas_id].name, "minutes_late": s.minutes_late,
                              "waiting": s.waiting, "scheduled_open": s.scheduled_open})
                for s in states
                if s.status == PuskesmasStatus.BELUM_BUKA and (s.waiting or 0) > 0]

    def overflow_alerts(self, states: list[TpsState]) -> list[Alert]:
        by_id = {t.id: t for t in self.registry.tps}
        return [Alert(alert_id=f"tps_overflow:{s.tps_id}", kind=AlertKind.TPS_OVERFLOW,
                      entity_id=s.tps_id, opd="dlh", lat=by_id[s.tps_id].lat,
                      lon=by_id[s.tps_id].lon,
                      params={"name": by_id[s.tps_id].name, "fill": round(s.fill or 0, 2)})
                for s in states if s.overflow]

