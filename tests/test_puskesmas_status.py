"""Puskesmas status is a pure function of schedule, time and evidence."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ambon_core.domain import PuskesmasStatus as S
from ambon_core.puskesmas import puskesmas_status
from ambon_core.registry import OpeningHours, Puskesmas

WIT = ZoneInfo("Asia/Jayapura")
PKM = Puskesmas(id="pkm-x", name="Puskesmas X", kecamatan="Sirimau", lat=-3.69, lon=128.18,
                hours=[OpeningHours(days_of_week=["mon", "tue"], opening_time="08:00",
                                    closing_time="14:00")])
MONDAY = datetime(2026, 11, 23, tzinfo=WIT)


@pytest.mark.parametrize(
    ("hour", "minute", "door", "staff", "status", "late"),
    [
        (7, 59, True, None, S.TUTUP, None),
        (8, 0, False, None, S.BELUM_BUKA, 0),
        (8, 20, False, 3, S.BELUM_BUKA, 20),  # the camera sees a shut door: staff inside or not
        (8, 20, True, None, S.BUKA, None),
        (8, 20, None, 2, S.BUKA, None),  # no camera: check-ins count
        (8, 20, None, 0, S.BELUM_BUKA, 20),
        (8, 20, None, None, S.TIDAK_DIKETAHUI, None),
        (14, 0, True, None, S.TUTUP, None),
    ],
)
def test_monday(hour: int, minute: int, door: bool | None, staff: int | None,
                status: S, late: int | None) -> None:
    state = puskesmas_status(PKM, MONDAY.replace(hour=hour, minute=minute), door_open=door,
                             staff_checked_in=staff, waiting=4)
    assert (state.status, state.minutes_late) == (status, late)


def test_closed_days_and_holidays() -> None:
    sunday = MONDAY.replace(day=22, hour=9)
    assert puskesmas_status(PKM, sunday, door_open=False).status == S.TUTUP
    assert puskesmas_status(PKM, MONDAY.replace(hour=9), door_open=False,
                            closed_on={MONDAY.date()}).status == S.TUTUP


def test_no_schedule_is_unknown() -> None:
    bare = PKM.model_copy(update={"hours": []})
    assert puskesmas_status(bare, MONDAY.replace(hour=9), door_open=True).status == \
        S.TIDAK_DIKETAHUI
