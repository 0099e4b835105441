"""The one status engine for every service office, with the real calendar (pure, no I/O)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ambon_core.calendar import load_calendar
from ambon_core.domain import OfficeStatus as S
from ambon_core.registry import load_registry
from ambon_core.service_offices import OfficeSite, office_day, service_offices
from ambon_core.service_status import Evidence, needs_alert, office_status

WIT = ZoneInfo("Asia/Jayapura")
CAL = load_calendar()
SITES = {s.id: s for s in service_offices(load_registry())}
KELURAHAN, PUSKESMAS, MPP = SITES["kel-waihoka"], SITES["pkm-waihoka"], SITES["mpp-ambon"]


def status(site: OfficeSite, at: datetime, ev: Evidence = Evidence()):
    return office_status(site.id, site.type, at, office_day(site, CAL, at.date()),
                         office_day(site, CAL, at.date() - timedelta(days=1)), ev)


def at(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=WIT)


NOBODY = Evidence(staff_in=0, staff_elsewhere=0, staff_expected=6)
ELSEWHERE = Evidence(staff_in=0, staff_elsewhere=4, staff_expected=6)
IN = Evidence(staff_in=2, staff_elsewhere=0, staff_expected=6)


def test_attendance_decides_without_a_camera() -> None:
    monday = "2026-11-23"
    assert status(KELURAHAN, at(monday, "09:00"), IN).status == S.BUKA
    late = status(KELURAHAN, at(monday, "08:10"), NOBODY)
    assert (late.status, late.minutes_late, late.reason, late.scheduled_open) == (
        S.BELUM_BUKA, 40, "no_checkin", "07:30")
    away = status(KELURAHAN, at(monday, "08:10"), ELSEWHERE)
    assert (away.status, away.reason, away.staff_elsewhere) == (S.BELUM_BUKA, "staff_elsewhere", 4)
    assert needs_alert(late) and needs_alert(away)  # nobody can see the door: absence alarms
    unknown = status(KELURAHAN, at(monday, "09:00"))
    assert (unknown.status, unknown.reason) == (S.TIDAK_DIKETAHUI, "no_evidence")


def test_the_door_camera_wins_and_an_empty_doorstep_is_no_alarm() -> None:
    monday = "2026-11-23"
    shut = status(PUSKESMAS, at(monday, "08:20"), Evidence(door_open=False, waiting=0, staff_in=3))
    assert (shut.status, shut.reason) == (S.BELUM_BUKA, "door_closed")
    assert not needs_alert(shut)  # nobody waits
    waiting = status(PUSKESMAS, at(monday, "08:20"), Evidence(door_open=False, waiting=4))
    assert needs_alert(waiting) and waiting.waiting == 4
    assert status(PUSKESMAS, at(monday, "08:20"), Evidence(door_open=True)).status == S.BUKA


def test_friday_hours_differ_from_monday_to_thursday() -> None:
    assert status(KELURAHAN, at("2026-11-26", "16:15"), NOBODY).status == S.TUTUP  # Thursday
    friday = status(KELURAHAN, at("2026-11-27", "16:15"), NOBODY)
    assert (friday.status, friday.scheduled_close) == (S.BELUM_BUKA, "16:30")
    sunday = status(KELURAHAN, at("2026-11-29", "10:00"), NOBODY)
    assert (sunday.status, sunday.reason) == (S.TUTUP, "outside_hours")


def test_ramadan_hours_start_later_so_early_is_not_late() -> None:
    ramadan_monday, regular_monday = "2026-03-02", "2026-02-09"
    assert status(KELURAHAN, at(regular_monday, "07:45"), NOBODY).status == S.BELUM_BUKA
    early = status(KELURAHAN, at(ramadan_monday, "07:45"), NOBODY)
    assert (early.status, early.season) == (S.TUTUP, "ramadan")
    assert status(KELURAHAN, at(ramadan_monday, "15:30"), NOBODY).status == S.TUTUP  # closes 15:00
    late = status(KELURAHAN, at(ramadan_monday, "08:05"), NOBODY)
    assert (late.status, late.minutes_late, late.scheduled_open) == (S.BELUM_BUKA, 5, "08:00")


def test_an_offices_own_ramadan_hours_win() -> None:
    saturday = status(MPP, at("2026-02-21", "11:45"), NOBODY)  # own Ramadan Saturday: to 11:30
    assert saturday.status == S.TUTUP
    assert status(MPP, at("2026-02-14", "11:45"), NOBODY).status == S.BELUM_BUKA  # regular: to 12:00


@pytest.mark.parametrize("day, name", [("2026-02-17", "Tahun Baru Imlek"),
                                       ("2026-08-17", "Hari Kemerdekaan Republik Indonesia")])
def test_a_national_holiday_closes_every_office(day: str, name: str) -> None:
    for site in SITES.values():
        state = status(site, at(day, "09:00"), NOBODY)
        assert (state.status, state.reason, state.closed_reason) == (S.TUTUP, "holiday", name)
        assert not needs_alert(state)


def test_cuti_bersama_closes_offices_but_the_puskesmas_serves_on() -> None:
    cuti = "2026-02-16"  # Cuti Bersama Tahun Baru Imlek, a Monday
    office = status(KELURAHAN, at(cuti, "09:00"), NOBODY)
    assert (office.status, office.closed_reason) == (S.TUTUP, "Cuti Bersama Tahun Baru Imlek")
    assert status(PUSKESMAS, at(cuti, "09:00"), Evidence(door_open=False, waiting=3)).status == \
        S.BELUM_BUKA


def test_an_unconfirmed_year_warns_instead_of_alarming() -> None:
    day = "2028-03-06"  # a Monday; 2028's decree is not out, the library has no cuti bersama
    state = status(KELURAHAN, at(day, "09:00"), NOBODY)
    assert (state.status, state.reason) == (S.TIDAK_DIKETAHUI, "calendar_unconfirmed")
    assert not needs_alert(state)
    assert "2028" in CAL.warning(date(2028, 3, 6))
    assert CAL.warning(date(2026, 3, 6)) is None
    assert status(KELURAHAN, at(day, "09:00"), IN).status == S.BUKA  # evidence still counts


def test_every_type_has_hours_and_an_owner() -> None:
    reg = load_registry()
    types = {s.type for s in SITES.values()}
    assert types == {"puskesmas", "pustu", "kantor_kelurahan", "kantor_negeri", "dukcapil", "mpp",
                     "samsat"}
    codes = {o.code for o in reg.opds}
    assert all(s.opd in codes for s in SITES.values())
    assert {SITES["mpp-ambon"].opd, SITES["dukcapil-ambon"].opd, KELURAHAN.opd} == {
        "dpmptsp", "disdukcapil", "kec_sirimau"}
    monday = date(2026, 11, 23)
    assert all(office_day(s, CAL, monday).hours for s in SITES.values())
