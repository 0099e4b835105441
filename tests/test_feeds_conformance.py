"""Conformance: real documents (tests/fixtures/real/, provenance in its README) and what each
must yield. Where a real document disagreed with a parser, the parser was changed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workers.feeds import bmkg, cap, fhir, open311
from workers.feeds.common import DocumentError

REAL = Path(__file__).parent / "fixtures" / "real"


def real(kind: str, name: str) -> bytes:
    return (REAL / kind / name).read_bytes()


# ---- BMKG --------------------------------------------------------------------------------
# file -> (format, [(UTC time, lat, lon, magnitude, depth_km)] of every quake in it)
BMKG = {
    "autogempa-sumedang-2024.json": ("json", [("2024-01-10T13:17:26", -6.83, 107.95, 2.8, 6.0)]),
    "autogempa-dompu-2021.json": ("json", [("2021-10-05T11:00:27", -8.15, 118.10, 4.5, 20.0)]),
    "autogempa-tambrauw-m5-2021.json": ("json", [("2021-10-13T03:08:42", -0.14, 133.02, 5.3, 10.0)]),
    "autogempa-bengkulu-list-2022.json": ("json", [("2022-05-23T12:32:02", -4.61, 102.75, 4.9, 41.0)]),
    "autogempa-buol-2019.xml": ("xml", [("2019-08-27T06:31:23", 1.27, 122.05, 5.0, 10.0)]),
    "autogempa-latlon-order-2021.xml": ("xml", [("2021-10-04T10:59:19", 1.04, 126.96, 4.7, -17.0)]),
}


def all_quakes(body: bytes, fmt: str) -> list[tuple[str, float, float, float, float | None]]:
    out = []
    for record in bmkg.records(body, fmt):
        alert, _felt = bmkg.to_alert(record, [])
        out.append((alert.raised_at.strftime("%Y-%m-%dT%H:%M:%S"), alert.lat, alert.lon,
                    alert.params["magnitude"], alert.params["depth_km"]))
    return out


@pytest.mark.parametrize("name", sorted(BMKG))
def test_bmkg_real_document_yields_each_quake(name: str) -> None:
    fmt, expected = BMKG[name]
    result = bmkg.parse(real("bmkg", name), fmt)
    assert result.rejects == []
    assert all_quakes(real("bmkg", name), fmt) == expected
    assert result.records == [] and result.extra["not_felt"] == 1  # none of them near Ambon


def test_bmkg_gempaterkini_list_of_fifteen() -> None:
    body = real("bmkg", "gempaterkini-flores-tsunami-2021.json")
    result = bmkg.parse(body)
    quakes = all_quakes(body, "json")
    assert result.rejects == [] and len(quakes) == 15 and result.extra["not_felt"] == 15
    assert max(q[3] for q in quakes) == 7.5
    assert quakes[-1][1:3] == (3.99, 128.0)  # "3.99 LU": north of the equator
    # the same quake listed three times is one alert id (an alert for each quake, once)
    assert len({q[0] for q in quakes}) == 13


def test_bmkg_xml_point_is_lon_lat_and_checked_by_lintang_bujur() -> None:
    """The issue's case: the XML point read as lat,lon put a quake near Ambon at latitude 128."""
    xml = real("bmkg", "autogempa-buol-2019.xml").decode()
    near_ambon = (xml.replace("122.05,1.27", "128.05,-3.60").replace("1.27 LU", "3.60 LS")
                  .replace("122.05 BT", "128.05 BT"))
    [alert] = bmkg.parse(near_ambon.encode(), "xml").records
    assert (alert.lat, alert.lon) == (-3.60, 128.05)
    disagreeing = near_ambon.replace("3.60 LS", "7.60 LS")
    [reject] = bmkg.parse(disagreeing.encode(), "xml").rejects
    assert reject.field == "point.coordinates" and "disagrees with Lintang/Bujur" in reject.reason


def test_bmkg_decimal_commas_are_read() -> None:
    doc = json.loads(real("bmkg", "autogempa-dompu-2021.json"))
    doc["Infogempa"]["gempa"].update(Magnitude="5,1", Kedalaman="10,5 Km", Lintang="8,15 LS",
                                     Bujur="118,10 BT")
    [(_, lat, lon, magnitude, depth)] = all_quakes(json.dumps(doc).encode(), "json")
    assert (lat, lon, magnitude, depth) == (-8.15, 118.10, 5.1, 10.5)


