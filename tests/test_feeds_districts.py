"""112 reports from Maluku Tengah villages on Pulau Ambon are accepted and labelled by their
own district (seed 004), never forced into a Kota Ambon kecamatan."""

from __future__ import annotations

import json

import pytest

from ambon_core.districts import DISTRICT_LABELS, district_of
from ambon_core.registry import load_registry
from ambon_core.settings import DATA_DIR
from ambon_core.store import LiveState
from components.summaries import incident_table
from workers.feeds import open311


@pytest.mark.parametrize("explicit,address,expected", [
    ("Salahutu", None, "Salahutu (Maluku Tengah)"),
    ("leihitu barat", None, "Leihitu Barat (Maluku Tengah)"),
    (None, "Jl. Raya Tulehu, dekat pelabuhan", "Salahutu (Maluku Tengah)"),
    (None, "Negeri Hila, Kec. Leihitu", "Leihitu (Maluku Tengah)"),
    (None, "Desa Larike", "Leihitu Barat (Maluku Tengah)"),
    (None, "Kec. Teluk Ambon Baguala, Passo", "Teluk Ambon Baguala"),
    ("Sirimau", "Tulehu", "Sirimau"),          # an explicit district wins over the address
    (None, "Jl. Pattimura, Ambon", None),      # names no district: placed later by the map
    (None, "Jl. Leihitu", "Leihitu (Maluku Tengah)"),
])
def test_district_of_what_the_record_names(explicit: str | None, address: str | None,
                                           expected: str | None) -> None:
    assert district_of(explicit, address) == expected


def request(**changes: object) -> dict:
    base = json.loads((DATA_DIR / "samples" / "open311_requests.json").read_text())[0]
    return {**base, "status": "open", "extended_attributes": {}, **changes}


def test_maluku_tengah_report_is_accepted_and_labelled_on_the_incident_page() -> None:
    records = [request(service_request_id="MT-1", address="Negeri Tulehu", lat="-3.587", long="128.327"),
               request(service_request_id="MT-2", extended_attributes={"kecamatan": "Leihitu"},
                       lat="-3.59", long="128.08")]
    result = open311.parse(json.dumps(records).encode())
    assert result.rejects == []
    assert [i.kecamatan for i in result.records] == ["Salahutu (Maluku Tengah)", "Leihitu (Maluku Tengah)"]
    live = LiveState(incidents={i.incident_id: i for i in result.records})
    table = incident_table(live, load_registry())
    assert sorted(table["kecamatan"]) == ["Leihitu (Maluku Tengah)", "Salahutu (Maluku Tengah)"]
    assert set(table["kecamatan"]) <= set(DISTRICT_LABELS)  # the page's district filter offers them
