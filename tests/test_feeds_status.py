"""The feed worker on real Redis and SQLite, with file:// sources (an unchanged file answers
304): time-based state evaluated every poll, alert ownership per feed, honest FeedStatus."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ambon_core.domain import AlertKind, FeedStatus, SiteSchedule
from ambon_core.settings import ROOT, Settings
from ambon_core.store import Store
from workers.feeds.worker import FeedWorker
from workers.status_report import status_report

REAL = Path(__file__).parent / "fixtures" / "real"
T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 10:00 WIT


def cap_doc(ident: str, polygon: str, expires: datetime) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>{ident}</identifier>
<sender>bmkg</sender><sent>{T0.isoformat()}</sent><status>Actual</status><msgType>Alert</msgType>
<scope>Public</scope><info><event>Hujan Lebat</event><severity>Severe</severity>
<effective>{T0.isoformat()}</effective><expires>{expires.isoformat()}</expires>
<headline>Peringatan dini cuaca</headline><area><areaDesc>{ident}</areaDesc>
<polygon>{polygon}</polygon></area></info></alert>"""


AMBON_POLY = "-3.60,128.10 -3.60,128.30 -3.80,128.30 -3.80,128.10 -3.60,128.10"
JAKARTA_POLY = "-6.10,106.70 -6.10,106.95 -6.35,106.95 -6.35,106.70 -6.10,106.70"


def worker(settings: Settings, tmp_path: Path, feeds: list[dict]) -> FeedWorker:
    path = tmp_path / "feeds.yaml"
    path.write_text(json.dumps({"feeds": feeds}))  # JSON is YAML
    w = FeedWorker(settings, feeds_path=path, retry_wait_s=0.01)
    w.clock = lambda: T0
    return w


def poll(w: FeedWorker, at: datetime) -> None:
    w.clock = lambda: at
    for run in w.runs.values():
        run.next_due = 0.0  # the test drives the clock
    w.run_once()


def feed(tmp_path: Path, name: str, fmt: str, text: str | bytes, **options: object) -> dict:
    source = tmp_path / f"{name}.doc"
    source.write_bytes(text.encode() if isinstance(text, str) else text)
    return {"name": name, "url": source.as_uri(), "format": fmt, **options}


def active(store: Store, kind: AlertKind) -> set[str]:
    return {a.alert_id for a in store.read_live().alerts.values() if a.kind == kind}