def felt_list(fmt: str) -> bytes:
    """A gempadirasakan document (same fields, a list of felt quakes), built from real records:
    the Flores M7.4 (far) and the Dompu quake moved to 25 km from Ambon and felt there."""
    far = json.loads(real("bmkg", "gempaterkini-flores-tsunami-2021.json"))["Infogempa"]["gempa"][1]
    near = dict(json.loads(real("bmkg", "autogempa-dompu-2021.json"))["Infogempa"]["gempa"],
                Coordinates="-3.52,128.33", Lintang="3.52 LS", Bujur="128.33 BT",
                Dirasakan="III Ambon, II Masohi")
    if fmt == "json":
        return json.dumps({"Infogempa": {"gempa": [near, far]}}).encode()
    items = []
    for q in (near, far):
        lat, lon = q["Coordinates"].split(",")
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in q.items() if k != "Coordinates")
        items.append(f"<gempa>{fields}<point><coordinates>{lon},{lat}</coordinates></point></gempa>")
    return f'<?xml version="1.0"?><Infogempa>{"".join(items)}</Infogempa>'.encode()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bmkg_gempadirasakan_both_forms_alert_for_the_felt_quake(fmt: str) -> None:
    result = bmkg.parse(felt_list(fmt), fmt)
    [alert] = result.records
    assert result.rejects == [] and result.extra["not_felt"] == 1
    assert alert.alert_id == "bmkg-gempa-20211005T110027" and alert.params["dirasakan"].startswith("III")


# ---- CAP ----------------------------------------------------------------------------------
CAP = {  # file -> (identifier, when it was valid, number of alerts referenced as replaced)
    "nws-greatfalls-flash-flood-watch-2012.cap":
        ("NOAA-NWS-ALERTS-MT20120830100700TFXFlashFloodWatchTFX20120830180000MT", "2012-08-30T11:00:00", 0),
    "usgs-earthquake-tonga-2010.cap": ("USGS-earthquakes-us2010apcd.6.20100831T000925.496Z",
                                       "2010-08-31T06:00:00", 0),
    "nsw-rfs-structure-fire-2011.cap": ("tag:www.rfs.nsw.gov.au2011-10-06:40184", "2011-10-05T14:00:00", 0),
    "environment-canada-storm-update-2011.cap": ("CA-EC-CWTO-2011-138776", "2011-02-08T06:00:00", 5),
    "nws-sacramento-severe-thunderstorm-2003.cap": ("KSTO1055887203", "2003-06-17T22:00:00", 0),
}


@pytest.mark.parametrize("name", sorted(CAP))
def test_cap_real_alert_parses_and_does_not_cover_ambon(name: str) -> None:
    ident, valid_at, replaced = CAP[name]
    result = cap.parse(real("cap", name), datetime.fromisoformat(valid_at).replace(tzinfo=UTC))
    assert result.rejects == [] and result.records == []
    assert result.extra["not_covering"] == 1 and len(result.extra["cancelled"]) == replaced


@pytest.mark.parametrize("name", sorted(CAP))
def test_cap_real_alert_over_ambon_becomes_a_weather_alert(name: str) -> None:
    """The same document with its area moved over Ambon: the fields reach the alert."""
    ident, valid_at, _ = CAP[name]
    text = real("cap", name).decode()
    prefix = "cap:" if "<cap:alert" in text else ""
    area = (f"<{prefix}area><{prefix}areaDesc>Kota Ambon</{prefix}areaDesc>"
            f"<{prefix}polygon>-3.60,128.10 -3.60,128.30 -3.80,128.30 -3.80,128.10 -3.60,128.10"
            f"</{prefix}polygon></{prefix}area>")
    moved = text.replace(f"</{prefix}info>", area + f"</{prefix}info>", 1)
    now = datetime.fromisoformat(valid_at).replace(tzinfo=UTC)
    [alert] = cap.parse(moved.encode(), now).records
    assert alert.alert_id == f"cap-{ident}" and alert.params["area"] == "Kota Ambon"
    later = datetime(2030, 1, 1, tzinfo=UTC)  # every one of them has expired since
    assert cap.parse(moved.encode(), later).records == []


