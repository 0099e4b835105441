"""Incident lifecycle in SQL + Redis, response times, ingest of every feed kind (real Redis and DB)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ambon_core.domain import AlertKind, Incident, IncidentStatus, TpsState
from ambon_core.models import IncidentRecord, IncidentStatusChange, WasteTrip
from ambon_core.open_data import export_day, to_csv
from ambon_core.registry import load_registry
from ambon_core.response_times import incident_rows, response_times, summarize
from ambon_core.settings import DATA_DIR
from ambon_core.store import Store
from workers.feeds import open311
from workers.feeds.config import FeedConfig, make_feed
from workers.feeds.ingest import ingest
from workers.feeds.lifecycle import upsert_incidents

T0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
S = IncidentStatus


def inc(status: S, minutes: int, **kw: object) -> Incident:
    base = {"incident_id": "open311-1", "category": "banjir", "title": "Banjir", "agencies": ["bpbd"],
            "lat": -3.69, "lon": 128.18, "reported_at": T0, "updated_at": T0 + timedelta(minutes=minutes)}
    return Incident(status=status, **{**base, **kw})


def test_upsert_is_idempotent_and_never_moves_backwards(session: Session, store: Store) -> None:
    t = {"open311-1": {S.DISPATCHED: T0 + timedelta(minutes=5)}}
    upsert_incidents(session, store, [inc(S.DISPATCHED, 5)], t)
    upsert_incidents(session, store, [inc(S.DISPATCHED, 5)], t)          # same document again
    assert session.scalar(select(func.count()).select_from(IncidentRecord)) == 1
    assert store.get(Incident, "open311-1").status is S.DISPATCHED
    # an older update arrives late: status stays, the missing verified time is filled
    report = upsert_incidents(session, store, [inc(S.VERIFIED, 2, title="lama")],
                              {"open311-1": {S.VERIFIED: T0 + timedelta(minutes=2)}})
    row = session.scalar(select(IncidentRecord))
    assert report.ignored_backwards == ["open311-1"]
    assert row.status == "dispatched" and row.title == "Banjir"
    assert row.verified_at == T0 + timedelta(minutes=2)
    # resolution removes it from the live view, the record keeps every step once
    upsert_incidents(session, store, [inc(S.RESOLVED, 90, lat=None)],
                     {"open311-1": {S.ON_SCENE: T0 + timedelta(minutes=20),
                                    S.RESOLVED: T0 + timedelta(minutes=90)}})
    assert store.get(Incident, "open311-1") is None
    session.refresh(row)
    assert row.lat == -3.69  # never overwritten with an empty value
    changes = session.scalars(select(IncidentStatusChange).order_by(IncidentStatusChange.at))
    steps = [c.status for c in changes]
    assert steps == ["new", "dispatched", "on_scene", "resolved"]


def test_response_times_pure_functions() -> None:
    rows = [{"incident_id": "a", "category": "banjir", "agencies": ["bpbd", "tni"], "reported_at": T0,
             "dispatched_at": T0 + timedelta(minutes=4), "on_scene_at": T0 + timedelta(minutes=14),
             "resolved_at": None, "closed_at": T0 + timedelta(minutes=60)},
            {"incident_id": "b", "category": "kebakaran", "agencies": ["damkar"], "reported_at": T0,
             "dispatched_at": T0 + timedelta(minutes=2), "on_scene_at": None, "resolved_at": None,
             "closed_at": None}]
    per = {r["incident_id"]: r for r in response_times(rows)}
    assert (per["a"]["call_to_dispatch"], per["a"]["dispatch_to_scene"], per["a"]["call_to_resolved"]) == (
        240, 600, 3600)
    assert per["b"]["dispatch_to_scene"] is None
    by_agency = summarize(rows, by="agency")
    assert by_agency["bpbd"]["call_to_dispatch"]["median_s"] == 240
    overall = summarize(rows)["all"]["call_to_dispatch"]
    assert overall == {"n": 2, "median_s": 180, "p90_s": 240, "mean_s": 180}
    assert set(summarize(rows, by="category")) == {"banjir", "kebakaran"}


def feed(name: str, fmt: str) -> FeedConfig:
    return make_feed(name=name, url="file:///dev/null", format=fmt)


def test_ingest_open311_sample_sql_redis_and_dead_letters(session: Session, store: Store) -> None:
    reg = load_registry()
    body = json.loads((DATA_DIR / "samples" / "open311_requests.json").read_bytes())
    body.append({**body[0], "service_request_id": "X-9", "lat": "utara", "phone": "081234567890"})
    now = datetime.now(UTC)
    out = ingest(feed("open311", "open311-json"), json.dumps(body).encode(), store=store, session=session,
                 registry=reg, now=now)
    assert out.rejects == 1 and out.records == len(body) - 1
    dead = store.events(stream="deadletter")
    assert dead[0]["feed"] == "open311" and dead[0]["reason"].startswith("lat:")
    assert "081234567890" not in dead[0]["record"]
    live = store.read_live().incidents
    rows = incident_rows(session, T0 - timedelta(days=30), now + timedelta(days=1))
    assert len(rows) == out.records
    assert set(live) == {r["incident_id"] for r in rows if S(r["status"]).is_open}
    assert summarize(rows)["all"]["call_to_dispatch"]["n"] > 0


def test_ingest_quake_weather_attendance_holidays_trips(session: Session, store: Store) -> None:
    reg = load_registry()
    samples = DATA_DIR / "samples"
    quake = json.loads((samples / "bmkg_autogempa.json").read_bytes())
    quake_time = datetime.fromisoformat(quake["Infogempa"]["gempa"]["DateTime"])
    ingest(feed("g", "bmkg-json"), json.dumps(quake).encode(), store=store, session=session, registry=reg,
           now=quake_time + timedelta(minutes=5))
    kinds = [a.kind for a in store.read_live().alerts.values()]
    assert kinds == [AlertKind.EARTHQUAKE]
    doc = json.loads((samples / "asn_attendance.json").read_bytes())
    day_now = datetime.fromisoformat(doc["tanggal"] + "T12:00:00+09:00")
    ingest(feed("a", "attendance-json"), json.dumps(doc).encode(), store=store, session=session,
           registry=reg, now=day_now)
    att = store.read_live().attendance
    assert set(att) == {p.id for p in reg.puskesmas}
    assert sum(a.staff_checked_in for a in att.values()) > 0
    assert "nama" not in json.dumps([a.model_dump(mode="json") for a in att.values()])
    ingest(feed("s", "fhir-service"), (samples / "fhir_healthcareservice_bundle.json").read_bytes(),
           store=store, session=session, registry=reg, now=datetime(2026, 11, 24, tzinfo=UTC))
    assert store.holiday(datetime(2026, 12, 25).date(), reg.puskesmas[0].id) == "Hari Raya Natal"
    trips = (samples / "dlh_trips.csv").read_bytes()
    for _ in range(2):  # idempotent
        ingest(feed("d", "dlh-trips"), trips, store=store, session=session, registry=reg, now=day_now)
    n = session.scalar(select(func.count()).select_from(WasteTrip))
    assert n == trips.count(b"\n") - 1
    first = session.scalar(select(WasteTrip).order_by(WasteTrip.trip_id))
    assert store.get(TpsState, first.tps_id).last_emptied_at is not None
    entities = export_day(session, first.emptied_at.astimezone(reg_tz()).date(), reg_tz())
    waste = [e for e in entities if e["type"] == "WasteContainer"]
    assert waste and all(e["wasteCollectedKg"] >= 0 for e in waste)
    assert "Latuconsina" not in to_csv(entities)


def reg_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Jayapura")


def test_out_of_order_documents(session: Session, store: Store) -> None:
    """A document replayed late cannot reopen what a newer one closed."""
    rec = json.loads((DATA_DIR / "samples" / "open311_requests.json").read_bytes())[0]
    ext = {**rec["extended_attributes"], "status": "closed"}
    closed = {**rec, "status": "closed", "extended_attributes": ext}
    older = {**rec, "status": "open", "extended_attributes": {"status": "verified"},
             "updated_datetime": rec["requested_datetime"]}
    for doc in ([closed], [older]):
        r = open311.parse(json.dumps(doc).encode())
        upsert_incidents(session, store, r.records, r.extra["times"])
    assert session.scalar(select(IncidentRecord.status)) == "closed"
    assert store.read_live().incidents == {}


def test_export_command_is_audited(settings, session: Session, tmp_path) -> None:
    """The open-data export writes a file and leaves an audit entry saying who and what."""
    from sqlalchemy import select

    from ambon_core.models import AuditLog
    from workers.__main__ import main

    out = tmp_path / "satudata.json"
    assert main(["export", "--day", "2026-11-23", "--format", "json", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("[")
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "export")).one()
    assert entry.actor.startswith("cli:") and entry.target == "export:satudata:2026-11-23"
