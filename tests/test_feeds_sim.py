"""The simulated feeds speak the real formats: BMKG XML points in KML order, the felt list,
112 reports from Maluku Tengah villages."""

from __future__ import annotations

from datetime import datetime

from ambon_core.registry import load_registry
from ambon_sim.feed_world import WIT
from ambon_sim.feeds import FeedSim
from workers.feeds import bmkg, open311


def sim() -> FeedSim:
    return FeedSim(load_registry(), seed=7, speed=0, start=datetime(2026, 11, 24, 10, tzinfo=WIT))


def test_sim_felt_list_in_both_forms_gives_the_same_alerts() -> None:
    s = sim()
    as_json = bmkg.parse(s.document("/bmkg/gempadirasakan.json"), "json")
    as_xml = bmkg.parse(s.document("/bmkg/gempadirasakan.xml"), "xml")
    assert as_json.rejects == [] and as_xml.rejects == []
    assert as_json.records and [a.alert_id for a in as_json.records] == [a.alert_id for a in as_xml.records]
    assert [(a.lat, a.lon) for a in as_json.records] == [(a.lat, a.lon) for a in as_xml.records]
    assert b"<coordinates>12" in s.document("/bmkg/autogempa.xml")  # longitude first, as BMKG


def test_sim_112_reports_include_maluku_tengah_villages() -> None:
    result = open311.parse(sim().document("/open311/requests.json"))
    districts = {i.kecamatan for i in result.records if i.kecamatan}
    assert result.rejects == [] and districts & {"Salahutu (Maluku Tengah)", "Leihitu (Maluku Tengah)",
                                                  "Leihitu Barat (Maluku Tengah)"}