def test_cap_canada_update_replaces_what_it_references() -> None:
    result = cap.parse(real("cap", "environment-canada-storm-update-2011.cap"),
                       datetime(2011, 2, 8, 6, tzinfo=UTC))
    assert "cap-CA-EC-CWTO-2011-138774" in result.extra["cancelled"]


# ---- FHIR ---------------------------------------------------------------------------------
def sites(**by_satusehat: str) -> fhir.SiteIndex:
    return fhir.SiteIndex(ids={"pkm-a", "pkm-b"}, by_satusehat=by_satusehat)


@pytest.mark.parametrize("name,location_id", [("hl7-location-example.json", "1"),
                                              ("hl7-location-example-hl7hq.json", "hl7")])
def test_fhir_real_location_matches_by_satusehat_id_or_names_the_field(name: str,
                                                                       location_id: str) -> None:
    [hours] = fhir.parse_locations(real("fhir", name), sites(**{location_id: "pkm-a"})).records
    assert (hours.puskesmas_id, hours.location_id, hours.status) == ("pkm-a", location_id, "active")
    assert hours.hours == [] and hours.closed_reason is None
    [reject] = fhir.parse_locations(real("fhir", name), sites()).rejects
    assert reject.field == "satusehat_id" and repr(location_id) in reject.reason


def test_fhir_real_location_matches_by_identifier_system_and_value() -> None:
    doc = json.loads(real("fhir", "hl7-location-example.json"))
    doc["identifier"] = [{"system": "http://sys-ids.kemkes.go.id/location/1000001", "value": "pkm-b"}]
    body = json.dumps(doc).encode()
    index = sites()
    index.identifier_system = "http://sys-ids.kemkes.go.id/location/1000001"
    assert fhir.parse_locations(body, index).records[0].puskesmas_id == "pkm-b"
    index.identifier_system = "http://sys-ids.kemkes.go.id/location/9999999"  # another organisation
    assert fhir.parse_locations(body, index).rejects[0].field == "satusehat_id"


SERVICES = {  # file -> (Location id referenced, closure days)
    "hl7-healthcareservice-example-stu3.json": ("1", ["2015-12-25", "2015-12-26", "2016-01-01"]),
    "hl7-healthcareservice-example-dstu2.json": ("1", ["2015-12-25", "2015-12-26", "2016-01-01"]),
    "jonahyeoh-healthcareservice-cardiology-r4.json":
        ("JonahCardiology", ["2020-12-25", "2020-12-26", "2020-01-01"]),
}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_fhir_real_healthcareservice_reaches_its_location(name: str) -> None:
    location_id, days = SERVICES[name]
    result = fhir.parse_services(real("fhir", name), sites(**{location_id: "pkm-b"}))
    assert result.rejects == []
    assert [(c.puskesmas_id, c.day.isoformat()) for c in result.records] == [("pkm-b", d) for d in days]
    assert {c.reason for c in result.records} == {"Christmas/Boxing Day", "New Years Day"}
    [reject] = fhir.parse_services(real("fhir", name), sites()).rejects
    assert reject.field == "location" and "satusehat_id" in reject.reason


def test_fhir_service_resolves_through_a_location_in_the_same_bundle() -> None:
    """SATUSEHAT style: UUID ids; the HealthcareService names only Location/<uuid>, the
    Bundle (_include) carries that Location, whose identifier names the puskesmas."""
    uuid = "dc01c797-547a-4e4d-97cd-4ece0630e380"
    location = {"resourceType": "Location", "id": uuid, "status": "active",
                "identifier": [{"system": "http://sys-ids.kemkes.go.id/location/1000001",
                                "value": "pkm-a"}]}
    service = json.loads(real("fhir", "jonahyeoh-healthcareservice-cardiology-r4.json"))
    service["location"] = [{"reference": f"Location/{uuid}"}]
    bundle = {"resourceType": "Bundle", "entry": [{"resource": service}, {"resource": location}]}
    result = fhir.parse_services(json.dumps(bundle).encode(), sites())
    assert result.rejects == [] and {c.puskesmas_id for c in result.records} == {"pkm-a"}


