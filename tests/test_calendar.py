"""The working-day calendar: what the holidays library knows, the city's overrides, and
clear errors (file, line, field) for a bad calendar file."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from ambon_core.calendar import CalendarError, library_coverage, load_calendar, parse_calendar
from ambon_core.settings import DATA_DIR

REAL = (DATA_DIR / "calendar.yaml").read_text(encoding="utf-8")


def _with(**changes: object) -> str:
    data = yaml.safe_load(REAL)
    data.update(changes)
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)


def test_the_library_has_cuti_bersama_and_islamic_holidays_for_the_decreed_years() -> None:
    y2026, y2027, y2028 = (library_coverage(y) for y in (2026, 2027, 2028))
    assert (y2026["cuti_bersama"], y2027["cuti_bersama"], y2028["cuti_bersama"]) == (8, 8, 0)
    assert y2026["estimated"] == []  # every 2026 date is the decree's
    assert "2027-03-10" in y2027["estimated"]  # Idul Fitri 1448 H: MABIMS estimate
    assert y2026["ramadan"] == (date(2026, 2, 19), date(2026, 3, 20))
    cal = load_calendar()
    assert cal.day(date(2026, 3, 21), "kantor_kelurahan").closed == "Hari Raya Idul Fitri"
    assert cal.day(date(2026, 3, 23), "kantor_kelurahan").closed == "Cuti Bersama Hari Raya Idul Fitri"
    assert cal.day(date(2026, 12, 24), "samsat").closed is not None


def test_confirming_a_year_without_decree_data_warns_on_load() -> None:
    cal = parse_calendar(_with(confirmed_years=[2026, 2028]))
    assert any("2028" in w and "cuti bersama" in w for w in cal.warnings)


def test_city_overrides_add_restrict_and_remove_days() -> None:
    text = _with(holidays=[{"date": "2026-09-07", "name": "HUT Kota Ambon",
                            "types": ["kantor_kelurahan"]},
                           {"date": "2026-09-08", "name": "Pelantikan Raja", "offices": ["neg-soya"]}],
                 not_holidays=[{"date": "2026-05-15", "reason": "SKB perubahan: dipindah"}])
    cal = parse_calendar(text)
    assert cal.day(date(2026, 9, 7), "kantor_kelurahan").closed == "HUT Kota Ambon"
    assert cal.day(date(2026, 9, 7), "dukcapil").closed is None
    assert cal.day(date(2026, 9, 8), "kantor_negeri", "neg-soya").closed == "Pelantikan Raja"
    assert cal.day(date(2026, 9, 8), "kantor_negeri", "neg-passo").closed is None
    assert cal.day(date(2026, 5, 15), "kantor_kelurahan").closed is None  # removed cuti bersama


def test_ramadan_override() -> None:
    cal = parse_calendar(_with(ramadan={2026: ["2026-02-18", "2026-03-19"]}))
    assert cal.season(date(2026, 2, 18)) == "ramadan"
    assert cal.season(date(2026, 3, 20)) == "regular"


def _error(text: str) -> str:
    with pytest.raises(CalendarError) as exc:
        parse_calendar(text, source="calendar.yaml")
    return str(exc.value)


def test_a_bad_date_names_file_line_and_field() -> None:
    text = REAL.replace("\nholidays: []", "\nholidays:\n- {date: 2026-02-30, name: Libur daerah}")
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "2026-02-30" in ln)
    msg = _error(text)
    assert msg.startswith(f"calendar.yaml:{line}: holidays[0].date:"), msg


def test_an_unknown_office_type_is_refused_with_its_line() -> None:
    text = REAL.replace("  pustu:\n", "  pustu:\n    regular: []\n  kantor_pos:\n", 1)
    msg = _error(text)
    assert "hours.kantor_pos" in msg and "calendar.yaml:" in msg, msg


@pytest.mark.parametrize("bad, words", [
    ("{days_of_week: [fri], opening_time: '15:00', closing_time: '08:00'}", "not after"),
    ("{days_of_week: [mon], opening_time: '10:00', closing_time: '12:00'}", "overlap on mon"),
])
def test_hours_ending_before_start_or_overlapping_are_refused(bad: str, words: str) -> None:
    anchor = "  kantor_kelurahan:\n    regular:\n"
    text = REAL.replace(anchor, f"{anchor}    - {bad}\n", 1)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if bad in ln)
    msg = _error(text)
    assert msg.startswith(f"calendar.yaml:{line}: hours.kantor_kelurahan.regular[0]: "), msg
    assert words in msg, msg


def test_missing_type_and_broken_yaml() -> None:
    data = yaml.safe_load(REAL)
    del data["hours"]["samsat"]
    assert "samsat" in _error(yaml.safe_dump(data))
    assert _error("hours: [\n").startswith("calendar.yaml:")


def test_a_missing_file_says_which_setting_to_fix(tmp_path) -> None:
    with pytest.raises(CalendarError, match="CALENDAR_PATH"):
        load_calendar(tmp_path / "nope.yaml")
