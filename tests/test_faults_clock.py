"""Clock and time-zone traps: feeds in UTC, WIB and WIT; midnight and year-end rollovers;
puskesmas schedules across midnight; holidays."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ambon_core.domain import Attendance
from ambon_core.domain import PuskesmasStatus as S
from ambon_core.puskesmas import open_window, puskesmas_status
from ambon_core.registry import OpeningHours, Puskesmas, load_registry
from ambon_core.settings import Settings
from ambon_core.store import Store
from workers.camera.pipeline import MinuteAgg, minute_row
from workers.feeds import open311
from workers.site_status import SiteStatusWorker

WIT = ZoneInfo("Asia/Jayapura")
WIB = ZoneInfo("Asia/Jakarta")
# Thursday 31 December 2026, an overnight clinic 20:00-02:00 on Thursdays and Fridays
NIGHT = Puskesmas(id="pkm-malam", name="Puskesmas Malam", kecamatan="Sirimau", lat=-3.69,
                  lon=128.18, hours=[OpeningHours(days_of_week=["thu", "fri"],
                                                  opening_time="20:00", closing_time="02:00")])
NYE = datetime(2026, 12, 31, tzinfo=WIT)


@pytest.mark.parametrize(("when", "door", "status", "late"), [
    (NYE.replace(hour=19, minute=59), False, S.TUTUP, None),
    (NYE.replace(hour=20, minute=10), False, S.BELUM_BUKA, 10),
    (NYE.replace(hour=23, minute=59), True, S.BUKA, None),
    (NYE + timedelta(hours=24, minutes=30), False, S.BELUM_BUKA, 270),  # 1 Jan 2027 00:30, Fri
    (NYE + timedelta(hours=25, minutes=59), True, S.BUKA, None),
    (NYE + timedelta(hours=26), True, S.TUTUP, None),  # 02:00: closed
    (NYE + timedelta(days=2, hours=1), True, S.BUKA, None),  # Sat 01:00: Friday's night
    (NYE + timedelta(days=3, hours=1), True, S.TUTUP, None),  # Sun 01:00: no Saturday night
    (NYE - timedelta(hours=23), True, S.TUTUP, None),  # Thu 01:00: no Wednesday night
])
def test_overnight_schedule_across_midnight_and_year_end(when: datetime, door: bool, status: S,
                                                        late: int | None) -> None:
    state = puskesmas_status(NIGHT, when, door_open=door, waiting=3)
    assert (state.status, state.minutes_late) == (status, late)
    if status != S.TUTUP:
        assert (state.scheduled_open, state.scheduled_close) == ("20:00", "02:00")


def test_round_the_clock_and_split_shifts() -> None:
    always = NIGHT.model_copy(update={"hours": [OpeningHours(
        days_of_week=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], opening_time="00:00",
        closing_time="00:00")]})
    for hour in (0, 7, 13, 23):
        assert puskesmas_status(always, NYE.replace(hour=hour), door_open=True).status == S.BUKA
    split = NIGHT.model_copy(update={"hours": [
        OpeningHours(days_of_week=["thu"], opening_time="08:00", closing_time="12:00"),
        OpeningHours(days_of_week=["thu"], opening_time="16:00", closing_time="20:00")]})
    assert puskesmas_status(split, NYE.replace(hour=14), door_open=False).status == S.TUTUP
    late = puskesmas_status(split, NYE.replace(hour=16, minute=5), door_open=False)
    assert (late.status, late.minutes_late, late.scheduled_open) == (S.BELUM_BUKA, 5, "16:00")


def test_holiday_closes_even_an_overnight_clinic() -> None:
    assert open_window(NIGHT, NYE.replace(hour=21)) is not None
    assert puskesmas_status(NIGHT, NYE.replace(hour=21), door_open=False,
                            closed_on={NYE.date()}).status == S.TUTUP


def test_overnight_shift_belongs_to_the_day_it_opened() -> None:
    """Thu 31 Dec 20:00-02:00 runs into New Year's Day, a holiday; no shift opens on it."""
    new_year = (NYE + timedelta(days=1)).date()
    after_midnight = NYE + timedelta(hours=24, minutes=30)  # Fri 1 Jan 00:30
    state = puskesmas_status(NIGHT, after_midnight, door_open=False, closed_on={new_year})
    assert (state.status, state.minutes_late) == (S.BELUM_BUKA, 270)  # Thursday's shift
    friday_night = NYE + timedelta(hours=44)  # Fri 1 Jan 20:00: the holiday's own shift
    assert puskesmas_status(NIGHT, friday_night, door_open=False,
                            closed_on={new_year}).status == S.TUTUP
    # and the other way: Thursday a holiday, Friday 00:30 is the shift that never began
    assert puskesmas_status(NIGHT, after_midnight, door_open=False,
                            closed_on={NYE.date()}).status == S.TUTUP