def test_expired_warning_leaves_even_when_the_source_says_not_modified(
        settings: Settings, store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    w = worker(settings, tmp_path, [feed(tmp_path, "cuaca", "cap",
                                         cap_doc("amb-1", AMBON_POLY, T0 + timedelta(hours=3)))])
    poll(w, T0)
    assert active(store, AlertKind.WEATHER) == {"cap-amb-1"}
    poll(w, T0 + timedelta(hours=2))
    assert w.runs["cuaca"].validators.etag  # the file did not change: the poll got a 304
    assert active(store, AlertKind.WEATHER) == {"cap-amb-1"}
    with caplog.at_level(logging.INFO):
        poll(w, T0 + timedelta(hours=4))
        poll(w, T0 + timedelta(hours=5))
    assert active(store, AlertKind.WEATHER) == set()
    drops = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(drops) == 1 and "expired" in drops[0]  # logged once, with why


def test_a_second_cap_feed_does_not_clear_ambons_warning(settings: Settings, store: Store,
                                                        tmp_path: Path) -> None:
    far = T0 + timedelta(hours=6)
    w = worker(settings, tmp_path, [
        feed(tmp_path, "cuaca-maluku", "cap", cap_doc("amb-1", AMBON_POLY, far)),
        feed(tmp_path, "cuaca-jakarta", "cap", cap_doc("jkt-1", JAKARTA_POLY, far))])
    for minutes in (0, 1, 2):
        poll(w, T0 + timedelta(minutes=minutes))
        assert active(store, AlertKind.WEATHER) == {"cap-amb-1"}
    (tmp_path / "cuaca-maluku.doc").write_text(cap_doc("amb-2", JAKARTA_POLY, far))  # lifted
    poll(w, T0 + timedelta(minutes=3))
    assert active(store, AlertKind.WEATHER) == set()


def quake_doc(at: datetime, dirasakan: str = "III Ambon") -> str:
    doc = json.loads((REAL / "bmkg" / "autogempa-dompu-2021.json").read_text())
    doc["Infogempa"]["gempa"].update(DateTime=at.isoformat(), Coordinates="-3.52,128.33",
                                     Lintang="3.52 LS", Bujur="128.33 BT", Dirasakan=dirasakan)
    return json.dumps(doc)


def test_old_quake_leaves_on_304_and_a_felt_quake_in_two_feeds_is_one_alert(
        settings: Settings, store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    autogempa = quake_doc(T0)
    felt = json.loads(autogempa)
    felt["Infogempa"]["gempa"] = [felt["Infogempa"]["gempa"]]  # gempadirasakan: a list
    w = worker(settings, tmp_path, [feed(tmp_path, "gempa", "bmkg-json", autogempa),
                                    feed(tmp_path, "dirasakan", "bmkg-json", json.dumps(felt))])
    poll(w, T0 + timedelta(minutes=5))
    poll(w, T0 + timedelta(minutes=6))
    assert active(store, AlertKind.EARTHQUAKE) == {"bmkg-gempa-20261124T010000"}
    raised = [e for e in store.events(200) if e["kind"] == "alert_raised"]
    assert len(raised) == 1  # once, although two documents carry it on every poll
    with caplog.at_level(logging.INFO):
        poll(w, T0 + timedelta(hours=7))  # both files unchanged: 304
        poll(w, T0 + timedelta(hours=8))
    assert active(store, AlertKind.EARTHQUAKE) == set()
    drops = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(drops) == 1 and "more than 6 h ago" in drops[0]  # once, with why


def open311_doc(*records: dict) -> str:
    base = json.loads((REAL / "open311" / "rostock-klarschiff-requests-2020.json").read_text())[1]
    return json.dumps([{**base, **r} for r in records])


def test_feed_status_is_honest(settings: Settings, store: Store, tmp_path: Path) -> None:
    src = feed(tmp_path, "laporan", "open311-json",
               open311_doc({"service_request_id": "a", "lat": "-3.69", "long": "128.18"},
                           {"service_request_id": "b"}),
               agencies={"Amt für Verkehrsanlagen": "dishub"})
    w = worker(settings, tmp_path, [src])
    poll(w, T0)
    status = store.get(FeedStatus, "laporan")
    assert (status.ok, status.records, status.rejected, status.dead_letters) == (True, 2, 0, 0)
    assert status.unmapped == {"service_code 5 / bauliche Gefahrenstelle": 2}
    # every record of the next document is unusable: degraded at once, not "ok"
    Path(src["url"][7:]).write_text(open311_doc({"service_request_id": None}, {"status": "lost"}))
    poll(w, T0 + timedelta(minutes=1))
    status = store.get(FeedStatus, "laporan")
    assert not status.ok and status.degraded and status.records == 0 and status.rejected == 2
    assert status.last_error.startswith("all 2 records rejected")
    assert any(a.kind is AlertKind.FEED_DEGRADED for a in store.read_live().alerts.values())
    poll(w, T0 + timedelta(minutes=1, seconds=30))  # unchanged (304): still that document
    status = store.get(FeedStatus, "laporan")
    assert not status.ok and status.degraded and status.last_error.startswith("all 2 records")
    # a good document clears the error; records describe that document, dead letters add up
    Path(src["url"][7:]).write_text(open311_doc({"service_request_id": "c"}))
    poll(w, T0 + timedelta(minutes=2))
    status = store.get(FeedStatus, "laporan")
    assert status.ok and not status.degraded and status.last_error is None
    assert (status.records, status.rejected, status.dead_letters) == (1, 0, 2)
    report = status_report(store.read_live(), settings)["feeds"]["laporan"]
    assert report["dead_letters"] == 2 and report["degraded"] is False
    assert report["unmapped"] == {"service_code 5 / bauliche Gefahrenstelle": 1}


def test_size_cap_error_names_the_file_and_max_bytes(settings: Settings, store: Store,
                                                     tmp_path: Path) -> None:
    src = feed(tmp_path, "besar", "open311-json", open311_doc({"service_request_id": "a"}),
               max_bytes=100)
    w = worker(settings, tmp_path, [src])
    poll(w, T0)
    error = store.get(FeedStatus, "besar").last_error
    assert str(tmp_path / "besar.doc") in error and "max_bytes=100" in error


def location_bundle(status: str, description: str = "") -> str:
    doc = json.loads((REAL / "fhir" / "hl7-location-example.json").read_text())
    doc.update(id="0b1c6f0e-5f55-4d87-9a47-8f0c5b0a1d11", status=status, description=description,
               hoursOfOperation=[{"daysOfWeek": ["mon", "tue", "wed", "thu", "fri", "sat"],
                                  "openingTime": "07:30:00", "closingTime": "14:00:00"}])
    return json.dumps({"resourceType": "Bundle", "entry": [{"resource": doc}]})


def test_fhir_closure_holds_until_a_document_lifts_it(settings: Settings, store: Store,
                                                      tmp_path: Path) -> None:
    src = feed(tmp_path, "lokasi", "fhir-location", location_bundle("suspended", "Renovasi gedung"))
    w = worker(settings, tmp_path, [src])
    site = w.registry.puskesmas[0]
    w.registry = w.registry.model_copy(update={"puskesmas": [
        site.model_copy(update={"satusehat_id": "0b1c6f0e-5f55-4d87-9a47-8f0c5b0a1d11"}),
        *w.registry.puskesmas[1:]]})
    poll(w, T0)
    for days in (0, 1, 9):  # the same unchanged document (304) days later: still closed
        poll(w, T0 + timedelta(days=days))
        held = store.get(SiteSchedule, site.id)
        assert held.closed_reason == "Renovasi gedung" and held.hours[0]["opening_time"] == "07:30"
    Path(src["url"][7:]).write_text(location_bundle("active"))
    poll(w, T0 + timedelta(days=10))
    assert store.get(SiteSchedule, site.id).closed_reason is None


def test_warning_expires_while_its_source_is_down_and_backing_off(settings: Settings, store: Store,
                                                                  tmp_path: Path) -> None:
    src = feed(tmp_path, "cuaca", "cap", cap_doc("amb-1", AMBON_POLY, T0 + timedelta(hours=1)))
    w = worker(settings, tmp_path, [src])
    poll(w, T0)
    Path(src["url"][7:]).unlink()  # the source goes away: every fetch fails from now on
    poll(w, T0 + timedelta(minutes=1))
    assert w.runs["cuaca"].next_due > w.runs["cuaca"].refreshed  # waiting out its backoff
    assert active(store, AlertKind.WEATHER) == {"cap-amb-1"}
    w.clock = lambda: T0 + timedelta(hours=2)
    w.runs["cuaca"].refreshed = float("-inf")  # as if REFRESH_EVERY_S had passed
    w.run_once()  # not due: no fetch, but its state ages
    assert store.get(FeedStatus, "cuaca").consecutive_failures == 1
    assert active(store, AlertKind.WEATHER) == set()


def test_cli_status_json_shows_dead_letters_and_unmapped_per_feed(settings: Settings, store: Store,
                                                                  tmp_path: Path) -> None:
    """`python -m workers run --only feeds --once`, then `status --json`, as real processes."""
    src = feed(tmp_path, "laporan", "open311-json",
               open311_doc({"service_request_id": "a"}, {"service_request_id": None}))
    (tmp_path / "feeds.yaml").write_text(json.dumps({"feeds": [src]}))
    env = {**os.environ, "REDIS_URL": settings.redis_url or "", "DATABASE_URL": settings.database_url,
           "SIM_ENABLED": "false", "FEEDS_PATH": str(tmp_path / "feeds.yaml"), "LOG_LEVEL": "WARNING",
           "SPOOL_DIR": str(tmp_path / "spool")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "workers", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    assert cli("run", "--only", "feeds", "--once").returncode == 0
    report = json.loads(cli("status", "--json").stdout)["feeds"]["laporan"]
    assert (report["records"], report["rejected"], report["dead_letters"]) == (1, 1, 1)
    assert report["unmapped"] == {"service_code 5 / bauliche Gefahrenstelle": 1,
                                  "agency_responsible Amt für Verkehrsanlagen": 1}
    assert report["ok"] is True and report["degraded"] is False
