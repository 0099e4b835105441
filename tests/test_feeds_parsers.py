"""Feed parsers on realistic samples (data/samples/) and their malformed variants (pure, fast)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from ambon_core.domain import AlertKind, IncidentStatus
from ambon_core.settings import DATA_DIR
from workers.feeds import attendance, bmkg, cap, dlh, fhir, generic, open311
from workers.feeds.common import DocumentError, parse_time

SAMPLES = DATA_DIR / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def one_request(**changes: object) -> dict:
    rec = json.loads(sample("open311_requests.json"))[0]
    rec.update(changes)
    return rec


def parse_one(rec: dict):
    return open311.parse(json.dumps([rec]).encode())


# ---- Open311 -----------------------------------------------------------------------
@pytest.mark.parametrize("name,fmt", [("open311_requests.json", "json"), ("open311_requests.xml", "xml")])
def test_open311_samples_parse_completely(name: str, fmt: str) -> None:
    result = open311.parse(sample(name), fmt)
    assert result.rejects == [] and len(result.records) > 20
    inc = result.records[0]
    assert inc.incident_id.startswith("open311-112-") and inc.category in open311.SEVERITY_BY_CATEGORY
    assert inc.reported_at.tzinfo is not None and inc.lat is not None
    assert all(a in {"bpbd", "tni", "dinsos", "pln", "damkar", "polri", "dishub", "dinkes", "satpolpp", "dlh"}
               for i in result.records for a in i.agencies)
    times = result.extra["times"][inc.incident_id]
    if inc.status is IncidentStatus.CLOSED:
        assert times[IncidentStatus.RESOLVED] <= times[IncidentStatus.CLOSED]


def test_json_and_xml_samples_agree() -> None:
    a = {i.incident_id: i.status for i in open311.parse(sample("open311_requests.json")).records}
    b = {i.incident_id: i.status for i in open311.parse(sample("open311_requests.xml"), "xml").records}
    assert a == b


@pytest.mark.parametrize("status,ext,expected", [
    ("open", None, IncidentStatus.NEW), ("closed", None, IncidentStatus.CLOSED),
    ("open", "dispatched", IncidentStatus.DISPATCHED), ("open", "on-scene", IncidentStatus.ON_SCENE),
    ("closed", "resolved", IncidentStatus.RESOLVED)])
def test_status_mapping(status: str, ext: str | None, expected: IncidentStatus) -> None:
    rec = one_request(status=status, extended_attributes={"status": ext} if ext else {})
    assert parse_one(rec).records[0].status is expected


@pytest.mark.parametrize("changes,field", [
    ({"status": "pending"}, "status"),
    ({"extended_attributes": {"status": "teleported"}}, "status"),
    ({"lat": "sekitar pasar"}, "lat"),
    ({"requested_datetime": 1732400000}, "requested_datetime"),
    ({"requested_datetime": "kemarin sore"}, "requested_datetime"),
    ({"service_request_id": None}, "service_request_id"),
])
def test_bad_record_is_rejected_with_its_field_and_others_survive(changes: dict, field: str) -> None:
    good, bad = one_request(), one_request(**{"service_request_id": "BAD-1", **changes})
    result = open311.parse(json.dumps([good, bad]).encode())
    assert [r.field for r in result.rejects] == [field]
    assert [i.incident_id for i in result.records] == [f"open311-{good['service_request_id']}"]


@pytest.mark.parametrize("changes,note", [
    ({"service_code": None}, None),                       # service_name still says what it is
    ({"lat": 51.5, "long": -0.12}, "latitude 51.5"),      # London: the position goes, the call stays
    ({"lat": -3.69, "long": 150.0}, "longitude 150.0"),   # Pacific, off Indonesia
])
def test_usable_record_with_a_bad_part_is_kept(changes: dict, note: str | None) -> None:
    """Only an unusable record is dead-lettered (issue 15.7): an unknown code or a position
    outside Indonesia loses that part, never the report."""
    result = open311.parse(json.dumps([one_request(**{"service_request_id": "B-1", **changes})]).encode())
    [incident] = result.records
    assert result.rejects == []
    if "lat" in changes:
        assert incident.lat is None and incident.lon is None
        assert any(note in w for w in result.warnings)
    else:
        assert incident.title


def test_non_object_records_are_rejected() -> None:
    result = open311.parse(json.dumps([one_request(), 42, "x"]).encode())
    assert len(result.records) == 1 and len(result.rejects) == 2


@pytest.mark.parametrize("body", [
    sample("open311_requests.json")[:5000],            # truncated
    b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
    b'{"error": "maintenance"}', b"", b"\xff\xfe\x00garbage"])
def test_unreadable_documents_raise(body: bytes) -> None:
    with pytest.raises(DocumentError):
        open311.parse(body)


def test_truncated_xml_raises() -> None:
    with pytest.raises(DocumentError):
        open311.parse(sample("open311_requests.xml")[:3000], "xml")


@pytest.mark.parametrize("name", ["xml_billion_laughs.xml", "xml_xxe.xml"])
def test_xml_entities_are_refused(name: str) -> None:
    with pytest.raises(DocumentError, match="safety"):
        open311.parse(sample(name), "xml")


def test_html_and_script_kept_as_plain_text_and_phones_scrubbed() -> None:
    text = '<script>alert("x")</script><b>Banjir</b> hubungi 0812-3456-7890 &amp;'
    rec = one_request(description=text, first_name="Budi", last_name="Santoso", phone="081234567890",
                      email="budi@example.com")
    inc = parse_one(rec).records[0]
    assert inc.description.startswith('<script>alert("x")</script><b>Banjir</b>')  # verbatim, not rendered
    assert "0812" not in inc.description and "[nomor disembunyikan]" in inc.description
    dumped = inc.model_dump_json()
    assert "Budi" not in dumped and "081234567890" not in dumped and "example.com" not in dumped


def test_rejected_record_text_has_no_caller_identity() -> None:
    rec = one_request(status="???", first_name="Budi", phone="081234567890", description="tel 081234567890")
    rej = parse_one(rec).rejects[0]
    assert "Budi" not in rej.record_text and "081234567890" not in rej.record_text


@pytest.mark.parametrize("text,hour_utc", [
    ("2026-11-24T09:00:00+09:00", 0), ("2026-11-24T00:00:00Z", 0), ("2026-11-24T07:00:00+07:00", 0),
    ("2026-11-24T08:00:00+08:00", 0)])
def test_time_zones(text: str, hour_utc: int) -> None:
    assert parse_time(text, "t") == datetime(2026, 11, 24, hour_utc, tzinfo=UTC)


def test_time_without_zone_is_wit_and_flagged() -> None:
    notes: list[str] = []
    assert parse_time("2026-11-24T09:00:00", "t", notes) == datetime(2026, 11, 24, 0, tzinfo=UTC)
    assert notes and "WIT" in notes[0]
    result = parse_one(one_request(requested_datetime="2026-11-24T09:00:00"))
    assert result.records and any("no zone" in w for w in result.warnings)


def test_duplicate_ids_keep_the_newest_version() -> None:
    old = one_request(status="open", extended_attributes={"status": "new"},
                      updated_datetime="2026-11-24T08:00:00+09:00")
    new = one_request(status="open", extended_attributes={"status": "dispatched"},
                      updated_datetime="2026-11-24T09:00:00+09:00")
    result = open311.parse(json.dumps([new, old]).encode())
    assert len(result.records) == 1 and result.records[0].status is IncidentStatus.DISPATCHED


def test_generic_adapter_maps_fields_and_drops_the_reporter() -> None:
    mapping = {"service_request_id": "id", "service_code": "jenis", "service_name": "judul",
               "description": "uraian", "requested_datetime": "waktu", "lat": "lokasi.lat",
               "long": "lokasi.lon", "address": "lokasi.alamat", "agency_responsible": "instansi",
               "status": "status"}
    result = generic.parse(sample("generic_laporan.json"), "json", mapping, "data.laporan", source="lapor")
    assert [i.incident_id for i in result.records] == ["lapor-LPR-0001", "lapor-LPR-0002"]
    assert result.records[0].agencies == ["bpbd", "pln"]
    assert result.records[1].status is IncidentStatus.CLOSED and any("WIT" in w for w in result.warnings)
    assert "081234567890" not in result.records[0].model_dump_json()


# ---- BMKG ------------------------------------------------------------------------------
QUAKE = {"Tanggal": "24 Nov 2026", "Jam": "05:47:15 WIB", "DateTime": "2026-11-23T22:47:15+00:00",
         "Coordinates": "-3.76,127.87", "Lintang": "3.76 LS", "Bujur": "127.87 BT", "Magnitude": "5.4",
         "Kedalaman": "11 km", "Wilayah": "Pusat gempa berada di laut 35 km Barat Daya Ambon",
         "Potensi": "Tidak berpotensi tsunami", "Dirasakan": "", "Shakemap": "20261124054715.mmi.jpg"}


def quake_doc(**changes: str) -> bytes:
    return json.dumps({"Infogempa": {"gempa": {**QUAKE, **changes}}}).encode()


@pytest.mark.parametrize("name,fmt", [("bmkg_autogempa.json", "json"), ("bmkg_autogempa.xml", "xml")])
def test_bmkg_samples(name: str, fmt: str) -> None:
    result = bmkg.parse(sample(name), fmt)
    assert result.rejects == []
    alert = result.records[0]
    assert alert.kind is AlertKind.EARTHQUAKE and alert.params["magnitude"] > 0 and alert.lat < 0


def test_quake_felt_by_distance_and_magnitude_or_by_dirasakan() -> None:
    assert len(bmkg.parse(quake_doc()).records) == 1                       # 35 km, M5.4
    far = {"Coordinates": "-7.5,110.4", "Lintang": "7.5 LS", "Bujur": "110.4 BT",
           "Magnitude": "5.9"}                                                # Java
    assert bmkg.parse(quake_doc(**far)).records == []
    assert len(bmkg.parse(quake_doc(**far, Dirasakan="II Ambon")).records) == 1
    assert bmkg.parse(quake_doc(Magnitude="3.1")).records == []             # near but weak


@pytest.mark.parametrize("changes,field", [({"Magnitude": "besar"}, "Magnitude"),
                                           ({"DateTime": "24 Nov"}, "DateTime"),
                                           ({"Coordinates": "3.76,-127.87"}, "Coordinates"),
                                           ({"Coordinates": "3.76,-127.87", "Lintang": None,
                                             "Bujur": None}, "long")])
def test_quake_bad_fields(changes: dict, field: str) -> None:
    assert bmkg.parse(quake_doc(**changes)).rejects[0].field == field


def test_quake_lintang_bujur_fallback() -> None:
    doc = json.loads(quake_doc())
    del doc["Infogempa"]["gempa"]["Coordinates"]
    alert = bmkg.parse(json.dumps(doc).encode()).records[0]
    assert (alert.lat, alert.lon) == (-3.76, 127.87)


# ---- CAP -----------------------------------------------------------------------------
def test_cap_sample_keeps_polygon_and_covers_ambon() -> None:
    now = datetime.fromisoformat("2026-11-24T02:00:00+00:00")
    body = sample("bmkg_cap_warnings.xml")
    result = cap.parse(body, now)
    covering = [a for a in result.records if a.params["polygon"]]
    for alert in covering:
        assert alert.kind is AlertKind.WEATHER
        assert cap.covers(cap.polygon_points(alert), bmkg.AMBON)


CAP_ONE = """<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>X1</identifier>
<sender>bmkg</sender><sent>2026-11-24T08:00:00+09:00</sent><status>{status}</status><msgType>Alert</msgType>
<scope>Public</scope><info><event>Hujan Lebat</event><urgency>Immediate</urgency><severity>Severe</severity>
<certainty>Likely</certainty><expires>2026-11-24T12:00:00+09:00</expires>
<area><areaDesc>{area}</areaDesc><polygon>{polygon}</polygon></area></info></alert>"""
AMBON_POLY = "-3.55,127.95 -3.55,128.35 -3.85,128.35 -3.85,127.95 -3.55,127.95"
SERAM_POLY = "-2.80,129.00 -2.80,130.20 -3.10,130.20 -3.10,129.00 -2.80,129.00"


@pytest.mark.parametrize("polygon,status,now,hits", [
    (AMBON_POLY, "Actual", "2026-11-24T10:00:00+09:00", 1),
    (SERAM_POLY, "Actual", "2026-11-24T10:00:00+09:00", 0),
    (AMBON_POLY, "Exercise", "2026-11-24T10:00:00+09:00", 0),
    (AMBON_POLY, "Actual", "2026-11-24T13:00:00+09:00", 0)])  # expired
def test_cap_rules(polygon: str, status: str, now: str, hits: int) -> None:
    body = CAP_ONE.format(status=status, area="Ambon", polygon=polygon).encode()
    result = cap.parse(body, datetime.fromisoformat(now))
    assert len(result.records) == hits
    if hits:
        assert result.records[0].params["polygon"] == AMBON_POLY and result.records[0].severity == 3


def test_cap_bad_polygon_rejected() -> None:
    body = CAP_ONE.format(status="Actual", area="x", polygon="-3.5,128 abc").encode()
    assert cap.parse(body, datetime(2026, 11, 24, tzinfo=UTC)).rejects[0].field == "polygon"


# ---- FHIR, attendance, DLH ------------------------------------------------------------------
def test_fhir_locations_and_services() -> None:
    locs = fhir.parse_locations(sample("fhir_location_bundle.json"), None, date(2026, 11, 24))
    assert locs.rejects == [] and len(locs.records) >= 20
    assert locs.records[0].hours[0]["opening_time"].count(":") == 1
    svc = fhir.parse_services(sample("fhir_healthcareservice_bundle.json"))
    keys = {c.key for c in svc.records}
    assert any(k.startswith("2026-12-25:pkm-") for k in keys)


def test_fhir_bad_day_code_and_suspended_location() -> None:
    bundle = json.loads(sample("fhir_location_bundle.json"))
    bundle["entry"][0]["resource"]["hoursOfOperation"][0]["daysOfWeek"] = ["senin"]
    bundle["entry"][1]["resource"]["status"] = "suspended"
    result = fhir.parse_locations(json.dumps(bundle).encode(), None, date(2026, 11, 24))
    assert result.rejects[0].field == "hoursOfOperation.daysOfWeek"
    [suspended] = [r for r in result.records if r.status == "suspended"]
    assert suspended.closed_reason  # the Location's description, else "Location suspended"


def test_fhir_not_a_bundle() -> None:
    with pytest.raises(DocumentError):
        fhir.parse_locations(b'{"resourceType": "Patient"}')


def test_attendance_counts_distinct_staff_of_today_only() -> None:
    doc = {"tanggal": "2026-11-24", "checkins": [
        {"puskesmas_id": "pkm-a", "nip": "1", "nama": "A", "check_in": "2026-11-24T07:40:00+09:00"},
        {"puskesmas_id": "pkm-a", "nip": "1", "nama": "A", "check_in": "2026-11-24T07:41:00+09:00"},
        {"puskesmas_id": "pkm-a", "nip": "2", "nama": "B", "check_in": "2026-11-24T07:20:00+09:00"},
        {"puskesmas_id": "pkm-a", "nip": "3", "nama": "C", "check_in": "2026-11-23T07:20:00+09:00"},
        {"puskesmas_id": "pkm-zzz", "nip": "4", "nama": "D", "check_in": "2026-11-24T07:20:00+09:00"},
        {"puskesmas_id": "pkm-a", "nip": "5", "nama": "E", "check_in": 20261124}]}
    result = attendance.parse(json.dumps(doc).encode(), "json", {"pkm-a"}, date(2026, 11, 24))
    [att] = result.records
    assert att.staff_checked_in == 2 and att.first_check_in_at == datetime(2026, 11, 23, 22, 20, tzinfo=UTC)
    assert sorted(r.field for r in result.rejects) == ["check_in", "puskesmas_id"]
    assert "nama" not in att.model_dump_json() and "nip" not in att.model_dump_json()


def test_attendance_sample_and_csv() -> None:
    result = attendance.parse(sample("asn_attendance.json"), "json", None,
                              date.fromisoformat(json.loads(sample("asn_attendance.json"))["tanggal"]))
    assert result.rejects == [] and result.records
    csv_body = b"puskesmas_id,nip,nama,check_in\npkm-a,1,X,2026-11-24T07:00:00+09:00\n"
    assert attendance.parse(csv_body, "csv", None, date(2026, 11, 24)).records[0].staff_checked_in == 1


def test_dlh_sample_and_bad_rows() -> None:
    body = sample("dlh_trips.csv")
    assert len(dlh.parse(body).records) >= 5
    bad = body + (b"X1,DE 1 AU,tps-batu-merah,2026-11-24T06:00:00+09:00,banyak,\n"
                  b"X2,DE 1 AU,tps-batu-merah,2026-11-24T06:00:00+09:00,99999,\n"
                  b"X3,DE 1 AU,tps-batu-merah,2026-11-24T06:00:00+09:00,100,2026-11-24T05:00:00+09:00\n")
    result = dlh.parse(bad, {"tps-batu-merah", "tps-kudamati", "tps-galala", "tps-passo"} | {
        r.tps_id for r in dlh.parse(body).records})
    assert sorted(r.field for r in result.rejects) == ["tonnage_kg", "tonnage_kg", "tpa_arrived_at"]
    with pytest.raises(DocumentError):
        dlh.parse(b"foo,bar\n1,2\n")