def test_status_worker_passes_yesterdays_holiday(settings: Settings, store: Store) -> None:
    worker = SiteStatusWorker(settings)
    pkm = NIGHT
    after_midnight = (NYE + timedelta(hours=24, minutes=30)).astimezone(UTC)
    live = store.read_live()
    state = worker.puskesmas_state(pkm, live, after_midnight, {NYE.date().isoformat(): "Libur"})
    assert state.status == S.TUTUP  # Thursday's night shift was cancelled by the holiday
    state = worker.puskesmas_state(pkm, live, after_midnight,
                                   {f"{(NYE + timedelta(days=1)).date().isoformat()}:{pkm.id}": "x"})
    assert state.status == S.TIDAK_DIKETAHUI  # Thursday's shift runs; no evidence yet


def test_feed_times_in_utc_wib_and_wit_are_one_instant() -> None:
    instant = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)  # 1 Jan 2027 00:30 WIT
    stamps = ["2026-12-31T15:30:00Z", instant.astimezone(WIB).isoformat(),
              instant.astimezone(WIT).isoformat(), "2027-01-01T00:30:00"]  # the last: no zone
    docs = [{"service_request_id": f"r{i}", "status": "open", "service_code": "banjir",
             "service_name": "Banjir", "description": "", "requested_datetime": s,
             "updated_datetime": s, "lat": -3.69, "long": 128.18} for i, s in enumerate(stamps)]
    result = open311.parse(json.dumps(docs).encode(), "json", source="open311")
    assert not result.rejects
    assert {i.reported_at for i in result.records} == {instant}
    assert any("no zone" in w for w in result.warnings)  # zone-less read as WIT, and said so


def test_camera_minute_at_year_end_is_stored_in_utc() -> None:
    reg = load_registry()
    cam = reg.cameras[0]
    row = minute_row(cam, MinuteAgg(minute=datetime(2027, 1, 1, 0, 0, tzinfo=WIT), frames=3))
    assert row["minute"] == datetime(2026, 12, 31, 15, 0, tzinfo=UTC)


def test_yesterdays_check_ins_do_not_open_today(settings: Settings, store: Store) -> None:
    """At 00:05 WIT on 1 January, check-ins of 31 December (still 'today' in UTC) are old."""
    worker = SiteStatusWorker(settings)
    pkm = worker.registry.puskesmas[0]
    now = datetime(2027, 1, 1, 0, 5, tzinfo=WIT)
    live = store.read_live()
    late = Attendance(puskesmas_id=pkm.id, staff_checked_in=4,
                      updated_at=datetime(2026, 12, 31, 23, 50, tzinfo=WIT))
    live.attendance[pkm.id] = late
    state = worker.puskesmas_state(pkm, live, now.astimezone(UTC))
    assert state.staff_checked_in is None
    live.attendance[pkm.id] = late.model_copy(update={"updated_at": now})
    assert worker.puskesmas_state(pkm, live, now.astimezone(UTC)).staff_checked_in == 4