def test_fhir_suspended_location_carries_its_reason() -> None:
    doc = json.loads(real("fhir", "hl7-location-example.json"))
    doc.update(status="suspended", description="Renovasi gedung",
               hoursOfOperation=[{"daysOfWeek": ["mon", "tue", "wed", "thu", "fri"], "allDay": False,
                                  "openingTime": "07:00:00", "closingTime": "17:00:00"}])
    [hours] = fhir.parse_locations(json.dumps(doc).encode(), sites(**{"1": "pkm-a"})).records
    assert hours.closed_reason == "Renovasi gedung"
    assert hours.hours == [{"days_of_week": ["mon", "tue", "wed", "thu", "fri"],
                            "opening_time": "07:00", "closing_time": "17:00"}]
    doc.update(status="active", operationalStatus={
        "system": "http://terminology.hl7.org/CodeSystem/v2-0116", "code": "C", "display": "Closed"})
    [closed] = fhir.parse_locations(json.dumps(doc).encode(), sites(**{"1": "pkm-a"})).records
    assert closed.closed_reason == "Renovasi gedung"


# ---- Open311 ------------------------------------------------------------------------------
def test_open311_spec_xml_example() -> None:
    result = open311.parse(real("open311", "georeport-v2-spec-requests.xml"), "xml")
    assert result.rejects == []
    assert [(i.incident_id, i.status.value, i.category, i.title, i.lat) for i in result.records] == [
        ("open311-638344", "closed", "lainnya", "Sidewalk and Curb Issues", None),
        ("open311-638349", "new", "lainnya", "Sidewalk and Curb Issues", None)]
    assert result.records[0].address == "8TH AVE and JUDAH ST"
    assert result.extra["unmapped"] == {"service_code 006 / Sidewalk and Curb Issues": 2}
    assert any("position dropped" in w for w in result.warnings)  # San Francisco, not Indonesia


def test_open311_spec_json_example_is_not_json_and_is_refused_clearly() -> None:
    with pytest.raises(DocumentError, match="not valid JSON"):
        open311.parse(real("open311", "georeport-v2-spec-requests.json"))


def test_open311_helsinki_list_and_single_request() -> None:
    listed = open311.parse(real("open311", "helsinki-requests-2013.json"))
    assert listed.rejects == []
    assert [(i.incident_id, i.status.value) for i in listed.records] == [
        ("open311-8fmht6g1470b3qk8pthg", "new"), ("open311-1ju4p6v3e04pcpobfv7u", "closed")]
    assert listed.records[0].title == "171"  # no service_name: the code is what there is
    [single] = open311.parse(real("open311", "helsinki-request-8fmht6g1470b3qk8pthg.json")).records
    assert single.status.value == "closed" and single.reported_at == datetime(2013, 5, 2, 8, 2, 7,
                                                                              tzinfo=UTC)


def test_open311_rostock_mapped_by_the_feeds_own_vocabulary() -> None:
    body = real("open311", "rostock-klarschiff-requests-2020.json")
    bare = open311.parse(body)
    assert bare.rejects == [] and {i.category for i in bare.records} == {"lainnya"}
    assert bare.extra["unmapped"]["agency_responsible Amt für Verkehrsanlagen"] == 1
    mapping = open311.Mapping(categories={"Sperrmüll": "sampah", "5": "kecelakaan"},
                              agencies={"Amt für Umweltschutz (delegiert an Stadtentsorgung Rostock GmbH)":
                                        "dlh", "Amt für Verkehrsanlagen": "dishub"})
    mapped = open311.parse(body, mapping=mapping)
    assert [(i.category, i.agencies) for i in mapped.records] == [("sampah", ["dlh"]),
                                                                 ("kecelakaan", ["dishub"])]
    assert mapped.extra["unmapped"] == {}


def test_corpus_has_five_documents_per_format_or_says_why() -> None:
    counts = {kind: len([p for p in (REAL / kind).iterdir() if p.is_file()])
              for kind in ("bmkg", "cap", "fhir", "open311")}
    assert counts == {"bmkg": 7, "cap": 5, "fhir": 5, "open311": 5}
