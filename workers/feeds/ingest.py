"""From a fetched body to stored state: parse by format, dead-letter rejects, write good records.

A document that cannot be read raises :class:`DocumentError` before anything is written;
rejected records are dead-lettered (redacted) and logged with feed, record id and field;
the good records of the same document are written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ambon_core.alerts import sync_alerts
from ambon_core.domain import Alert, AlertKind, Attendance, TpsState
from ambon_core.models import WasteTrip as WasteTripRow
from ambon_core.registry import Registry
from ambon_core.spool import Recorder, history_op, record
from ambon_core.store import Store
from workers.feeds import attendance, bmkg, cap, dlh, fhir, generic, office_attendance, open311
from workers.feeds.common import WIT, ParseResult
from workers.feeds.config import FeedConfig
from workers.feeds.lifecycle import upsert_incidents

log = logging.getLogger(__name__)
QUAKE_ALERT_HOURS = 6  # a felt quake stays on the dashboard this long (aftershock watch)


@dataclass(frozen=True)
class Outcome:
    records: int
    rejects: int


def parse_feed(feed: FeedConfig, body: bytes, registry: Registry, now: datetime) -> ParseResult:
    """Run the parser of ``feed.format`` (pure: no I/O)."""
    fmt, today = feed.format, now.astimezone(WIT).date()
    pkm = {p.id for p in registry.puskesmas}
    if fmt.startswith("open311"):
        return open311.parse(body, fmt.split("-")[1], source=feed.source or "open311")
    if fmt.startswith("generic"):
        return generic.parse(body, fmt.split("-")[1], feed.mapping, feed.records_path,
                             source=feed.source or feed.name)
    if fmt.startswith("bmkg"):
        return bmkg.parse(body, fmt.split("-")[1])
    if fmt == "cap":
        return cap.parse(body, now)
    if fmt == "fhir-location":
        return fhir.parse_locations(body, pkm, today)
    if fmt == "fhir-service":
        return fhir.parse_services(body, pkm)
    if fmt.startswith("attendance"):
        return attendance.parse(body, fmt.split("-")[1], pkm, today, now)
    if fmt == "dlh-trips":
        return dlh.parse(body, {t.id for t in registry.tps})
    if fmt.startswith("kehadiran"):
        return office_attendance.parse_feed(body, fmt.split("-")[1], registry, today, now)
    raise ValueError(f"no parser for format {fmt}")


def report_rejects(feed: str, result: ParseResult, store: Store) -> None:
    """Dead-letter and log every reject; log zone-less timestamps once per document."""
    for rej in result.rejects:
        store.dead_letter(feed, rej.record_text, f"{rej.field}: {rej.reason}")
        log.warning("feed %s: record %s rejected, field %s: %s", feed, rej.record_id[:80], rej.field,
                    rej.reason)
    if result.warnings:
        log.warning("feed %s: %d note(s), e.g. %s", feed, len(result.warnings), result.warnings[0])


def _quakes(store: Store, session: Recorder, new: list[Alert], now: datetime) -> None:
    keep = now - timedelta(hours=QUAKE_ALERT_HOURS)
    live = [a for a in store.read_live().alerts.values() if a.kind == AlertKind.EARTHQUAKE]
    wanted = {a.alert_id: a for a in live if a.raised_at >= keep}
    wanted.update({a.alert_id: a for a in new if a.raised_at >= keep})
    sync_alerts(store, session, [AlertKind.EARTHQUAKE], wanted.values())


def _attendance(store: Store, registry: Registry, records: list[Attendance], now: datetime) -> None:
    """The export covers every puskesmas: a site without check-ins today has 0 staff in."""
    seen = {a.puskesmas_id: a for a in records}
    store.put(*[seen.get(p.id) or Attendance(puskesmas_id=p.id, staff_checked_in=0, updated_at=now)
                for p in registry.puskesmas])


def _trips(store: Store, session: Recorder, trips: list[dlh.WasteTrip], now: datetime) -> None:
    record(session, "waste_trips", {"trips": [t.__dict__ for t in trips]})
    latest: dict[str, datetime] = {}
    for trip in trips:
        latest[trip.tps_id] = max(latest.get(trip.tps_id, trip.emptied_at), trip.emptied_at)
    states = []
    for tps_id, emptied in latest.items():
        state = store.get(TpsState, tps_id) or TpsState(tps_id=tps_id, source="dlh")
        if state.last_emptied_at is None or emptied > state.last_emptied_at:
            state.last_emptied_at, state.updated_at = emptied, now
            states.append(state)
    if states:
        store.put(*states)


@history_op("waste_trips")
def _waste_trips(session: Session, payload: dict) -> None:
    """Insert new trips, complete known ones (tonnage, TPA arrival): idempotent by trip_id."""
    trips = [dlh.WasteTrip(**{k: _when(v) if k.endswith("_at") else v for k, v in t.items()})
             for t in payload["trips"]]
    rows = {r.trip_id: r for r in session.scalars(
        select(WasteTripRow).where(WasteTripRow.trip_id.in_([t.trip_id for t in trips])))}
    for trip in trips:
        row = rows.get(trip.trip_id)
        if row is None:
            rows[trip.trip_id] = WasteTripRow(**trip.__dict__)
            session.add(rows[trip.trip_id])
            continue
        row.tonnage_kg = trip.tonnage_kg if trip.tonnage_kg is not None else row.tonnage_kg
        row.tpa_arrived_at = trip.tpa_arrived_at or row.tpa_arrived_at


def _when(value: datetime | str | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def store_result(feed: FeedConfig, result: ParseResult, *, store: Store, session: Recorder,
                 registry: Registry, now: datetime) -> None:
    """Write the good records of a parsed document."""
    fmt = feed.format
    if fmt.startswith(("open311", "generic")):
        report = upsert_incidents(session, store, result.records, result.extra.get("times"))
        if report.ignored_backwards:
            log.info("feed %s: %d out-of-order status update(s) ignored", feed.name,
                     len(report.ignored_backwards))
    elif fmt.startswith("bmkg"):
        _quakes(store, session, result.records, now)
    elif fmt == "cap":
        wanted = [a for a in result.records if a.alert_id not in result.extra["cancelled"]]
        sync_alerts(store, session, [AlertKind.WEATHER], wanted)
    elif fmt.startswith("fhir"):
        closures = {c.key: c.reason for c in result.records if isinstance(c, fhir.Closure)}
        store.put_holidays(closures, keep_after=now.astimezone(WIT).date() - timedelta(days=7))
        for hours in (h for h in result.records if isinstance(h, fhir.SiteHours)):
            known = next((p for p in registry.puskesmas if p.id == hours.puskesmas_id), None)
            if known is not None and [h.model_dump() for h in known.hours] != hours.hours:
                log.info("feed %s: %s hours differ from the registry (registry kept)", feed.name,
                         hours.puskesmas_id)
    elif fmt.startswith("attendance"):
        _attendance(store, registry, result.records, now)
    elif fmt == "dlh-trips":
        _trips(store, session, result.records, now)
    elif fmt.startswith("kehadiran"):
        store.put(*result.records)


def ingest(feed: FeedConfig, body: bytes, *, store: Store, session: Recorder, registry: Registry,
           now: datetime) -> Outcome:
    """Parse, report rejects, store; raises DocumentError for an unreadable document."""
    result = parse_feed(feed, body, registry, now)
    report_rejects(feed.name, result, store)
    store_result(feed, result, store=store, session=session, registry=registry, now=now)
    return Outcome(len(result.records), len(result.rejects))
