"""Service offices in the registry and the ASN roster/attendance: bad input is refused with
file, line and field, and the rest keeps working."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ambon_core.asn_attendance import load_roster, parse_roster
from ambon_core.registry import RegistryError, load_registry, parse_registry
from ambon_core.settings import DATA_DIR
from workers.feeds import office_attendance

WIT = ZoneInfo("Asia/Jayapura")
SAMPLE = (DATA_DIR / "registry.yaml").read_text(encoding="utf-8")
REG = load_registry()
OFFICES = {o.id for o in REG.offices}
ROSTER = load_roster(DATA_DIR / "asn_roster.csv", OFFICES)
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=WIT)


def test_sample_lists_every_office_type_with_owner_and_attendance() -> None:
    assert {o.type for o in REG.offices} == {"pustu", "kantor_kelurahan", "kantor_negeri",
                                             "dukcapil", "mpp", "samsat"}
    assert all(o.attendance == "absensi-kantor" for o in REG.offices)
    assert {o.opd for o in REG.offices if o.type == "kantor_kelurahan" and o.kecamatan == "Sirimau"} \
        == {"kec_sirimau"}
    assert not ROSTER.errors and all(ROSTER.staff_of(o) > 0 for o in OFFICES)


def _office_error(old: str, new: str) -> str:
    bad = SAMPLE.replace(old, new, 1)
    with pytest.raises(RegistryError) as err:
        parse_registry(bad, source="registry.yaml")
    return str(err.value)


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_an_unknown_office_type_names_line_and_field() -> None:
    bad = SAMPLE.replace("  type: samsat", "  type: kantor_pos", 1)
    message = _office_error("  type: samsat", "  type: kantor_pos")
    assert message.startswith(f"registry.yaml:{_line_of(bad, 'type: kantor_pos')}: offices[19].type:")
    assert "'mpp'" in message


@pytest.mark.parametrize("hours, words", [
    ("[{days_of_week: [mon], opening_time: '16:00', closing_time: '08:00'}]",
     "closing_time 08:00 is not after opening_time 16:00"),
    ("[{days_of_week: [mon, tue], opening_time: '08:00', closing_time: '12:00'}, "
     "{days_of_week: [tue], opening_time: '11:00', closing_time: '15:00'}]",
     "hours[0] and hours[1] overlap on tue"),
])
def test_office_hours_that_end_before_start_or_overlap(hours: str, words: str) -> None:
    anchor = "  address: Waihoka\n  attendance: absensi-kantor\n"
    bad = SAMPLE.replace(anchor, f"{anchor}  hours: {hours}\n", 1)
    with pytest.raises(RegistryError) as err:
        parse_registry(bad, source="registry.yaml")
    message = str(err.value)
    assert message.startswith(f"registry.yaml:{_line_of(bad, '  hours: [')}: offices[0].hours:")
    assert words in message


def test_an_office_of_an_unknown_department_is_refused() -> None:
    message = _office_error("  opd: dpmptsp", "  opd: dpm")
    assert "office mpp-ambon: opd 'dpm' is not in opds" in message


def test_a_bad_roster_row_is_refused_and_the_rest_is_used() -> None:
    text = ("nip,kantor_id\n197705222019022587,kel-waihoka\n12345,kel-waihoka\n"
            "198001012005011001,kel-atlantis\n198001012005011002,kel-benteng\n")
    roster = parse_roster(text, OFFICES, source="asn_roster.csv")
    assert roster.office_of == {"197705222019022587": "kel-waihoka",
                                "198001012005011002": "kel-benteng"}
    assert roster.errors == [
        "asn_roster.csv:3: nip: not an 18-digit NIP (value withheld)",
        "asn_roster.csv:4: kantor_id: 'kel-atlantis' is not a registry office"]
    assert "12345" not in " ".join(roster.errors)


def _staff(office: str) -> list[str]:
    return sorted(n for n, o in ROSTER.office_of.items() if o == office)


def test_attendance_maps_employees_to_offices() -> None:
    waihoka, uritetu = _staff("kel-waihoka"), _staff("kel-uritetu")
    rows = [{"nip": waihoka[0], "lokasi": "kel-waihoka", "jam_masuk": "2026-11-23T07:20:00+09:00"},
            {"nip": waihoka[1], "lokasi": "kel-waihoka", "jam_masuk": "2026-11-23T07:40:00+09:00"},
            {"nip": waihoka[1], "lokasi": "kel-waihoka", "jam_masuk": "2026-11-23T08:40:00+09:00"},
            {"nip": waihoka[2], "lokasi": "neg-soya", "jam_masuk": "2026-11-23T07:30:00+09:00"},
            *({"nip": n, "lokasi": "kel-karang-panjang", "jam_masuk": "2026-11-23T07:10:00+09:00"}
              for n in uritetu),
            {"nip": uritetu[0], "lokasi": "kel-uritetu", "jam_masuk": "2026-11-22T07:10:00+09:00"}]
    body = json.dumps({"tanggal": "2026-11-23", "kehadiran": rows}).encode()
    result = office_attendance.parse(body, "json", ROSTER, sorted(OFFICES), TODAY, NOW, WIT)
    by = {a.office_id: a for a in result.records}
    w = by["kel-waihoka"]
    assert (w.staff_expected, w.staff_in, w.staff_elsewhere) == (len(waihoka), 2, 1)
    assert w.first_check_in_at == datetime(2026, 11, 22, 22, 20, tzinfo=UTC)
    u = by["kel-uritetu"]
    assert (u.staff_in, u.staff_elsewhere) == (0, len(uritetu))  # all checked in elsewhere
    assert by["kel-karang-panjang"].visitors == len(uritetu)
    assert by["neg-soya"].visitors == 1
    assert by["kel-benteng"].staff_in == 0  # nobody came
    assert result.extra["other_day"] == 1 and not result.rejects


def test_unknown_employee_or_office_is_rejected_with_line_and_field() -> None:
    nip = _staff("kel-benteng")[0]
    body = (f"nip,lokasi,jam_masuk\n{nip},kel-benteng,2026-11-23T07:25:00+09:00\n"
            "199901012020011999,kel-benteng,2026-11-23T07:26:00+09:00\n"
            f"{nip},kantor-hantu,2026-11-23T07:27:00+09:00\n").encode()
    result = office_attendance.parse(body, "csv", ROSTER, sorted(OFFICES), TODAY, NOW, WIT)
    assert [(r.record_id, r.field) for r in result.rejects] == [("line 3", "nip"),
                                                                ("line 4", "lokasi")]
    assert all("199901012020011999" not in r.reason and "199901012020011999" not in r.record_text
               for r in result.rejects)  # a NIP never reaches a log or a dead letter
    assert {a.office_id: a.staff_in for a in result.records}["kel-benteng"] == 1
